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

@testable import ChatKitClient
import ChatKitCore
import ChatKitServer
import Foundation
import Synchronization
import Testing

/// `ChatClient.Configuration.outboxStorage`: the outbox across runs of the app, over real sockets.
@Suite("Persistent outbox over real sockets")
struct PersistentOutboxTests {
    @Test func messagesQueuedBeforeTheAppStoppedAreSentOnceInOrderByTheNextClientWithTheSameStorage() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let directory = try TemporaryDirectory()
            defer { withExtendedLifetime(directory) {} }
            let storage = FileOutboxStorage(fileURL: directory.url.appendingPathComponent("bob-outbox.json"))
            let settings = ChatClient.Configuration(outboxStorage: storage)

            // Bob's app sends one message while online: once stored, it is no longer in the file.
            let online = try await live.connect(bobTokens.accessToken, configuration: settings)
            let first = try await online.client.send("first", to: chat.id, clientMessageID: Self.id("k-0"))
            #expect(try storage.load() == [])
            await online.disconnect()

            // The next run queues two messages and stops before it ever connects.
            let offline = Self.client(live, bobTokens.accessToken, settings)
            var sends: [Task<Message, any Error>] = []
            for (id, body) in [("k-1", "second"), ("k-2", "third")] {
                sends.append(Task { try await offline.send(body, to: chat.id, clientMessageID: Self.id(id)) })
                try await waitUntil("\(body) saved") { (try? storage.load().last?.body) == body }
            }
            for send in sends { send.cancel() }
            for send in sends { _ = await send.result }
            let saved = try storage.load()
            #expect(saved.map(\.body) == ["second", "third"])
            #expect(saved.map(\.state) == [.pending, .pending])

            // As if that run had also sent "first" and stopped before its acknowledgement came.
            let unacknowledged = OutgoingMessage(
                request: .init(conversationID: chat.id, clientMessageID: Self.id("k-0"), body: "first"),
                state: .pending
            )
            try storage.save([unacknowledged] + saved)

            // The run after that starts with the saved outbox and sends it: the server stores each message once.
            let restarted = Self.client(live, bobTokens.accessToken, settings)
            #expect(restarted.outbox.map(\.clientMessageID.rawValue) == ["k-0", "k-1", "k-2"])
            #expect(restarted.outbox.map(\.state) == [.pending, .pending, .pending])
            #expect(restarted.outboxStorageError == nil)
            let bob = TestClient(restarted)
            try await waitUntil("the outbox to empty") { restarted.outbox.isEmpty }
            try await waitUntil("the file to empty") { (try? storage.load()) == [] }
            try await alice.waitForMessages(3, in: chat.id)
            #expect(alice.receivedBodies(in: chat.id) == ["first", "second", "third"])
            let history = try await alice.client.history(of: chat.id, limit: 10)
            #expect(history.map(\.body) == ["first", "second", "third"])
            #expect(history.map(\.seq) == [1, 2, 3])
            #expect(history.first?.id == first.id)
            await bob.disconnect()
        }
    }

    @Test func aRefusedMessageStaysFailedAcrossRunsAndIsSentOnlyWhenRetried() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let directory = try TemporaryDirectory()
            defer { withExtendedLifetime(directory) {} }
            let storage = FileOutboxStorage(fileURL: directory.url.appendingPathComponent("alice-outbox.json"))
            let settings = ChatClient.Configuration(outboxStorage: storage)
            // Bob's group, which alice is not in yet: her message to it is refused.
            let group = try await live.store.createConversation(.group("Later", createdBy: bobTokens.user.id))

            let before = try await live.connect(aliceTokens.accessToken, configuration: settings)
            let refused = await #expect(throws: ChatError.self) {
                try await before.client.send("too soon", to: group.id, clientMessageID: Self.id("k-soon"))
            }
            #expect(refused?.code == .notFound)
            await before.disconnect()
            let saved = try storage.load()
            #expect(saved.map(\.state) == [.failed])
            #expect(saved.map(\.failureCode) == [.notFound])

            // Alice joins; her next run starts with the failed message and does not send it by itself.
            _ = try await live.store.addMembers(
                [aliceTokens.user.id], to: group.id, role: .member, by: bobTokens.user.id
            )
            let after = try await live.connect(aliceTokens.accessToken, configuration: settings)
            #expect(after.client.outbox.map(\.state) == [.failed])
            let hello = try await after.client.send("hello", to: group.id)
            #expect(hello.seq == 1)
            #expect(after.client.outbox.map(\.body) == ["too soon"])
            #expect(try await after.client.history(of: group.id, limit: 10).map(\.body) == ["hello"])

            // Retried, it is sent, and leaves the file.
            let retried = try await after.client.send("too soon", to: group.id, clientMessageID: Self.id("k-soon"))
            #expect(retried.seq == 2)
            #expect(try storage.load() == [])
            await after.disconnect()
        }
    }

    @Test func aFailedSaveIsReportedAndTriedAgainWhenTheRunEnds() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let bob = try await live.connect(bobTokens.accessToken)
            let storage = FlakyOutboxStorage(saveFails: true)
            let alice = try await live.connect(
                aliceTokens.accessToken, configuration: ChatClient.Configuration(outboxStorage: storage)
            )
            #expect(alice.client.outboxStorageError == nil)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let stored = try await alice.client.send("despite the disk", to: chat.id)
            #expect(stored.seq == 1)
            #expect(alice.client.outboxStorageError?.code == .storageFailure)
            #expect(alice.client.outboxStorageError?.reason?.contains("disk full") == true)
            #expect(storage.saved == nil)

            // Nothing changes in the outbox any more; the end of the run saves what failed.
            storage.state.withLock { $0.saveFails = false }
            await alice.disconnect()
            #expect(storage.saved == [])
            #expect(alice.client.outboxStorageError == nil)
            try await bob.waitForMessages(1, in: chat.id)
        }
    }

    @Test func anOutboxThatCouldNotBeLoadedIsNotOverwrittenAndJoinsOnceItCanBeRead() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let bob = try await live.connect(bobTokens.accessToken)
            let chat = try await live.store.createConversation(
                .direct(between: aliceTokens.user.id, and: bobTokens.user.id)
            )
            let earlier = OutgoingMessage(
                request: .init(conversationID: chat.id, clientMessageID: Self.id("k-earlier"), body: "from before"),
                state: .pending
            )
            let storage = FlakyOutboxStorage(loadFails: true, saved: [earlier])
            let alice = try await live.connect(
                aliceTokens.accessToken, configuration: ChatClient.Configuration(outboxStorage: storage)
            )
            #expect(alice.client.outbox.isEmpty)
            #expect(alice.client.outboxStorageError?.reason?.contains("cannot read") == true)

            // While the saved outbox cannot be read, nothing replaces it.
            _ = try await alice.client.send("meanwhile", to: chat.id)
            #expect(storage.saved == [earlier])
            #expect(alice.client.outboxStorageError?.reason?.contains("cannot read") == true)

            // Once it can be read, the next change loads it: its message joins the outbox and is sent.
            storage.state.withLock { $0.loadFails = false }
            _ = try await alice.client.send("later", to: chat.id)
            try await bob.waitForMessages(3, in: chat.id)
            #expect(Set(bob.receivedBodies(in: chat.id)) == ["from before", "meanwhile", "later"])
            try await waitUntil("the outbox to empty") { alice.client.outbox.isEmpty }
            try await waitUntil("the storage to be saved empty") { storage.saved == [] }
            #expect(alice.client.outboxStorageError == nil)
        }
    }

    /// A save that raced the merge of a retried load (its snapshot taken before the merge) replaced the file,
    /// which held the messages just read, with an outbox without them: a kill before the merged save lost them.
    /// Such a save now waits for the merged save (which covers its change), as for any write under way.
    @Test func noSaveComesBetweenARetriedLoadAndTheMergedSave() async throws {
        let conversation = ConversationID(rawValue: "c")
        func message(_ key: String) -> OutgoingMessage {
            OutgoingMessage(
                request: .init(conversationID: conversation, clientMessageID: Self.id(key), body: key), state: .pending
            )
        }
        let storage = FlakyOutboxStorage(loadFails: true, saved: [message("recovered")])
        let (loaded, saver) = OutboxSaver.load(from: storage)
        #expect(loaded.isEmpty)
        storage.state.withLock { $0.loadFails = false }
        let recovered = saver.retryLoad()
        #expect(recovered == [message("recovered")])
        // Another change's snapshot, taken before the merge: its save waits for the merged one.
        let earlier = OutboxSaver.Snapshot(change: 5, messages: [message("new")])
        let returned = Locked(false)
        Thread.detachNewThread {
            saver.save(earlier)
            returned.withLock { $0 = true }
        }
        try await waitUntil("the other change to wait for the merged save") { saver.waitingCallers == 1 }
        #expect(storage.saved == [message("recovered")], "a snapshot without the recovered message was written")
        #expect(!returned.value)
        saver.saveMerged(OutboxSaver.Snapshot(change: 6, messages: [message("recovered"), message("new")]))
        try await waitUntil("the other change's save to return") { returned.value }
        #expect(storage.saved == [message("recovered"), message("new")])
        // Saves go on as usual after it.
        await saver.save(OutboxSaver.Snapshot(change: 7, messages: []))
        #expect(storage.saved == [])
    }

    /// Saves are group commits: changes made while a save is under way wait for it to end, then are written
    /// together, once, as the newest outbox; no call returns before a write that covers its change has ended (here
    /// the first write fails: the waiting changes are written by the next one, which succeeds).
    @Test func changesMadeWhileASaveIsUnderWayAreWrittenTogetherAfterIt() async throws {
        let storage = GatedOutboxStorage()
        let (_, saver) = OutboxSaver.load(from: storage)
        // Each save on a thread of its own: synchronous saves (`queue`, `send`) block their thread while they wait.
        let returned = Locked<Set<Int>>([])
        func saveOnAThread(_ count: Int) {
            let snapshot = Self.outbox(count)
            Thread.detachNewThread {
                saver.save(snapshot)
                returned.withLock { _ = $0.insert(count) }
            }
        }
        saveOnAThread(1)
        try await waitUntil("the first save to reach the storage") { storage.writesBegun == 1 }
        for count in 2...4 { saveOnAThread(count) }
        try await waitUntil("three changes to wait for the write under way") { saver.waitingCallers == 3 }
        #expect(returned.value.isEmpty, "a save returned before any write ended")
        #expect(storage.writesBegun == 1, "a second write began while the first was under way")

        storage.finishWrite(failing: true)
        try await waitUntil("the first save to return, its write failed") { returned.value == [1] }
        #expect(saver.lastError?.reason?.contains("disk full") == true)
        try await waitUntil("one write for the three waiting changes") { storage.writesBegun == 2 }
        #expect(returned.value == [1], "a change returned before a write that covers it ended")
        storage.finishWrite(failing: false)
        try await waitUntil("every save to return") { returned.value == [1, 2, 3, 4] }
        #expect(storage.writesBegun == 2)
        #expect(storage.written == [Self.outbox(4).messages], "the newest outbox, written once")
        #expect(saver.lastError == nil)
    }

    /// The client's tasks (the answers of a burst of sends) wait suspended while another change is written, not
    /// blocking their threads: many more of them than the machine has threads join the next write, which writes
    /// the newest outbox once.
    @Test(.timeLimit(.minutes(1))) func tasksWaitSuspendedForTheWriteUnderWayAndJoinTheNextOne() async throws {
        // Only the first write waits for the test: the second, made by one of the tasks, ends at once (were it held,
        // it would hold a thread of the pool the test itself runs on).
        let storage = GatedOutboxStorage(gatedWrites: 1)
        let (_, saver) = OutboxSaver.load(from: storage)
        let first = Self.outbox(1)
        Thread.detachNewThread { saver.save(first) }
        try await waitUntil("the first save to reach the storage") { storage.writesBegun == 1 }
        let waiters = 2...65
        let saves = waiters.map { count in
            let snapshot = Self.outbox(count)
            return Task { await saver.save(snapshot) }
        }
        try await waitUntil("\(waiters.count) tasks to wait for the write under way") {
            saver.waitingCallers == waiters.count
        }
        storage.finishWrite(failing: false)
        for save in saves { await save.value }
        #expect(storage.writesBegun == 2)
        #expect(storage.written == [first.messages, Self.outbox(65).messages])
    }

    // MARK: Helpers

    static func id(_ raw: String) -> ClientMessageID { ClientMessageID(rawValue: raw) }

    /// The outbox after change `count`: `count` pending messages in one conversation.
    static func outbox(_ count: Int) -> OutboxSaver.Snapshot {
        let messages = (1...count).map { index in
            OutgoingMessage(
                request: .init(
                    conversationID: ConversationID(rawValue: "c"), clientMessageID: id("k\(index)"), body: "m"
                ),
                state: .pending
            )
        }
        return OutboxSaver.Snapshot(change: count, messages: messages)
    }

    /// A client of `live` that is not running yet.
    static func client(_ live: LiveServer, _ token: String, _ configuration: ChatClient.Configuration) -> ChatClient {
        ChatClient(
            transport: WebSocketClientTransport.loadTolerant(url: "ws://127.0.0.1:\(live.port)/v1/ws"), token: token,
            configuration: configuration
        )
    }
}

/// An outbox storage in memory whose loads and saves fail while told to.
final class FlakyOutboxStorage: OutboxStorage {
    struct DiskFull: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String { "cannot read" }
    }

    struct State {
        var loadFails: Bool
        var saveFails: Bool
        /// What was saved last (`nil`: nothing yet).
        var saved: [OutgoingMessage]?
    }

    let state: Mutex<State>

    init(loadFails: Bool = false, saveFails: Bool = false, saved: [OutgoingMessage]? = nil) {
        state = Mutex(State(loadFails: loadFails, saveFails: saveFails, saved: saved))
    }

    var saved: [OutgoingMessage]? { state.withLock { $0.saved } }

    func load() throws -> [OutgoingMessage] {
        try state.withLock { state in
            if state.loadFails { throw Unreadable() }
            return state.saved ?? []
        }
    }

    func save(_ messages: [OutgoingMessage]) throws {
        try state.withLock { state in
            if state.saveFails { throw DiskFull() }
            state.saved = messages
        }
    }
}

/// An outbox storage in memory whose first `gatedWrites` writes each wait until the test ends them
/// (``finishWrite(failing:)``); later writes succeed at once.
final class GatedOutboxStorage: OutboxStorage {
    private struct State {
        var writesBegun = 0
        var written: [[OutgoingMessage]] = []
        /// How the write under way is to end, once the test says.
        var outcome: Bool?
    }

    private let state = Mutex(State())
    private let ended = DispatchSemaphore(value: 0)
    private let gatedWrites: Int

    init(gatedWrites: Int = .max) {
        self.gatedWrites = gatedWrites
    }

    var writesBegun: Int { state.withLock { $0.writesBegun } }
    /// What each successful write wrote, in order.
    var written: [[OutgoingMessage]] { state.withLock { $0.written } }

    /// Ends the write under way: it throws `DiskFull` when `failing`, else it is recorded.
    func finishWrite(failing: Bool) {
        state.withLock { $0.outcome = failing }
        ended.signal()
    }

    func load() throws -> [OutgoingMessage] { [] }

    func save(_ messages: [OutgoingMessage]) throws {
        let gated = state.withLock { state in
            state.writesBegun += 1
            return state.writesBegun <= gatedWrites
        }
        if gated { ended.wait() }
        try state.withLock { state in
            defer { state.outcome = nil }
            if state.outcome == true { throw FlakyOutboxStorage.DiskFull() }
            state.written.append(messages)
        }
    }
}
