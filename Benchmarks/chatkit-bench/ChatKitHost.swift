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
import ChatKitSQLite
import ChatKitServer
import Foundation
import Logging

/// Which store an in-process ChatKit server uses.
enum StoreKind: String, CaseIterable, Sendable {
    case memory, sqlite
}

/// A ChatKit server in this process: `ChatServer` on one or more `WebSocketServerTransport`s on 127.0.0.1 with free
/// ports (the first also serves the HTTP routes), with limits raised so that the benchmark measures throughput, not
/// the per-user rate limit.
enum ChatKitHost {
    static let secret = Array("chatkit-bench: a signing secret long enough for HS256".utf8)

    struct Options: Sendable {
        var store: StoreKind = .memory
        var ports = 1
        /// SQLite's `synchronous` pragma: `normal` (the store's default) or `full`.
        var synchronousFull = false
    }

    /// The server configuration the benchmark runs with: default limits except rate and size limits.
    static var serverConfiguration: ChatServerConfiguration {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 100_000_000
        configuration.limits.maxMembers = 1_000_000
        configuration.helloTimeout = .seconds(120)
        return configuration
    }

    /// Starts a server, runs `body` with it, then stops it.
    static func run<T: Sendable>(
        _ options: Options,
        _ body: @Sendable (ChatKitTarget) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("chatkit-bench-\(UInt32.random(in: .min ... .max))")
        let store: any ChatStore
        switch options.store {
        case .memory:
            store = InMemoryChatStore()
        case .sqlite:
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteChatStore(
                configuration: .init(
                    location: .file(directory.appendingPathComponent("chat.sqlite").path),
                    synchronous: options.synchronousFull ? .full : .normal
                )
            )
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "chatkit-bench.server", factory: { _ in SwiftLogNoOpLogHandler() })
        let auth = AuthService(
            store: store, secret: secret,
            configuration: .init(accessTokenLifetime: .seconds(24 * 3600), bcryptCost: 4)
        )
        let (ports, portContinuation) = AsyncStream.makeStream(of: (index: Int, port: Int).self)
        let transports = (0..<max(1, options.ports)).map { index in
            WebSocketServerTransport(
                configuration: .init(host: "127.0.0.1", port: 0, maxFrameSize: 1 << 22, maxMessageSize: 1 << 22),
                httpRoutes: index == 0
                    ? HTTPRoutes(
                        auth: auth, store: store,
                        configuration: .init(
                            signUpBurst: 1_000_000, signUpInterval: .milliseconds(1), logInBurst: 1_000_000,
                            logInInterval: .milliseconds(1)
                        ), logger: logger
                    ) : nil,
                logger: logger,
                onListening: { _, port in portContinuation.yield((index, port)) }
            )
        }
        let server = ChatServer(
            store: store, transports: transports, authenticators: [auth.authenticator],
            configuration: serverConfiguration, logger: logger
        )
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                // A server that stops (fails to start) ends the wait for its ports instead of leaving it hanging.
                defer { portContinuation.finish() }
                try await server.run()
                return nil
            }
            // Listening order is not creation order; the first URL must be the port with the HTTP routes.
            var bound = [Int](repeating: 0, count: transports.count)
            var listening = 0
            for await (index, port) in ports {
                bound[index] = port
                listening += 1
                if listening == transports.count { break }
            }
            guard listening == transports.count else {
                // The server's own error, if it threw one.
                while let _ = try await group.next() {}
                throw BenchError("The server stopped before listening on every port.")
            }
            let target = ChatKitTarget(
                label: "chatkit-\(options.store.rawValue)",
                webSocketURLs: bound.map { "ws://127.0.0.1:\($0)/v1/ws" },
                httpBaseURL: "http://127.0.0.1:\(bound[0])",
                auth: auth,
                serverPID: getpid()
            )
            let result = try await body(target)
            group.cancelAll()
            return result
        }
    }
}
