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
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The server's account endpoints (`/v1/auth/...`) over HTTP.
struct AccountAPI {
    let baseURL: String

    /// What signup, login and refresh answer.
    struct Tokens: Decodable {
        var accessToken: String
        var accessTokenExpiresAt: Date
        var refreshToken: String
        var user: User
    }

    /// The server's JSON error answer.
    private struct Failure: Decodable {
        var code: String
        var message: String
    }

    func signUp(username: String, password: String, displayName: String?) async throws -> Tokens {
        var body = ["username": username, "password": password]
        if let displayName { body["displayName"] = displayName }
        return try await post("/v1/auth/signup", body: body)
    }

    func logIn(username: String, password: String) async throws -> Tokens {
        try await post("/v1/auth/login", body: ["username": username, "password": password])
    }

    func refresh(_ refreshToken: String) async throws -> Tokens {
        try await post("/v1/auth/refresh", body: ["refreshToken": refreshToken])
    }

    /// Changes the password; the answer is a new session's tokens (every other session of the user ends).
    func changePassword(current: String, new: String, accessToken: String) async throws -> Tokens {
        let body = ["currentPassword": current, "newPassword": new]
        guard let tokens: Tokens = try await send("/v1/auth/password", body: body, bearer: accessToken) else {
            throw ChatError(.storageFailure, "The server answered /v1/auth/password without a body.")
        }
        return tokens
    }

    /// Ends the session of `refreshToken` (no access token needed: an expired one would take a refresh first).
    func logOut(refreshToken: String) async throws {
        let _: Empty? = try await send("/v1/auth/logout", body: ["refreshToken": refreshToken], bearer: nil)
    }

    private struct Empty: Decodable {}

    /// Whether `error` says that no answer came (the server could not be reached, or took too long), rather than
    /// an answer that refused or failed (a busy server's 503, a proxy's 502).
    static func isUnanswered(_ error: ChatError) -> Bool {
        error.code == .unavailable && error.underlying != nil
    }

    private func post<Answer: Decodable>(_ path: String, body: [String: String]) async throws -> Answer {
        guard let answer: Answer = try await send(path, body: body, bearer: nil) else {
            throw ChatError(.storageFailure, "The server answered \(path) without a body.")
        }
        return answer
    }

    private func send<Answer: Decodable>(_ path: String, body: [String: String]?, bearer: String?) async throws
        -> Answer?
    {
        guard let url = URL(string: baseURL + path) else {
            throw ChatError(.invalidArgument, "'\(baseURL)' is not a server URL such as http://127.0.0.1:8080.")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let body { request.httpBody = try JSONEncoder().encode(body) }
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            // With the transport's error as `underlying`: no answer came (``isUnanswered(_:)``).
            throw ChatError(
                .unavailable, "Could not reach \(baseURL): \(error.localizedDescription)", underlying: error
            )
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        guard (200..<300).contains(status) else {
            let failure = try? decoder.decode(Failure.self, from: data)
            let code = failure.flatMap { ChatError.Code(wireValue: $0.code) } ?? .unavailable
            // The server's words reach the terminal: escaped, as everything the server sends is.
            let message = failure.map { TerminalText.inline($0.message) }
            throw ChatError(code, message ?? "The server answered HTTP \(status).")
        }
        return data.isEmpty ? nil : try decoder.decode(Answer.self, from: data)
    }
}
