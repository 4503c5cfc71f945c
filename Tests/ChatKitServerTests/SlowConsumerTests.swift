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
import ChatKitTesting
import Synchronization
import Testing

/// An in-process transport whose next server-side connection can be made to stop reading: after `stall()`,
/// writes to it wait until the connection is closed, like a peer whose socket buffer is full.
final class StallingTransport: ServerTransport, ClientTransport {
    final class Gate: Sendable {
        private let state = Mutex<(stalled: Bool, waiters: [CheckedContinuation<Void, Never>], closed: Bool)>(
            (false, [], false)
        )

        func stall() { state.withLock { $0.stalled = true } }

        func pass() async {
            await withCheckedContinuation { continuation in
                let open = state.withLock { state -> Bool in
                    if !state.stalled || state.closed { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if open { continuation.resume() }
            }
        }

        func open() {
            let waiters = state.withLock { state in
                state.closed = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    let inner = InProcessTransport()
    private let nextGate = Mutex<Gate?>(nil)

    /// The gate of the next connection that opens.
    func gateNextConnection() -> Gate {
        let gate = Gate()
        nextGate.withLock { $0 = gate }
        return gate
    }

    func serve(_ onConnection: @escaping @Sendable (Connection) async -> Void) async throws {
        try await inner.serve { connection in
            guard let gate = self.nextGate.withLock({ gate in defer { gate = nil }; return gate }) else {
                await onConnection(connection)
                return
            }
            let gated = Connection(
                inbound: connection.inbound,
                outbound: OutboundWriter(
                    write: { frame in
                        await gate.pass()
                        try await connection.outbound.write(frame)
                    },
                    close: { reason in
                        gate.open()
                        await connection.outbound.close(reason)
                    }
                ),
                peer: connection.peer
            )
            await onConnection(gated)
        }
    }

    func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result) async throws
        -> Result
    {
        try await inner.withConnection(body)
    }
}

@Suite("Slow consumers")
struct SlowConsumerTests {
    @Test func aSlowConnectionIsClosedWhileSendersAndOthersCarryOn() async throws {
        let store = InMemoryChatStore()
        let transport = StallingTransport()
        let authenticator = InMemoryAuthenticator()
        var configuration = ChatServerConfiguration()
        // Bob never drains, so he overflows for sure; the capacity leaves room for the bursts a lagging router
        // may hand the readers that do keep up.
        configuration.limits.outboundQueueCapacity = 128
        configuration.limits.requestsPerSecond = 1000
        let server = ChatServer(
            store: store, transports: [transport], authenticators: [authenticator], configuration: configuration,
            clock: ManualClock()
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            var ids: [String: UserID] = [:]
            for name in ["alice", "bob", "carol"] {
                ids[name] = try await store.createUser(NewUser(username: name), passwordHash: nil).id
                authenticator.register(token: name, for: ids[name]!)
            }
            func connect(_ name: String) async throws -> TestClient {
                let client = TestClient(ChatClient(transport: transport, token: name, configuration: .singleSession))
                try await client.client.connected()
                return client
            }
            let alice = try await connect("alice")
            let carol = try await connect("carol")
            let gate = transport.gateNextConnection()
            let bob = try await connect("bob")
            try await bob.waitFor("bob synced") { $0.contains { if case .synced = $0 { true } else { false } } }
            gate.stall()

            let group = try await alice.client.createGroup("Busy", members: [ids["bob"]!, ids["carol"]!])
            for number in 1...300 { _ = try await alice.client.send("message \(number)", to: group.id) }
            try await carol.waitForMessages(300, in: group.id)
            #expect(carol.receivedBodies(in: group.id) == (1...300).map { "message \($0)" })

            // Bob's session was closed with a reason he can act on: reconnect and resume.
            let outcome = await bob.runResult()
            #expect(throws: Never.self) { try outcome.get() }
            await #expect(throws: ChatError.self) { try await bob.client.ping() }
            #expect(bob.client.connectionState == .disconnected)
            do {
                try await bob.client.connected()
                Issue.record("bob's session is still open")
            } catch let error as ChatError {
                #expect(error.code == .unavailable)
                #expect(error.reason?.contains("slowConsumer") == true, "\(error)")
            }
        }
    }
}
