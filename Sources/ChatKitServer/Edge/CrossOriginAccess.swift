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


public import Hummingbird

extension HTTPRoutes {
    /// Adds the answers to cross-origin requests (CORS) that ``Configuration/allowedOrigins`` allows to a router:
    /// the preflight `OPTIONS` requests a browser sends before calling an endpoint from another origin's page, and
    /// the `Access-Control-Allow-Origin` header on the answers. Does nothing when no origin is allowed.
    ///
    /// A standalone ``WebSocketServerTransport`` calls it. On your own router call it before ``addRoutes(to:)``: a
    /// router's middleware applies to the routes added after it, and to every path's preflight, yours included.
    ///
    /// - Parameter router: Your application's HTTP router.
    public func addCrossOriginMiddleware<Context: RequestContext>(to router: Router<Context>) {
        guard !configuration.allowedOrigins.isEmpty else { return }
        router.add(middleware: CrossOriginMiddleware<Context>(allowedOrigins: configuration.allowedOrigins))
    }
}

extension HTTPRoutes.Configuration {
    /// Whether `text` is an origin ``allowedOrigins`` takes: a scheme, `://` and a host with an optional port,
    /// such as `https://chat.example.com` or `http://localhost:3000`; no path, not even `/`.
    public static func isOrigin(_ text: String) -> Bool {
        guard let separator = text.firstRange(of: "://") else { return false }
        let scheme = text[..<separator.lowerBound]
        let authority = text[separator.upperBound...]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return false }
        return !authority.isEmpty && !authority.hasPrefix(":")
            && authority.allSatisfy { $0.isASCII && !$0.isWhitespace && !"/?#@\\".contains($0) }
    }
}

/// Answers cross-origin requests from the origins of a list. Preflights go to Hummingbird's `CORSMiddleware`; the
/// headers of the other answers are set here, failures included, because that middleware leaves
/// `Access-Control-Expose-Headers` off them (where browsers read it). A request from any other origin passes through
/// without CORS headers, so its browser keeps the answer from the page; `Vary: Origin` tells caches why.
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The allowed origins, lowercased (browsers write scheme and host in lower case).
    private let origins: Set<String>
    /// Whether `*` was allowed: any page.
    private let anyOrigin: Bool
    private let preflight: CORSMiddleware<Context>
    /// The headers of an answer a page may read beyond the simple ones.
    static var exposedHeaders: String { "Retry-After, WWW-Authenticate" }

    init(allowedOrigins: [String]) {
        anyOrigin = allowedOrigins.contains("*")
        origins = Set(allowedOrigins.map { $0.lowercased() })
        preflight = CORSMiddleware(
            allowOrigin: anyOrigin ? .all : .originBased,
            allowHeaders: [.accept, .authorization, .contentType],
            allowMethods: [.get, .head, .post, .options],
            allowCredentials: false,
            exposedHeaders: [Self.exposedHeaders],
            maxAge: .seconds(600)
        )
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = anyOrigin || origins.contains(origin.lowercased())
        if allowed && request.method == .options {
            return try await preflight.handle(request, context: context, next: next)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        if allowed {
            response.headers[.accessControlAllowOrigin] = anyOrigin ? "*" : origin
            response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        }
        if !anyOrigin {
            response.headers[values: .vary].append("Origin")
        }
        return response
    }
}
