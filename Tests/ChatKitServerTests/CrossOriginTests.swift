//===----------------------------------------------------------------------===//
//
// This source file is part of the ChatKit open source project
//
// Copyright (c) 2026 the ChatKit project authors
// Licensed under Apache License v2.0 (see LICENSE)
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//


import ChatKitServer
import Foundation
import Testing

/// Pages of other origins calling the HTTP API from a browser (CORS): the origins configured get the preflight
/// answers and the `Access-Control-Allow-Origin` header, on failures too; any other origin gets neither, and
/// nothing is allowed by default. Over the real HTTP server, as a browser sends them.
@Suite("Cross-origin requests to the HTTP API")
struct CrossOriginTests {
    private static let page = "https://chat.example.com"

    private static func allowing(_ origins: [String]) -> HTTPRoutes.Configuration {
        HTTPRoutes.Configuration(
            signUpBurst: 1, signUpInterval: .seconds(3600), logInBurst: 100, allowedOrigins: origins
        )
    }

    @Test func aPreflightFromAnAllowedOriginIsAnswered() async throws {
        try await LiveServer.run(httpConfiguration: Self.allowing([Self.page, "http://localhost:3000"])) { live in
            let preflight = try await live.http(
                "OPTIONS", "/v1/requests",
                headers: [
                    "Origin": Self.page, "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type",
                ]
            )
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == Self.page)
            let headers = preflight.header("Access-Control-Allow-Headers")?.lowercased() ?? ""
            #expect(headers.contains("authorization") && headers.contains("content-type"))
            #expect(preflight.header("Access-Control-Allow-Methods")?.contains("POST") == true)
            #expect(preflight.header("Access-Control-Max-Age") == "600")
            #expect(preflight.header("Access-Control-Allow-Credentials") == nil)
            // A path with a parameter, and the other allowed origin.
            let history = try await live.http(
                "OPTIONS", "/v1/conversations/c1/messages",
                headers: ["Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"]
            )
            #expect(history.status == 204)
            #expect(history.header("Access-Control-Allow-Origin") == "http://localhost:3000")
        }
    }

    @Test func answersToAnAllowedOriginCarryTheHeaderOnFailuresToo() async throws {
        try await LiveServer.run(httpConfiguration: Self.allowing([Self.page])) { live in
            let signUp = try await live.http(
                "POST", "/v1/auth/signup", json: ["username": "alice", "password": "correct horse battery"],
                headers: ["Origin": Self.page]
            )
            #expect(signUp.status == 201)
            #expect(signUp.header("Access-Control-Allow-Origin") == Self.page)
            #expect(signUp.header("Vary")?.contains("Origin") == true)

            let unauthenticated = try await live.http("GET", "/v1/conversations", headers: ["Origin": Self.page])
            #expect(unauthenticated.status == 401)
            #expect(unauthenticated.header("Access-Control-Allow-Origin") == Self.page)
            #expect(unauthenticated.header("Access-Control-Expose-Headers")?.contains("WWW-Authenticate") == true)

            // The page can read how long to wait before it signs up again (a burst of 1 here).
            let limited = try await live.http(
                "POST", "/v1/auth/signup", json: ["username": "bob", "password": "correct horse battery"],
                headers: ["Origin": Self.page]
            )
            #expect(limited.status == 429)
            #expect(limited.header("Access-Control-Allow-Origin") == Self.page)
            #expect(limited.header("Access-Control-Expose-Headers")?.contains("Retry-After") == true)
            #expect(limited.retryAfter != nil)

            let missing = try await live.http("GET", "/no/such/path", headers: ["Origin": Self.page])
            #expect(missing.status == 404)
            #expect(missing.header("Access-Control-Allow-Origin") == Self.page)
        }
    }

    @Test func anotherOriginGetsNoCrossOriginHeaders() async throws {
        try await LiveServer.run(httpConfiguration: Self.allowing([Self.page])) { live in
            for origin in ["https://evil.example.com", "https://chat.example.com:8443", "null"] {
                let preflight = try await live.http(
                    "OPTIONS", "/v1/requests", headers: ["Origin": origin, "Access-Control-Request-Method": "POST"]
                )
                #expect(preflight.status != 204, "\(origin)")
                #expect(preflight.header("Access-Control-Allow-Origin") == nil, "\(origin)")
                #expect(preflight.header("Access-Control-Allow-Methods") == nil, "\(origin)")

                let health = try await live.http("GET", "/health", headers: ["Origin": origin])
                #expect(health.status == 200)
                #expect(health.header("Access-Control-Allow-Origin") == nil, "\(origin)")
                #expect(health.header("Vary")?.contains("Origin") == true, "\(origin)")
            }
            // A request without Origin (same-origin, or no browser): no CORS headers, and Vary all the same.
            let plain = try await live.http("GET", "/health")
            #expect(plain.header("Access-Control-Allow-Origin") == nil)
            #expect(plain.header("Vary")?.contains("Origin") == true)
            // Browsers write scheme and host in lower case; a list written otherwise still matches.
            let upper = try await live.http("GET", "/health", headers: ["Origin": "https://CHAT.example.com"])
            #expect(upper.header("Access-Control-Allow-Origin") == "https://CHAT.example.com")
        }
    }

    @Test func noOriginIsAllowedByDefault() async throws {
        try await LiveServer.run { live in
            let preflight = try await live.http(
                "OPTIONS", "/v1/requests", headers: ["Origin": Self.page, "Access-Control-Request-Method": "POST"]
            )
            #expect(preflight.header("Access-Control-Allow-Origin") == nil)
            let health = try await live.http("GET", "/health", headers: ["Origin": Self.page])
            #expect(health.status == 200)
            #expect(health.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test func aStarAllowsEveryPage() async throws {
        try await LiveServer.run(httpConfiguration: Self.allowing(["*"])) { live in
            for origin in [Self.page, "http://localhost:5173", "null"] {
                let ready = try await live.http("GET", "/ready", headers: ["Origin": origin])
                #expect(ready.status == 200)
                #expect(ready.header("Access-Control-Allow-Origin") == "*", "\(origin)")
            }
            let preflight = try await live.http(
                "OPTIONS", "/v1/sync", headers: ["Origin": Self.page, "Access-Control-Request-Method": "GET"]
            )
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "*")
            // The same answer whether Origin was sent or not: nothing for a cache to keep apart.
            let plain = try await live.http("GET", "/ready")
            #expect(plain.header("Access-Control-Allow-Origin") == "*")
            #expect(plain.header("Vary") == nil)
        }
    }

    @Test func whatCountsAsAnOrigin() {
        let origins = [
            "https://chat.example.com", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:8080",
            "http://[::1]", "capacitor://localhost", "app+x://a.b", "https://xn--bcher-kva.example", "https://a:65535",
        ]
        for origin in origins {
            #expect(HTTPRoutes.Configuration.isOrigin(origin), "\(origin)")
        }
        // None of these is ever what a browser sends as Origin: an entry that could never match is refused.
        let others = [
            "chat.example.com", "https://chat.example.com/", "https://chat.example.com/app", "https://", "://host",
            "1http://host", "https://a b", "https://user@host", "https://host?x", "null", "*", "https://:80",
            "https://*.example.com", "https://a.example.com,https://b.example.com", "https://chat.example.com:443",
            "http://localhost:80", "HTTP://localhost:80", "https://host:0", "https://host:65536", "https://host:08080",
            "https://host:", "https://host:8x", "https://host:+8080", "http://[::1", "http://[zz::1]", "http://[::1]x",
            "https://bücher.example", "https://.example.com", "https://-a.example.com",
        ]
        for text in others {
            #expect(!HTTPRoutes.Configuration.isOrigin(text), "\(text)")
        }
    }

    @Test func filesAndTheirMissesCarryTheHeadersAndStillReachTheFileMiddleware() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-web-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("body {}".utf8).write(to: folder.appendingPathComponent("app.css"))
        try await LiveServer.run(
            httpConfiguration: Self.allowing([Self.page]), webFiles: WebFiles(directory: folder.path)
        ) { live in
            let file = try await live.http("GET", "/app.css", headers: ["Origin": Self.page])
            #expect(file.status == 200)
            #expect(file.header("Access-Control-Allow-Origin") == Self.page)
            let missing = try await live.http("GET", "/nothing.css", headers: ["Origin": Self.page])
            #expect(missing.status == 404)
            #expect(missing.header("Access-Control-Allow-Origin") == Self.page)
            // Without Origin the answer is the same file, and says that it depends on Origin.
            let plain = try await live.http("GET", "/app.css")
            #expect(plain.status == 200)
            #expect(plain.header("Access-Control-Allow-Origin") == nil)
            #expect(plain.header("Vary")?.contains("Origin") == true)
        }
        // Mounted with the file middleware outside the CORS one (the other order than HTTP.md asks for): a miss
        // thrown through CORS is still a miss to the file middleware, which serves the file.
        let routes = HTTPRoutes(auth: nil, configuration: Self.allowing([Self.page]))
        let embedded = WebSocketEmbeddingTests.Embedded(httpConfiguration: Self.allowing([Self.page])) { router in
            WebFiles(directory: folder.path).addMiddleware(to: router)
            routes.addCrossOriginMiddleware(to: router)
        }
        try await embedded.serving { live in
            let file = try await live.http("GET", "/app.css", headers: ["Origin": Self.page])
            #expect(file.status == 200)
            #expect(String(decoding: file.data, as: UTF8.self) == "body {}")
            let api = try await live.http("GET", "/v1/conversations", headers: ["Origin": Self.page])
            #expect(api.status == 401)
            #expect(api.header("Access-Control-Allow-Origin") == Self.page)
        }
    }
}
