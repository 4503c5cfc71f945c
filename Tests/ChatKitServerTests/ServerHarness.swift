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
import Testing

@testable import ChatKitClient

/// A running ChatServer on an in-memory store and an in-process transport, with a manual clock.
struct ServerHarness: Sendable {
    let store: InMemoryChatStore
    let transport = InProcessTransport()
    let authenticator = InMemoryAuthenticator()
    let clock = ManualClock()
    let server: ChatServer

    /// - Parameter serverStore: The store the server uses: `store`, or a decorator of it that a test passes.
    init(
        configuration: ChatServerConfiguration, store: InMemoryChatStore = InMemoryChatStore(),
        serverStore: (any ChatStore)? = nil
    ) {
        self.store = store
        server = ChatServer(
            store: serverStore ?? store, transports: [transport], authenticators: [authenticator],
            configuration: configuration, clock: clock
        )
    }

    /// Runs `body` while the server runs, then stops the server.
    static func run(
        configuration: ChatServerConfiguration = ChatServerConfiguration(),
        store: InMemoryChatStore = InMemoryChatStore(),
        serverStore: (any ChatStore)? = nil,
        _ body: @Sendable (ServerHarness) async throws -> Void
    ) async throws {
        let harness = ServerHarness(configuration: configuration, store: store, serverStore: serverStore)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await harness.server.run() }
            defer { group.cancelAll() }
            try await body(harness)
        }
    }

    /// Creates a user whose token is `token-<name>`.
    func user(_ name: String) async throws -> UserID {
        let user = try await store.createUser(NewUser(username: name), passwordHash: nil).id
        authenticator.register(token: "token-\(name)", for: user)
        return user
    }

    /// Connects a client for `user`'s token and waits for the session to open. By default the client runs one
    /// session and does not reconnect.
    func connect(
        _ name: String,
        cursor: StreamPosition? = nil,
        configuration: ChatClient.Configuration = .singleSession
    ) async throws -> TestClient {
        let client = TestClient(
            ChatClient(transport: transport, token: "token-\(name)", cursor: cursor, configuration: configuration)
        )
        try await client.client.connected()
        try await client.waitFor("synced") { events in events.contains { if case .synced = $0 { true } else { false } } }
        return client
    }
}

/// A ChatClient running in its own task, with every event it received recorded.
final class TestClient: Sendable {
    private struct Waiter {
        var condition: @Sendable ([ClientEvent]) -> Bool
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var events: [ClientEvent] = []
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private final class Box: Sendable {
        let state = Mutex(State())
    }

    let client: ChatClient
    private let box = Box()
    private let runTask: Task<Void, any Error>
    private let eventTask: Task<Void, Never>

    init(_ client: ChatClient) {
        self.client = client
        runTask = Task { try await client.run() }
        let box = box
        eventTask = Task {
            for await event in client.events {
                let satisfied = box.state.withLock { state -> [Waiter] in
                    state.events.append(event)
                    let events = state.events
                    let ready = state.waiters.filter { $0.value.condition(events) }
                    for key in ready.keys { state.waiters[key] = nil }
                    return Array(ready.values)
                }
                for waiter in satisfied { waiter.continuation.resume(returning: true) }
            }
        }
    }

    deinit {
        runTask.cancel()
        eventTask.cancel()
    }

    /// Every event so far.
    var events: [ClientEvent] { box.state.withLock { $0.events } }

    /// The stored events so far.
    var storedEvents: [StoredEvent] {
        events.compactMap { if case .stored(let event) = $0 { event } else { nil } }
    }

    /// The bodies of received `messageCreated` events in `conversation`.
    func receivedBodies(in conversation: ConversationID) -> [String] {
        Self.bodies(in: conversation, events)
    }

    static func bodies(in conversation: ConversationID, _ events: [ClientEvent]) -> [String] {
        events.compactMap { event -> String? in
            guard case .stored(let stored) = event, stored.kind == .messageCreated,
                stored.conversationID == conversation
            else { return nil }
            return stored.message?.body
        }
    }

    /// Disconnects, as when the app closes or the network drops, and waits until the run loop ended.
    func disconnect() async {
        runTask.cancel()
        _ = await runTask.result
    }

    /// Pings the server, then waits until every event that came before the answer is recorded in ``events``. The
    /// server writes a connection's frames in order, so the answer comes after everything sent before it; the client
    /// queues those events before it hands over the answer, and they are recorded by a task of their own, which has
    /// recorded them all once it waits for the next. A test checks what a client was shown after this, not after a
    /// bare `ping()`: under load, the recording task can lag behind the answer.
    func settle() async throws {
        try await client.ping()
        try await waitUntil("the events before the ping's answer to be recorded") {
            client.eventQueue.waitingCount > 0
        }
    }

    /// How the client's run loop ended.
    func runResult() async -> Result<Void, any Error> { await runTask.result }

    /// Waits until `condition` holds for the recorded events, failing after `timeout` (real time).
    func waitFor(
        _ what: String,
        timeout: Duration = failsafeTimeout,
        _ condition: @escaping @Sendable ([ClientEvent]) -> Bool
    ) async throws {
        let id = box.state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let met = await withTaskGroup(of: Bool.self) { group in
            group.addTask { [box] in
                await withCheckedContinuation { continuation in
                    let already = box.state.withLock { state -> Bool in
                        if condition(state.events) { return true }
                        state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                        return false
                    }
                    if already { continuation.resume(returning: true) }
                }
            }
            group.addTask { [box] in
                try? await Task.sleep(for: timeout)
                box.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: false)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !met { throw TimeoutError(what: what, events: events.count) }
    }

    /// Waits until `count` messages arrived in `conversation`.
    func waitForMessages(_ count: Int, in conversation: ConversationID) async throws {
        try await waitFor("\(count) messages in \(conversation)") { events in
            Self.bodies(in: conversation, events).count >= count
        }
    }
}
