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
import Testing

@Suite("Many concurrent connections")
struct ManyConnectionsTests {
    /// 500 clients, each on its own socket, all in one channel: every one receives every broadcast, in order.
    @Test func fiveHundredConcurrentConnectionsAllReceiveEveryBroadcast() async throws {
        let count = 500
        try await LiveServer.run { live in
            // Accounts straight from the service: 500 sign-ups over HTTP would only test the sign-up limit.
            var tokens: [AuthTokens] = []
            for index in 0..<count {
                tokens.append(
                    try await live.auth.signUp(username: "user\(index)", password: "correct horse battery", displayName: nil)
                )
            }
            // Connect all at once; clients[i] is tokens[i]'s user.
            let clients = try await withThrowingTaskGroup(of: (Int, TestClient).self) { group in
                for (index, token) in tokens.enumerated() {
                    group.addTask { (index, try await live.connect(token.accessToken)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }.sorted { $0.0 < $1.0 }.map(\.1)
            }
            #expect(live.transport.connectionCount == count)
            #expect(live.server.connectionCount == count)

            let owner = clients[0]
            let channel = try await owner.client.createChannel("Everyone", members: tokens.dropFirst().map(\.user.id))
            // Three senders at once; every member must see all nine messages, gapless and in seq order.
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for sender in clients.suffix(3) {
                    senders.addTask {
                        for number in 1...3 { _ = try await sender.client.send("broadcast \(number)", to: channel.id) }
                    }
                }
                try await senders.waitForAll()
            }
            try await withThrowingTaskGroup(of: Void.self) { receivers in
                for client in clients {
                    receivers.addTask {
                        try await client.waitFor("nine broadcasts") { events in
                            TestClient.bodies(in: channel.id, events).count >= 9
                        }
                        let seqs = client.storedEvents.filter { $0.kind == .messageCreated }.compactMap(\.message?.seq)
                        #expect(seqs == Array(1...9))
                    }
                }
                try await receivers.waitForAll()
            }
            for client in clients { await client.disconnect() }
            try await live.waitUntilConnections(0)
        }
    }
}
