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

/// Hands a ``ChatClient``'s outbox to its ``OutboxStorage`` after each change, and remembers the last failure.
///
/// Changes are numbered under the client's lock; snapshots may reach the saver out of that order (two tasks
/// change the outbox at once), so one older than the newest seen is not written. The newest snapshot not yet
/// saved is kept: a failed save is tried again with the next change, and when the client calls ``saveAgain()``
/// (a session opens, ``ChatClient/run()`` ends).
///
/// When the saved outbox could not be loaded, nothing is saved (a save would replace what could not be read)
/// until a load succeeds: each change tries the load again first, and the client merges what it then reads.
final class OutboxSaver: Sendable {
    /// One numbered state of the outbox.
    struct Snapshot: Sendable {
        let change: Int
        let messages: [OutgoingMessage]
    }

    private struct State {
        var lastSavedChange = 0
        /// The newest snapshot not saved yet.
        var unsaved: Snapshot?
        var lastError: ChatError?
        /// The saved outbox could not be read: no save until a load succeeds.
        var loadFailed: Bool
        /// A retried load succeeded and the client has not yet saved its outbox with what it read: a snapshot
        /// taken before the merge lacks those messages, and writing it would lose them from the storage.
        var awaitsMerge = false
    }

    private let storage: any OutboxStorage
    private let state: Mutex<State>

    /// Loads the saved outbox: the messages to start with (sent ones dropped), and the saver.
    static func load(from storage: any OutboxStorage) -> (messages: [OutgoingMessage], saver: OutboxSaver) {
        do {
            return (try Self.unsent(storage.load()), OutboxSaver(storage: storage, loadError: nil))
        } catch {
            return ([], OutboxSaver(storage: storage, loadError: Self.chatError(error, "loaded")))
        }
    }

    private init(storage: any OutboxStorage, loadError: ChatError?) {
        self.storage = storage
        self.state = Mutex(State(lastError: loadError, loadFailed: loadError != nil))
    }

    /// The last failure to load or save; `nil` once the newest change is saved.
    var lastError: ChatError? { state.withLock { $0.lastError } }

    /// After a failed load, tries it again: the messages read when it now succeeds (once; the client merges them
    /// into its outbox and passes the result to ``saveMerged(_:)``; nothing is written meanwhile), `nil` otherwise.
    func retryLoad() -> [OutgoingMessage]? {
        state.withLock { state in
            guard state.loadFailed else { return nil }
            do {
                let messages = Self.unsent(try storage.load())
                state.loadFailed = false
                state.awaitsMerge = true
                state.lastError = nil
                return messages
            } catch {
                state.lastError = Self.chatError(error, "loaded")
                return nil
            }
        }
    }

    /// Saves `snapshot`, or a newer one that waits, unless a later change was saved already.
    func save(_ snapshot: Snapshot) {
        state.withLock { state in
            guard snapshot.change > state.lastSavedChange else { return }
            if snapshot.change > state.unsaved?.change ?? 0 { state.unsaved = snapshot }
            write(&state)
        }
    }

    /// Saves the first snapshot taken after merging what ``retryLoad()`` read (or a newer one), and lets saves go on.
    func saveMerged(_ snapshot: Snapshot) {
        state.withLock { state in
            state.awaitsMerge = false
            if snapshot.change > state.unsaved?.change ?? 0 { state.unsaved = snapshot }
            write(&state)
        }
    }

    /// Tries again to save the newest snapshot whose save failed, if any.
    func saveAgain() {
        state.withLock { write(&$0) }
    }

    private func write(_ state: inout State) {
        guard !state.loadFailed, !state.awaitsMerge, let unsaved = state.unsaved else { return }
        do {
            try storage.save(unsaved.messages)
            state.lastSavedChange = unsaved.change
            state.unsaved = nil
            state.lastError = nil
        } catch {
            state.lastError = Self.chatError(error, "saved")
        }
    }

    private static func unsent(_ messages: [OutgoingMessage]) -> [OutgoingMessage] {
        messages.filter { $0.state != .sent && $0.state != .discarded }
    }

    private static func chatError(_ error: any Error, _ verb: String) -> ChatError {
        if let error = error as? ChatError { return error }
        return ChatError(
            .storageFailure, "The outbox could not be \(verb) by its storage: \(error)", underlying: error
        )
    }
}
