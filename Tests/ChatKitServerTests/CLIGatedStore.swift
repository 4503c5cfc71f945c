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
import Synchronization

/// The in-memory store behind a decorator that holds some requests of the chatkit-cli tests at gates, to put the
/// CLI's requests and the events it gets in a given order, and fails user look-ups while told to.
final class CLIGatedStore: ChatStoreDecorator {
    let base: any ChatStore
    /// While set, every ``users(_:)`` (the `profiles` request: names) fails.
    let failsUserLookups = Atomic<Bool>(false)

    /// A held history read: the next one (of any conversation) opens `entered`, waits for `proceed`, then fails
    /// with `storageFailure` when `fails`.
    private let heldHistory = Mutex<(entered: TestGate, proceed: TestGate, fails: Bool)?>(nil)
    /// A held append: the next of a message with this body opens `entered`, waits for `proceed`, and opens `done`
    /// once the base store has answered.
    private let heldAppend = Mutex<(body: String, entered: TestGate, proceed: TestGate, done: TestGate)?>(nil)

    /// A held read marker: the next `markRead` opens `entered`, waits for `proceed`, then fails with
    /// `storageFailure` when `fails` (as a request lost with its connection: nothing stored) or is stored.
    private let heldMarkRead = Mutex<(entered: TestGate, proceed: TestGate, fails: Bool)?>(nil)

    init(_ base: any ChatStore) { self.base = base }

    /// Holds the next `markRead`: it opens `entered`, waits until `proceed` opens, then fails (storing nothing)
    /// when `fails`, or is stored.
    func holdNextMarkRead(entered: TestGate, proceed: TestGate, fails: Bool) {
        heldMarkRead.withLock { $0 = (entered, proceed, fails) }
    }

    func markRead(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        if let held = heldMarkRead.withLock({ held in defer { held = nil }; return held }) {
            held.entered.open()
            await held.proceed.waitUntilOpen()
            if held.fails { throw ChatError(.storageFailure, "The marker was lost on the way.") }
        }
        return try await base.markRead(id, upTo: seq, by: user)
    }

    /// Holds the next history read: it opens `entered`, waits until `proceed` opens, then fails when `fails`.
    func holdNextHistory(entered: TestGate, proceed: TestGate, fails: Bool = false) {
        heldHistory.withLock { $0 = (entered, proceed, fails) }
    }

    /// Holds the next append of a message with `body`: it opens `entered`, waits until `proceed` opens, then
    /// appends and opens `done`.
    func holdNextAppend(of body: String, entered: TestGate, proceed: TestGate, done: TestGate = TestGate()) {
        heldAppend.withLock { $0 = (body, entered, proceed, done) }
    }

    func users(_ ids: [UserID]) async throws -> [User] {
        if failsUserLookups.load(ordering: .relaxed) {
            throw ChatError(.storageFailure, "The users are unavailable.")
        }
        return try await base.users(ids)
    }

    func messages(in id: ConversationID, _ query: HistoryQuery, as user: UserID) async throws -> [Message] {
        if let held = heldHistory.withLock({ held in defer { held = nil }; return held }) {
            held.entered.open()
            await held.proceed.waitUntilOpen()
            if held.fails { throw ChatError(.storageFailure, "The history is unavailable.") }
        }
        return try await base.messages(in: id, query, as: user)
    }

    func append(_ message: NewMessage) async throws -> Message {
        let held = heldAppend.withLock { held -> (entered: TestGate, proceed: TestGate, done: TestGate)? in
            guard let gates = held, gates.body == message.body else { return nil }
            held = nil
            return (gates.entered, gates.proceed, gates.done)
        }
        guard let held else { return try await base.append(message) }
        held.entered.open()
        await held.proceed.waitUntilOpen()
        defer { held.done.open() }
        return try await base.append(message)
    }
}
