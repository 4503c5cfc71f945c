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
/// (the asynchronous `save`) while one writes, and the storage writes the whole outbox a few times instead of once per
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
        /// Writes begun and ended; one runs at a time, so `writesEnded` is `writesBegun` or one less. A retried
        /// load that succeeds begins the write of the merged outbox (``saveMerged(_:)`` ends it): a snapshot taken
        /// before the merge lacks what the load read, and writing it would lose that from the storage, so changes
        /// made meanwhile wait for the merged write as for any other.
        var writesBegun = 0
        var writesEnded = 0
        /// Callers waiting for the write under way to end.
        var waiting: [Waiter] = []
    }

    /// A caller waiting for the write under way to end: a thread (a synchronous call) or a task.
    private enum Waiter {
        case thread(DispatchSemaphore)
        case task(CheckedContinuation<Void, Never>)
    }

    /// What a caller does next.
    private enum Step {
        case done
        /// Write this snapshot (the write is counted as begun).
        case write(Snapshot)
        /// Wait for the write under way to end, then decide again.
        case wait
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

    /// After a failed load, tries it again: the messages read when it now succeeds (once; the client must merge
    /// them into its outbox and pass the result to ``saveMerged(_:)``: saves made meanwhile wait for it), `nil`
    /// otherwise.
    func retryLoad() -> [OutgoingMessage]? {
        state.withLock { state in
            guard state.loadFailed else { return nil }
            do {
                let messages = Self.unsent(try storage.load())
                state.loadFailed = false
                // No write is under way while the load failed: this begins the merged outbox's.
                state.writesBegun += 1
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

    /// Saves `snapshot` as the synchronous `save` does, waiting suspended (not blocking a thread) while another
    /// caller writes, so that changes made meanwhile join the next write.
    func save(_ snapshot: Snapshot) async {
        var writesBeforeChange: Int?
        while true {
            let step = state.withLock { state in
                nextStep(&state, writesBeforeChange: &writesBeforeChange) { Self.record(snapshot, in: &$0) }
            }
            switch step {
            case .done:
                return
            case .write(let newest):
                return write(newest)
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let waits = state.withLock { state in
                        guard state.writesBegun > state.writesEnded else { return false }
                        state.waiting.append(.task(continuation))
                        return true
                    }
                    if !waits { continuation.resume() }
                }
            }
        }
    }

    /// Writes the first snapshot taken after merging what ``retryLoad()`` read (or a newer one), ending the write
    /// the load began, and lets saves go on.
    func saveMerged(_ snapshot: Snapshot) {
        let newest = state.withLock { state in
            if snapshot.change > state.unsaved?.change ?? 0 { state.unsaved = snapshot }
            return state.unsaved ?? snapshot
        }
        write(newest)
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
    /// outbox could not be loaded) or nothing is unsaved. Blocks its thread while another caller writes, as the
    /// storage's own write blocks it. (On Apple platforms the writer does not inherit a waiting thread's priority,
    /// as it did while every save held a lock: a main-thread `queue` may wait on a write of a lower priority task.)
    private func writeNewest(after change: (inout State) -> Bool) {
        var writesBeforeChange: Int?
        while true {
            let (step, semaphore) = state.withLock { state -> (Step, DispatchSemaphore?) in
                let step = nextStep(&state, writesBeforeChange: &writesBeforeChange, change: change)
                guard case .wait = step else { return (step, nil) }
                let semaphore = DispatchSemaphore(value: 0)
                state.waiting.append(.thread(semaphore))
                return (step, semaphore)
            }
            switch step {
            case .done: return
            case .write(let newest): return write(newest)
            case .wait: semaphore?.wait()
            }
        }
    }

    /// A caller's next step: `change` applied on its first call (`writesBeforeChange` then records how many writes
    /// had begun), done once a write begun after the change has ended or when there is nothing to write, the
    /// newest snapshot to write when no write is under way (its write counted as begun), else wait.
    private func nextStep(
        _ state: inout State, writesBeforeChange: inout Int?, change: (inout State) -> Bool
    ) -> Step {
        if let writesBeforeChange {
            if state.writesEnded > writesBeforeChange { return .done }
        } else {
            guard change(&state) else { return .done }
            writesBeforeChange = state.writesBegun
        }
        guard state.writesBegun == state.writesEnded else { return .wait }
        guard !state.loadFailed, let unsaved = state.unsaved else { return .done }
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
            case .task(let continuation): continuation.resume()
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
