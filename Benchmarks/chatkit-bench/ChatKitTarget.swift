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

import ChatKitCore
import ChatKitServer
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A ChatKit server to drive: where its WebSockets are, and how to get accounts on it.
struct ChatKitTarget: Sendable {
    /// `chatkit-memory`, `chatkit-sqlite` or `chatkit-url`.
    var label: String
    /// One URL per listening port; connections are spread over them.
    var webSocketURLs: [String]
    /// Where the HTTP routes are (sign-up for a server in another process).
    var httpBaseURL: String
    /// The server's own account service when it runs in this process (sign-ups skip HTTP).
    var auth: AuthService?
    /// The process the server runs in (for its CPU time and RSS).
    var serverPID: Int32

    /// The WebSocket URL for the `index`th connection.
    func url(_ index: Int) -> String { webSocketURLs[index % webSocketURLs.count] }

    /// A server in another process, at `url` (`ws://host:port/v1/ws`, repeatable for several ports).
    static func remote(urls: [String], pid: Int32?) -> ChatKitTarget {
        let first = URL(string: urls[0])!
        return ChatKitTarget(
            label: "chatkit-url", webSocketURLs: urls,
            httpBaseURL: "http://\(first.host ?? "127.0.0.1"):\(first.port ?? 80)", auth: nil, serverPID: pid ?? 0
        )
    }

    /// Signs up `count` fresh users (bcrypt cost 4 in process) and returns their tokens.
    func makeUsers(_ count: Int, prefix: String) async throws -> [AuthTokens] {
        let run = String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
        return try await concurrentMap(count, limit: 16) { index in try await signUp("\(prefix)\(run)\(index)") }
    }

    private func signUp(_ username: String) async throws -> AuthTokens {
        let password = "benchmark password"
        if let auth { return try await auth.signUp(username: username, password: password) }
        var request = URLRequest(url: URL(string: httpBaseURL + "/v1/auth/signup")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONEncoder().encode(["username": username, "password": password])
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 201 else {
            throw BenchError("Sign-up of \(username) failed: \(String(decoding: data, as: UTF8.self))")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(AuthTokens.self, from: data)
    }
}

/// A benchmark that cannot go on, with the reason.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
