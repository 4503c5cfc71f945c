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
import Dispatch
import Synchronization

/// Hands a ``ChatClient``'s outbox to its ``OutboxStorage`` after each change, and remembers the last failure.
///
/// Changes are numbered under the client's lock; snapshots may reach the saver out of that order (two tasks
/// change the outbox at once), so one older than the newest seen is not written. The newest snapshot not yet
/// saved is kept: a failed save is tried again with the next change, and when the client calls ``saveAgain()``
/// (a session opens, ``ChatClient/run()`` ends).
///
/// Saves are group commits: one write at a time, outside the saver's lock, of the newest snapshot. A change made
/// while a write is under way waits for it to end and then for one more write, which also covers every change
/// that waited meanwhile. Each call still returns only once the outbox it changed is written (or the write
/// failed); but when a burst of answers completes many messages at once, their tasks wait suspended
/// (``save(_:)-async``) while one writes, and the storage writes the whole outbox a few times instead of once per
/// message.
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
        /// Writes begun and ended; one runs at a time, so `writesEnded` is `writesBegun` or one less.
        var writesBegun = 0
        var writesEnded = 0
        /// Callers waiting for the write under way to end.
        var waiting: [Waiter] = []
    }

    /// A caller waiting for the write under way to end: a thread (a synchronous call) or a task.
    private enum Waiter {
        case thread(DispatchSemaphore)
        case task(CheckedContinuation<Step, Never>)
    }

    /// What a caller does next.
    private enum Step: Sendable {
        case done
        case write(Snapshot)
        /// The write under way ended: decide again.
        case again
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
        writeNewest { Self.record(snapshot, in: &$0) }
    }

    /// Saves `snapshot` as ``save(_:)-swift.method`` does, waiting suspended (not blocking a thread) while another
    /// caller writes, so that changes made meanwhile join the next write.
    func save(_ snapshot: Snapshot) async {
        var writesBeforeChange: Int?
        while true {
            let step = await withCheckedContinuation { (continuation: CheckedContinuation<Step, Never>) in
                let decided = state.withLock { state in
                    nextStep(&state, writesBeforeChange: &writesBeforeChange, waiter: .task(continuation)) {
                        Self.record(snapshot, in: &$0)
                    }
                }
                if let decided { continuation.resume(returning: decided) }
            }
            switch step {
            case .done: return
            case .write(let newest): return write(newest)
            case .again: continue
            }
        }
    }

    /// Saves the first snapshot taken after merging what ``retryLoad()`` read (or a newer one), and lets saves go on.
    func saveMerged(_ snapshot: Snapshot) {
        writeNewest { state in
            state.awaitsMerge = false
            if snapshot.change > state.unsaved?.change ?? 0 { state.unsaved = snapshot }
            return true
        }
    }

    /// Tries again to save the newest snapshot whose save failed, if any.
    func saveAgain() {
        writeNewest { _ in true }
    }

    /// Keeps `snapshot` as the one to write unless a newer one is; whether anything is left to write for it.
    private static func record(_ snapshot: Snapshot, in state: inout State) -> Bool {
        guard snapshot.change > state.lastSavedChange else { return false }
        if snapshot.change > state.unsaved?.change ?? 0 { state.unsaved = snapshot }
        return true
    }

    /// Applies `change` to the state (it returns whether anything is left to write) and returns once a write that
    /// began after it has ended, successfully or not; returns at once when nothing may be written (the saved
    /// outbox could not be loaded, or awaits its merge) or nothing is unsaved. Blocks its thread while another
    /// caller writes, as the storage's own write blocks it.
    private func writeNewest(after change: (inout State) -> Bool) {
        var writesBeforeChange: Int?
        while true {
            let semaphore = DispatchSemaphore(value: 0)
            let step = state.withLock { state in
                nextStep(&state, writesBeforeChange: &writesBeforeChange, waiter: .thread(semaphore), change: change)
            }
            switch step {
            case nil: semaphore.wait()
            case .done: return
            case .write(let newest): return write(newest)
            case .again: continue
            }
        }
    }

    /// A caller's next step: `change` applied on its first call (`writesBeforeChange` then records how many writes
    /// had begun), done once a write begun after the change has ended or when there is nothing to write, the
    /// newest snapshot to write when no write is under way, else `nil` and `waiter` waits for it to end.
    private func nextStep(
        _ state: inout State, writesBeforeChange: inout Int?, waiter: Waiter, change: (inout State) -> Bool
    ) -> Step? {
        if let writesBeforeChange {
            if state.writesEnded > writesBeforeChange { return .done }
        } else {
            guard change(&state) else { return .done }
            writesBeforeChange = state.writesBegun
        }
        guard !state.loadFailed, !state.awaitsMerge, let unsaved = state.unsaved else { return .done }
        guard state.writesBegun == state.writesEnded else {
            state.waiting.append(waiter)
            return nil
        }
        state.writesBegun += 1
        return .write(unsaved)
    }

    /// Writes `snapshot` (outside the lock; one write runs at a time), records the outcome and wakes the callers
    /// that waited meanwhile.
    private func write(_ snapshot: Snapshot) {
        let failure: ChatError?
        do {
            try storage.save(snapshot.messages)
            failure = nil
        } catch {
            failure = Self.chatError(error, "saved")
        }
        let waiting = state.withLock { state -> [Waiter] in
            state.writesEnded += 1
            if let failure {
                state.lastError = failure
            } else {
                state.lastSavedChange = max(state.lastSavedChange, snapshot.change)
                if state.unsaved?.change ?? 0 <= snapshot.change {
                    state.unsaved = nil
                    state.lastError = nil
                }
            }
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting {
            switch waiter {
            case .thread(let semaphore): semaphore.signal()
            case .task(let continuation): continuation.resume(returning: .again)
            }
        }
    }

    /// How many callers wait for the write under way (for tests).
    var waitingCallers: Int { state.withLock { $0.waiting.count } }

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
