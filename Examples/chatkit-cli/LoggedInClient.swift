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

import ArgumentParser
import ChatKitClient
import ChatKitCore
import Foundation

/// Opens a ChatKit session with the stored login, refreshing the access token first when it is about to expire.
struct LoggedInClient {
    let options: GlobalOptions

    /// The stored login, with a fresh access token (refreshed when it is about to expire, or when `forceRefresh`).
    ///
    /// The read, the refresh and the save are made holding the home's login lock, so that processes sharing the
    /// home refresh one at a time, each with the newest token (``SessionFile``).
    func login(forceRefresh: Bool = false) async throws -> StoredLogin {
        let file = options.sessionFile
        let lock = try await file.lockLogin()
        defer { lock.release() }
        var login = try file.load()
        guard login.server == options.baseURL else {
            throw ValidationError("You are logged in to \(login.server), not \(options.baseURL): log in again.")
        }
        if forceRefresh || login.accessTokenExpiresAt.timeIntervalSinceNow < 30 {
            let tokens: AccountAPI.Tokens
            do {
                tokens = try await AccountAPI(baseURL: options.baseURL).refresh(login.refreshToken)
            } catch let error as ChatError where error.code == .unauthenticated {
                // A login saved meanwhile by a process that did not wait for the lock (a `login`, a `password`)
                // is the one to go on with; only the login that was refused goes.
                if let saved = try? file.load(), saved.refreshToken != login.refreshToken {
                    guard saved.server == options.baseURL else {
                        throw ValidationError(
                            "You are logged in to \(saved.server), not \(options.baseURL): log in again."
                        )
                    }
                    return saved
                }
                // The login goes; the live chat's outbox stays, for the same user's next login to send.
                file.removeLogin()
                // A ChatError `unauthenticated`: the live chat's client stops on it, rather than retrying.
                throw ChatError(.unauthenticated, "Your login has ended (\(error.reason ?? "expired")): log in again.")
            }
            login.accessToken = tokens.accessToken
            login.accessTokenExpiresAt = tokens.accessTokenExpiresAt
            login.refreshToken = tokens.refreshToken
            try file.save(login)
        }
        return login
    }

    /// Runs `body` with a connected client; the session closes when `body` returns.
    ///
    /// - Parameter reconnecting: Whether the client reconnects when the connection drops (for the live chat), asking
    ///   for a refreshed token when the server refuses the old one. Without it, a dropped connection fails the
    ///   command.
    /// The command ends with the client's error when the client stops for good first (the login ended).
    func withClient<Result: Sendable>(
        reconnecting: Bool = false,
        _ body: @escaping @Sendable (ChatClient, StoredLogin) async throws -> Result
    ) async throws -> Result {
        let login = try await login()
        let transport = WebSocketClientTransport(url: options.webSocketURL)
        let client: ChatClient
        // The live chat's outbox file is its own while it runs: a second chat of the user here is refused.
        let chatLock =
            reconnecting ? try options.sessionFile.lockChat(for: login.userID, username: login.username) : nil
        defer { chatLock?.release() }
        if reconnecting {
            let session = self
            var configuration = ChatClient.Configuration()
            configuration.outboxStorage = try options.sessionFile.outboxStorage(for: login.userID)
            let user = login.userID
            client = ChatClient(transport: transport, configuration: configuration) { refresh in
                // The login this chat started with, or none: logged out meanwhile (the file is gone), or logged in
                // as someone else in the same home (the chat must not go on as them), the chat stops.
                let current: StoredLogin
                do {
                    current = try await session.login(forceRefresh: refresh)
                } catch let error as ValidationError {
                    throw ChatError(.unauthenticated, "\(error.message)")
                }
                guard current.userID == user else {
                    throw ChatError(.unauthenticated, "Another user logged in here since: log in again.")
                }
                return current.accessToken
            }
        } else {
            do {
                let client = ChatClient(transport: transport, token: login.accessToken, configuration: .singleSession)
                return try await Self.serve(client, login, reconnecting: false, body)
            } catch is TokenRefused {
                // A token that this machine's clock took for valid, refused by the server (its clock is ahead, or
                // it signs with another key since a restart): refreshed, and tried once more.
                let refreshed = try await self.login(forceRefresh: true)
                // Another user's login saved here meanwhile is not the one the command was given.
                guard refreshed.userID == login.userID else {
                    throw ChatError(.unauthenticated, "Another user logged in here since: run the command again.")
                }
                let client = ChatClient(
                    transport: transport, token: refreshed.accessToken, configuration: .singleSession
                )
                do {
                    return try await Self.serve(client, refreshed, reconnecting: false, body)
                } catch let refusedAgain as TokenRefused {
                    throw refusedAgain.error
                }
            }
        }
        return try await Self.serve(client, login, reconnecting: true, body)
    }

    /// A session refused at `hello` with `unauthenticated`: the token, not the request, was refused.
    private struct TokenRefused: Error {
        var error: ChatError
    }

    /// Runs `client` and, once its first session is open, `body`; ends with the body's result or the error of the
    /// first to fail. A first session refused with `unauthenticated` throws ``TokenRefused``.
    private static func serve<Result: Sendable>(
        _ client: ChatClient,
        _ login: StoredLogin,
        reconnecting: Bool,
        _ body: @escaping @Sendable (ChatClient, StoredLogin) async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await client.run()
                return nil
            }
            if reconnecting {
                try await Self.firstSession(of: client)
            } else {
                do {
                    try await client.connected()
                } catch let error as ChatError where error.code == .unauthenticated {
                    throw TokenRefused(error: error)
                }
            }
            group.addTask { try await body(client, login) }
            defer { group.cancelAll() }
            // The body's result, or the error of the first to fail; a client that ended without one (a single
            // session closed) leaves the body to finish (its requests then fail).
            while let finished = try await group.next() {
                if let result = finished { return result }
            }
            throw CancellationError()
        }
    }
}

extension LoggedInClient {
    /// Waits for a reconnecting client's first session, and fails, as a single-session client does, when its first
    /// try fails: the client would otherwise retry for ever while the command printed nothing and read nothing (a
    /// server that is down, a wrong URL). Reconnecting is for a connection lost once open.
    fileprivate static func firstSession(of client: ChatClient) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = try await client.connected()
                return true
            }
            group.addTask {
                for await state in client.connectionStateUpdates() where state.reconnectDelay != nil {
                    throw client.lastConnectionError ?? ChatError(.unavailable, "Could not connect to the server.")
                }
                return false  // The updates ended (the client was released): `connected()` answers.
            }
            defer { group.cancelAll() }
            while let isConnected = try await group.next(), !isConnected {}
        }
    }
}

extension ChatClient {
    /// The conversation a command names: a conversation ID, or a username for the direct chat with that user
    /// (created if needed).
    func conversation(named target: String) async throws -> Conversation {
        if let user = try await findUser(username: target) {
            return try await createDirectConversation(with: user.id)
        }
        do {
            return try await conversation(ConversationID(rawValue: target))
        } catch let error as ChatError where error.code == .notFound {
            throw ValidationError("'\(target)' is neither a username nor one of your conversations.")
        }
    }
}
