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
import ChatKitSQLite
import Foundation
import Testing

/// A server restored from a backup has lost what was stored after it, the user's acknowledged messages too: the
/// client was told it rewound and nothing sent those messages again. It now sends the last ones again (the server
/// answers those it has from what it has).
@Suite(.timeLimit(.minutes(3)))
struct RewindResendTests {
    static let patience = Duration.seconds(60)

    @Test func messagesStoredBeforeARewindAreSentAgainFirstExceptDeletedOnes() async throws {
        let position = Locked<Int64>(1)
        let resent = Locked<[String]>([])
        let chat = ConversationID(rawValue: "c")
        let transport = ScriptedTransport { connection, frame, peer in
            switch frame.request {
            case .hello where connection == 0:
                peer.open(frame, position: StreamPosition(1))
            case .hello:
                // Restored from a backup: nothing after position 1.
                peer.send(
                    .welcome(
                        Welcome(
                            id: frame.id, version: 1, user: ScriptedPeer.user, limits: ScriptedPeer.limits,
                            position: StreamPosition(1), rewoundTo: StreamPosition(1)
                        )
                    )
                )
                peer.send(.synced(Synced(cursor: StreamPosition(1))))
            case .send(let send):
                if connection > 0 { resent.withLock { $0.append(send.clientMessageID.rawValue) } }
                let message = ScriptedPeer.stored(send, id: "m-\(send.clientMessageID.rawValue)")
                peer.send(.result(id: frame.id, RequestResult(message: message)))
                guard connection == 0 else { return }
                // Its event; the message "deleted" is deleted at once, as from another device.
                var kinds: [EventKind] = [.messageCreated]
                if send.body == "deleted" { kinds.append(.messageDeleted) }
                for kind in kinds {
                    let next = position.withLock { position in
                        position += 1
                        return position
                    }
                    peer.send(
                        .event(
                            StoredEvent(
                                position: StreamPosition(next), kind: kind, conversationID: chat,
                                actorID: ScriptedPeer.user.id, createdAt: Date(), message: message
                            )
                        )
                    )
                }
            case .ping where connection == 0:
                peer.close()  // the connection drops
            default:
                break
            }
        }
        let client = ChatClient(transport: transport, token: "t", configuration: .init(clock: RecordingClock()))
        let events = Recorder(client.events)
        let run = Task { try await client.run() }
        defer { run.cancel() }
        // "first" twice: the app may send a stored message's ID again; it is sent again once after the rewind.
        for body in ["first", "deleted", "second", "first"] {
            _ = try await withTimeout("the send of \(body)", Self.patience) {
                try await client.send(body, to: chat, clientMessageID: ClientMessageID(rawValue: "k-\(body)"))
            }
        }
        try await waitUntil("the events", timeout: Self.patience) { client.cursor == StreamPosition(6) }
        let updates = Recorder(client.outboxUpdates())
        try? await client.ping()

        try await waitUntil("the lost messages sent again", timeout: Self.patience) {
            resent.value.count == 2 && client.outbox.isEmpty
        }
        #expect(resent.value == ["k-first", "k-second"])
        try await events.waitFor("the rewind", timeout: Self.patience) { $0.contains(.rewound(StreamPosition(1))) }
        // The updates are recorded by a task of their own, which may lag behind the outbox.
        try await updates.waitFor("both messages' updates as sent", timeout: Self.patience) { recorded in
            recorded.filter { $0.state == .sent }.count == 2
        }
        let states = updates.recorded.map { "\($0.clientMessageID.rawValue) \($0.state)" }
        #expect(states == ["k-first pending", "k-second pending", "k-first sent", "k-second sent"])
    }

    @Test func aSQLiteServerRestoredFromABackupGetsTheLostMessagesOnceAndKeepsTheOthersOnce() async throws {
        let files = try RestoreFiles()
        defer { files.remove() }
        let (path, transport, fast) = (files.path, files.transport, RestoreFiles.fast)

        let first = Box<(alice: TestClient, chat: ConversationID)>()
        try await SQLiteLiveServer.run(path: path) { url, auth in
            transport.url.withLock { $0 = url }
            let aliceTokens = try await auth.signUp(username: "alice", password: "correct horse battery")
            let bobTokens = try await auth.signUp(username: "bob", password: "correct horse battery")
            let alice = TestClient(ChatClient(transport: transport, token: aliceTokens.accessToken, configuration: fast))
            _ = try await withTimeout("alice's session") { try await alice.client.connected() }
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            _ = try await alice.client.send("before the backup", to: chat.id)
            try await alice.waitForMessages(1, in: chat.id)
            first.set((alice, chat.id))
        }
        let (alice, chat) = try #require(first.value)
        try await SQLiteChatStore.backup(databaseAt: path, to: files.backup)

        try await SQLiteLiveServer.run(path: path) { url, _ in
            transport.url.withLock { $0 = url }
            _ = try await alice.client.send("after the backup 1", to: chat)
            _ = try await alice.client.send("after the backup 2", to: chat)
            try await alice.waitForMessages(3, in: chat)
        }

        try files.restore()

        try await SQLiteLiveServer.run(path: path) { url, _ in
            transport.url.withLock { $0 = url }
            try await alice.waitFor("the rewind") { events in
                events.contains { if case .rewound = $0 { true } else { false } }
            }
            // The two lost messages are stored again (the one the backup has is answered as it is: no event).
            try await alice.waitForMessages(5, in: chat)
            try await waitUntil("the outbox to empty") { alice.client.outbox.isEmpty }
            let history = try await alice.client.history(of: chat)
            #expect(history.map(\.body) == ["before the backup", "after the backup 1", "after the backup 2"])
            #expect(history.map(\.seq) == [1, 2, 3])
        }
    }

    /// A reply lost with the message it answers was sent again with the old ID in `replyTo`, and refused; a message
    /// in a conversation the restore lost cannot be stored again.
    @Test func aReplyLostWithItsMessageRefersToTheNewOneAndAMessageOfALostConversationFails() async throws {
        let files = try RestoreFiles()
        defer { files.remove() }
        let (path, transport, fast) = (files.path, files.transport, RestoreFiles.fast)

        let first = Box<(alice: TestClient, chat: ConversationID, carol: UserID)>()
        try await SQLiteLiveServer.run(path: path) { url, auth in
            transport.url.withLock { $0 = url }
            let aliceTokens = try await auth.signUp(username: "alice", password: "correct horse battery")
            let bobTokens = try await auth.signUp(username: "bob", password: "correct horse battery")
            let carolTokens = try await auth.signUp(username: "carol", password: "correct horse battery")
            let alice = TestClient(ChatClient(transport: transport, token: aliceTokens.accessToken, configuration: fast))
            _ = try await withTimeout("alice's session") { try await alice.client.connected() }
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            first.set((alice, chat.id, carolTokens.user.id))
        }
        let (alice, chat, carol) = try #require(first.value)
        try await SQLiteChatStore.backup(databaseAt: path, to: files.backup)

        let lost = Box<ConversationID>()
        try await SQLiteLiveServer.run(path: path) { url, _ in
            transport.url.withLock { $0 = url }
            let question = try await alice.client.send("a question", to: chat)
            _ = try await alice.client.send("its answer", to: chat, replyTo: question.id)
            let later = try await alice.client.createDirectConversation(with: carol)
            _ = try await alice.client.send("to carol", to: later.id)
            try await alice.waitForMessages(2, in: chat)
            lost.set(later.id)
        }
        let later = try #require(lost.value)

        try files.restore()

        try await SQLiteLiveServer.run(path: path) { url, _ in
            transport.url.withLock { $0 = url }
            try await alice.waitForMessages(4, in: chat)
            try await waitUntil("the outbox to settle") {
                alice.client.outbox.map(\.state) == [.failed]
            }
            let history = try await alice.client.history(of: chat)
            #expect(history.map(\.body) == ["a question", "its answer"])
            #expect(history.count == 2 && history[1].replyTo == history[0].id)
            let failed = try #require(alice.client.outbox.first)
            #expect(failed.conversationID == later && failed.failureCode == .notFound)
        }
    }
}

/// A SQLite file in a folder of its own, the path of its backup beside it, and a client transport that follows the
/// server from port to port.
private struct RestoreFiles {
    /// Reconnects within 200 ms.
    static let fast = ChatClient.Configuration(
        reconnection: .exponentialBackoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
    )

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-rewind-\(UUID())")
    var path: String { directory.appendingPathComponent("chat.sqlite").path }
    var backup: String { directory.appendingPathComponent("backup.sqlite").path }
    let transport = MovableWebSocketTransport()

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The restore of Operations.md: the log and its index go, the backup takes the database's place.
    func restore() throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: path)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
