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
import ChatKitTesting
import Foundation
import Synchronization

/// Routing through the engine: one group with `receivers` members, each on an in-process connection; appends go
/// straight to the store (then `storeDidChange()`), so the figure is the router's and the connections' work, not a
/// request's. Returns the time from the first append to the last delivery; setting up the members and their
/// sessions (presence among them) is not counted.
enum RoutingBenchmark {
    static func run(receivers: Int, events: Int) async throws -> Duration {
        let store = InMemoryChatStore()
        let authenticator = InMemoryAuthenticator()
        let transport = InProcessTransport()
        let server = ChatServer(store: store, transports: [transport], authenticators: [authenticator])
        var members: [UserID] = []
        for index in 0..<receivers {
            let user = try await store.createUser(NewUser(username: "member\(index)"), passwordHash: nil)
            authenticator.register(token: "t\(index)", for: user.id)
            members.append(user.id)
        }
        let group = try await store.createConversation(
            NewConversation(kind: .group, title: "Bench", createdBy: members[0], memberIDs: Array(members.dropFirst()))
        )
        let received = DeliveryCounter(expected: receivers * events)
        var elapsed = Duration.zero
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.run() }
            let ready = DeliveryCounter(expected: receivers)
            for index in 0..<receivers {
                let connection = transport.connect()
                tasks.addTask {
                    let hello = try WireCodec().encode(ClientFrame(id: "h", .hello(.init(token: "t\(index)"))))
                    try await connection.outbound.write(hello)
                    for try await text in connection.inbound {
                        // A byte search: Foundation's `contains` cost more than the routing it counted.
                        if text.containsBytes(#""synced""#) { ready.add(1) }
                        if text.containsBytes(#""messageCreated""#) { received.add(1) }
                    }
                }
            }
            await ready.wait()
            let start = ContinuousClock.now
            for index in 0..<events {
                _ = try await store.append(
                    NewMessage(
                        conversationID: group.id, senderID: members[0],
                        clientMessageID: ClientMessageID(rawValue: "k-\(index)"), body: "routing benchmark"
                    )
                )
                server.storeDidChange()
            }
            await received.wait()
            elapsed = ContinuousClock.now - start
            tasks.cancelAll()
        }
        return elapsed
    }
}

extension String {
    /// Whether the text contains `needle`, compared byte for byte.
    func containsBytes(_ needle: StaticString) -> Bool {
        var text = self
        return text.withUTF8 { haystack in
            needle.withUTF8Buffer { needle in
                guard let first = needle.first, haystack.count >= needle.count else { return needle.isEmpty }
                for start in 0...(haystack.count - needle.count) where haystack[start] == first {
                    if (1..<needle.count).allSatisfy({ haystack[start + $0] == needle[$0] }) { return true }
                }
                return false
            }
        }
    }
}

/// Counts deliveries from any task and wakes one waiter when the expected number is reached.
final class DeliveryCounter: Sendable {
    private struct State {
        var count = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let expected: Int
    private let state = Mutex(State())

    init(expected: Int) { self.expected = expected }

    func add(_ amount: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.count += amount
            guard state.count >= expected else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.count >= expected { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}
