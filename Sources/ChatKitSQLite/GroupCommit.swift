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
/// back to back, each one carries the work that piled up during the previous one, up to `maximumBatchSize`
/// inputs (more wait for the next commits, oldest first), and a submitter waits for the batches ahead of its own.
///
/// If the leader's task is cancelled and its commit throws `CancellationError`, nothing was committed: the
/// leader returns that error and the other inputs of the batch go back to the front of the queue.
final class GroupCommit<Input: Sendable, Output: Sendable>: Sendable {
    /// Commits a batch and returns one result per input, in order. A thrown error fails the whole batch.
    typealias Commit = @Sendable ([Input]) async throws -> [Result<Output, any Error>]

    private enum Turn: Sendable {
        case done([Result<Output, any Error>])
        case lead
    }

    /// One submission: its inputs (committed in order, in one batch) and the submitter waiting for its turn.
    private struct Waiter: Sendable {
        let inputs: [Input]
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
        try await submit(contentsOf: [input])[0].get()
    }

    /// Commits `inputs`, in order and in one batch (with other concurrent submissions), and returns their
    /// results in the same order. More inputs than the maximum batch size make a batch of their own.
    func submit(contentsOf inputs: [Input]) async -> [Result<Output, any Error>] {
        guard !inputs.isEmpty else { return [] }
        let turn: Turn = await withCheckedContinuation { continuation in
            let leads = state.withLock { state in
                if state.isLeading {
                    state.waiters.append(Waiter(inputs: inputs, continuation: continuation))
                    return false
                }
                state.isLeading = true
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done(let results):
            return results
        case .lead:
            return await lead(with: inputs)
        }
    }

    /// Commits one batch headed by the leader's own inputs, then hands the leadership on.
    private func lead(with inputs: [Input]) async -> [Result<Output, any Error>] {
        // Let the tasks that are ready to run (typically the submitters the previous batch just resumed) submit
        // their next input before the batch is taken, so that it carries them.
        await Task.yield()
        let batch = state.withLock { state in
            var count = inputs.count
            var taken = 0
            while taken < state.waiters.count, count + state.waiters[taken].inputs.count <= maximumBatchSize {
                count += state.waiters[taken].inputs.count
                taken += 1
            }
            let batch = Array(state.waiters.prefix(taken))
            state.waiters.removeFirst(taken)
            return batch
        }
        let all = inputs + batch.flatMap(\.inputs)
        var results: [Result<Output, any Error>]
        do {
            results = try await commit(all)
            precondition(results.count == all.count, "a group commit returned the wrong number of results")
        } catch is CancellationError where Task.isCancelled {
            state.withLock { $0.waiters.insert(contentsOf: batch, at: 0) }
            handOver()
            return Array(repeating: .failure(CancellationError()), count: inputs.count)
        } catch {
            results = Array(repeating: .failure(error), count: all.count)
        }
        var offset = inputs.count
        for waiter in batch {
            let own = Array(results[offset..<offset + waiter.inputs.count])
            offset += waiter.inputs.count
            waiter.continuation.resume(returning: .done(own))
        }
        handOver()
        return Array(results[..<inputs.count])
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
