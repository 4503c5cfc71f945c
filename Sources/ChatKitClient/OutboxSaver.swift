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
/// change the outbox at once), so an older snapshot than the last one saved is dropped. A snapshot whose save
/// failed is not retried by itself: the next change saves the whole outbox again.
final class OutboxSaver: Sendable {
    /// One numbered state of the outbox.
    struct Snapshot: Sendable {
        let change: Int
        let messages: [OutgoingMessage]
    }

    private struct State {
        var lastSavedChange = 0
        var lastError: ChatError?
    }

    private let storage: any OutboxStorage
    private let state: Mutex<State>

    /// Loads the saved outbox: the messages to start with (sent ones dropped), and a saver reporting `loadError`
    /// until its first successful save.
    static func load(from storage: any OutboxStorage) -> (messages: [OutgoingMessage], saver: OutboxSaver) {
        do {
            let messages = try storage.load().filter { $0.state != .sent }
            return (messages, OutboxSaver(storage: storage, error: nil))
        } catch {
            return ([], OutboxSaver(storage: storage, error: Self.chatError(error, "loaded")))
        }
    }

    private init(storage: any OutboxStorage, error: ChatError?) {
        self.storage = storage
        self.state = Mutex(State(lastError: error))
    }

    /// The last failure to load or save, until a save succeeds.
    var lastError: ChatError? { state.withLock { $0.lastError } }

    /// Saves `snapshot` unless a later change was saved already.
    func save(_ snapshot: Snapshot) {
        state.withLock { state in
            guard snapshot.change > state.lastSavedChange else { return }
            do {
                try storage.save(snapshot.messages)
                state.lastSavedChange = snapshot.change
                state.lastError = nil
            } catch {
                state.lastError = Self.chatError(error, "saved")
            }
        }
    }

    private static func chatError(_ error: any Error, _ verb: String) -> ChatError {
        if let error = error as? ChatError { return error }
        return ChatError(
            .storageFailure, "The outbox could not be \(verb) by its storage: \(error)", underlying: error
        )
    }
}
