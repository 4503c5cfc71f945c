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
import Synchronization
import Testing

/// Several members of a group sending at once while the network drops under them, over real sockets on a SQLite
/// file: what each promise of delivery (outbox, resend with the same client message ID, resync after reconnecting,
/// per-conversation order) adds up to when they all happen together.
@Suite("Delivery while connections are cut")
struct DeliveryUnderCutsTests {
    static let members = ["alice", "bob", "carol", "dave"]
    static let messagesEach = 30

    @Test("four members sending while their sockets are cut at nine moments all end with every message once, in order")
    func everyMemberGetsEveryMessageOnce() async throws {
        try await GroupUnderCuts.run(members: Self.members) { setUp in
            let (relay, clients, group) = (setUp.relay, setUp.clients, setUp.group)
            // Each member sends its messages one after another (each `send` returns once stored), all members
            // at once; every socket open is cut at every 12th message stored, whatever is on the wire then
            // (a client reconnecting at that moment may miss a cut).
            let (progress, stored) = AsyncStream.makeStream(of: Void.self)
            let cutter = Task {
                var count = 0
                var cuts = Array(stride(from: 12, through: 108, by: 12))
                for await _ in progress {
                    count += 1
                    if let next = cuts.first, count >= next {
                        cuts.removeFirst()
                        relay.cutAll()
                    }
                }
                return cuts
            }
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for (client, name) in zip(clients, Self.members) {
                    senders.addTask {
                        for number in 1...Self.messagesEach {
                            _ = try await withTimeout("\(name)'s message \(number)") {
                                try await client.client.send("\(name) \(number)", to: group)
                            }
                            stored.yield()
                        }
                    }
                }
                try await senders.waitForAll()
            }
            stored.finish()
            #expect(await cutter.value == [], "cuts left undone")

            let total = Self.members.count * Self.messagesEach
            for (client, name) in zip(clients, Self.members) {
                try await client.waitForMessages(total, in: group)
                let bodies = client.receivedBodies(in: group)
                #expect(bodies.count == total, "\(name) received \(bodies.count) messages")
                #expect(Set(bodies).count == total, "\(name) received a message twice")
                #expect(ReconnectingClientTests.seqs(of: client, in: group) == Array(1...Int64(total)), "\(name)")
                for sender in Self.members {
                    let own = bodies.filter { $0.hasPrefix("\(sender) ") }
                    let sent = (1...Self.messagesEach).map { "\(sender) \($0)" }
                    #expect(own == sent, "\(sender)'s order at \(name)")
                }
                #expect(client.client.outbox.isEmpty, "\(name)'s outbox")
            }
            let history = try await clients[1].client.history(of: group, limit: total + 10)
            #expect(history.map(\.seq) == Array(1...Int64(total)))
            #expect(Set(history.map(\.body)).count == total, "the history holds a message twice")
        }
    }
}
