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

import Synchronization

/// Batches concurrent submissions into one commit while every submitter awaits its own result.
///
/// It is a *combining* queue and needs no background task: a submitter that finds no commit running becomes the
/// leader and commits its own input together with everything queued (up to `maximumBatchSize`), then resumes
/// each waiter with its own result. Inputs that arrive meanwhile queue up; when the leader is done it hands the
/// leadership to the oldest waiter, which commits the next batch (its own input first). So while commits run
/// back to back, each one carries all the work that piled up during the previous one, and no submitter waits for
/// more than the batch in flight plus its own.
///
/// If the leader's task is cancelled and its commit throws `CancellationError`, nothing was committed: the
/// leader returns that error and the other inputs of the batch go back to the front of the queue.
final class GroupCommit<Input: Sendable, Output: Sendable>: Sendable {
    /// Commits a batch and returns one result per input, in order. A thrown error fails the whole batch.
    typealias Commit = @Sendable ([Input]) async throws -> [Result<Output, any Error>]

    private enum Turn: Sendable {
        case done(Result<Output, any Error>)
        case lead
    }

    private struct Waiter: Sendable {
        let input: Input
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var waiters: [Waiter] = []
        var isLeading = false
    }

    private let state = Mutex(State())
    private let maximumBatchSize: Int
    private let commit: Commit

    init(maximumBatchSize: Int, commit: @escaping Commit) {
        self.maximumBatchSize = max(1, maximumBatchSize)
        self.commit = commit
    }

    /// How many submissions wait for a leader to commit them (observed by tests).
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Commits `input` (in a batch with other concurrent submissions) and returns its own result.
    func submit(_ input: Input) async throws -> Output {
        let turn: Turn = await withCheckedContinuation { continuation in
            let leads = state.withLock { state in
                if state.isLeading {
                    state.waiters.append(Waiter(input: input, continuation: continuation))
                    return false
                }
                state.isLeading = true
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done(let result):
            return try result.get()
        case .lead:
            return try await lead(with: input).get()
        }
    }

    /// Commits one batch headed by the leader's own input, then hands the leadership on.
    private func lead(with input: Input) async -> Result<Output, any Error> {
        // Let the tasks that are ready to run (typically the submitters the previous batch just resumed) submit
        // their next input before the batch is taken, so that it carries them.
        await Task.yield()
        let batch = state.withLock { state in
            let count = min(state.waiters.count, maximumBatchSize - 1)
            let batch = Array(state.waiters.prefix(count))
            state.waiters.removeFirst(count)
            return batch
        }
        let inputs = [input] + batch.map(\.input)
        var results: [Result<Output, any Error>]
        do {
            results = try await commit(inputs)
            precondition(results.count == inputs.count, "a group commit returned the wrong number of results")
        } catch is CancellationError where Task.isCancelled {
            state.withLock { $0.waiters.insert(contentsOf: batch, at: 0) }
            handOver()
            return .failure(CancellationError())
        } catch {
            results = Array(repeating: .failure(error), count: inputs.count)
        }
        for (waiter, result) in zip(batch, results.dropFirst()) {
            waiter.continuation.resume(returning: .done(result))
        }
        handOver()
        return results[0]
    }

    /// Makes the oldest waiter the next leader, or marks the queue idle.
    private func handOver() {
        let next: Waiter? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.isLeading = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
    }
}
