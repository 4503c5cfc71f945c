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

import ChatKitClient
import ChatKitCore
import ChatKitServer
import Foundation
import Testing

/// The members of one group, each with a reconnecting client, on a SQLite server that they reach through a relay
/// able to cut every socket at once: the set-up of the tests of what happens while connections are cut.
struct GroupUnderCuts: Sendable {
    let relay: TCPRelay
    /// One client per member, connected; the first created the group (its owner).
    let clients: [TestClient]
    /// The members' user IDs, in the same order.
    let userIDs: [UserID]
    /// The position each client's first session opened at, in the same order: it gets every event of its user after
    /// it (live, or in a catch-up after a cut), and none before.
    let openedAt: [StreamPosition]
    let group: ConversationID

    /// Signs `members` up on a new SQLite file, connects a client for each and makes them a group, runs `body`, then
    /// stops everything and removes the file.
    static func run(members: [String], _ body: @Sendable (GroupUnderCuts) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cuts-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SQLiteLiveServer.run(path: directory.appendingPathComponent("chat.sqlite").path) { url, auth in
            let port = try #require(URL(string: url)?.port)
            try await TCPRelay.run(to: port) { relay in
                var tokens: [AuthTokens] = []
                for name in members {
                    tokens.append(try await auth.signUp(username: name, password: "correct horse battery"))
                }
                let clients = tokens.map { tokens in
                    TestClient(
                        ChatClient(
                            // A cut during a reconnection's upgrade is noticed only at the connect timeout (see
                            // `connectTimeout`): short, so that such a cut costs the test seconds, not thirty
                            // (and long enough for an upgrade on a loaded machine).
                            transport: WebSocketClientTransport(
                                url: "ws://127.0.0.1:\(relay.port)/v1/ws",
                                configuration: .init(connectTimeout: .seconds(5))
                            ),
                            token: tokens.accessToken, configuration: ReconnectingClientTests.fast
                        )
                    )
                }
                let openedAt = try await withTimeout("every session") {
                    var positions: [StreamPosition] = []
                    for client in clients { positions.append(try await client.client.connected().position) }
                    return positions
                }
                let group = try await clients[0].client.createGroup(
                    "Cuts", members: tokens.dropFirst().map(\.user.id)
                ).id
                try await body(
                    GroupUnderCuts(
                        relay: relay, clients: clients, userIDs: tokens.map(\.user.id), openedAt: openedAt, group: group
                    )
                )
            }
        }
    }
}
