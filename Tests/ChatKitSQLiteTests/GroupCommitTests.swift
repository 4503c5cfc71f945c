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
import ChatKitTesting
import Foundation
import GRDB
import Synchronization
import Testing

@testable import ChatKitSQLite

/// Waits until `condition` holds, failing after `timeout`: a hang detector sized for the whole suite running in
/// parallel on two cores, not a speed check. The condition is checked after each of the first yields, then every
/// millisecond, so that a long wait does not keep a core busy that the work it waits for needs.
func waitUntil(timeout: Duration = .seconds(120), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    var checks = 0
    while !condition() {
        guard ContinuousClock.now < deadline else {
            throw ConformanceFailure("condition not met within \(timeout)")
        }
        checks += 1
        if checks < 100 {
            await Task.yield()
        } else {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// The result of an async throwing call.
func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

final class BatchLog: Sendable {
    let batches = Mutex<[[Int]]>([])
}

@Suite("Group commit")
struct GroupCommitTests {
    @Test("submissions that arrive during a commit go together in the next one, each with its own result")
    func batchesWhatQueuedUp() async throws {
        let log = BatchLog()
        let gate = AsyncStream<Void>.makeStream()
        let combiner = GroupCommit<Int, String>(maximumBatchSize: 100) { batch in
            let isFirst = log.batches.withLock { batches in
                batches.append(batch)
                return batches.count == 1
            }
            if isFirst {
                // Hold the first commit until the test has queued the others.
                for await _ in gate.stream { break }
            }
            return batch.map { $0 % 5 == 0 ? .failure(ChatError(.conflict, "\($0)")) : .success("result \($0)") }
        }
        try await withThrowingTaskGroup(of: (Int, Result<String, any Error>).self) { tasks in
            tasks.addTask { (1, await outcome { try await combiner.submit(1) }) }
            try await waitUntil { log.batches.withLock { $0.count } == 1 }
            for input in 2...16 {
                tasks.addTask { (input, await outcome { try await combiner.submit(input) }) }
            }
            try await waitUntil { combiner.waitingCount == 15 }
            gate.continuation.yield()
            for try await (input, result) in tasks {
                if input % 5 == 0 {
                    #expect(throws: ChatError.self) { try result.get() }
                } else {
                    #expect(try result.get() == "result \(input)")
                }
            }
        }
        let batches = log.batches.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.first == [1])
        #expect(batches.last?.sorted() == Array(2...16))
    }

    @Test("several inputs submitted at once stay together and in order; too many make a batch of their own")
    func submissionsOfSeveralInputs() async throws {
        let log = BatchLog()
        let gate = AsyncStream<Void>.makeStream()
        let combiner = GroupCommit<Int, Int>(maximumBatchSize: 8) { batch in
            let isFirst = log.batches.withLock { batches in
                batches.append(batch)
                return batches.count == 1
            }
            if isFirst {
                for await _ in gate.stream { break }
            }
            return batch.map { .success($0 * 10) }
        }
        try await withThrowingTaskGroup(of: (Int, [Int]).self) { tasks in
            tasks.addTask { (0, try await combiner.submit(contentsOf: [0]).map { try $0.get() }) }
            try await waitUntil { log.batches.withLock { $0.count } == 1 }
            // Queued in this order while the first commit is held: 3 inputs, 4 inputs, 12 inputs, 1 input.
            let submissions = [Array(1...3), Array(11...14), Array(21...32), [41]]
            for (number, inputs) in submissions.enumerated() {
                tasks.addTask { (number + 1, try await combiner.submit(contentsOf: inputs).map { try $0.get() }) }
                try await waitUntil { combiner.waitingCount == number + 1 }
            }
            gate.continuation.yield()
            for try await (number, results) in tasks {
                let inputs = number == 0 ? [0] : submissions[number - 1]
                #expect(results == inputs.map { $0 * 10 }, "submission \(number)'s results, in its order")
            }
        }
        let batches = log.batches.withLock { $0 }
        // 3 + 4 fit in 8; the next 12 do not, so they lead a batch of their own; the last follows.
        #expect(batches == [[0], Array(1...3) + Array(11...14), Array(21...32), [41]])
    }

    @Test("a cancelled leader fails alone; the inputs it held go to the next leader")
    func cancelledLeaderHandsOver() async throws {
        let log = BatchLog()
        let gate = AsyncStream<Void>.makeStream()
        let combiner = GroupCommit<Int, Int>(maximumBatchSize: 100) { batch in
            let isFirst = log.batches.withLock { batches in
                batches.append(batch)
                return batches.count == 1
            }
            if isFirst {
                for await _ in gate.stream { break }  // ends early when the leader's task is cancelled
                try Task.checkCancellation()
            }
            return batch.map { .success($0 * 10) }
        }
        let leader = Task { try await combiner.submit(1) }
        try await waitUntil { log.batches.withLock { $0.count } == 1 }
        async let second = combiner.submit(2)
        async let third = combiner.submit(3)
        try await waitUntil { combiner.waitingCount == 2 }
        leader.cancel()
        await #expect(throws: CancellationError.self) { try await leader.value }
        #expect(try await second == 20)
        #expect(try await third == 30)
        let batches = log.batches.withLock { $0 }
        #expect(batches.first == [1])
        #expect(batches.dropFirst().flatMap { $0 }.sorted() == [2, 3])
        #expect(combiner.waitingCount == 0)
        gate.continuation.finish()
    }

    @Test("a batch never exceeds the maximum size, and the leadership passes on")
    func respectsMaximumBatchSize() async throws {
        let log = BatchLog()
        let combiner = GroupCommit<Int, Int>(maximumBatchSize: 4) { batch in
            log.batches.withLock { $0.append(batch) }
            await Task.yield()
            return batch.map { .success($0 * 2) }
        }
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { tasks in
            for input in 0..<200 { tasks.addTask { (input, try await combiner.submit(input)) } }
            return try await tasks.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.value == $0.key * 2 })
        let batches = log.batches.withLock { $0 }
        #expect(batches.allSatisfy { $0.count <= 4 })
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<200))
        #expect(combiner.waitingCount == 0)
    }

    @Test("concurrent appends share transactions, get their own results, and keep seqs gapless")
    func storeAppendsAreBatched() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("chat.sqlite").path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let writers = try await fixture.users(count: 16)
            let outsider = try await fixture.user("outsider")
            let group = try await fixture.group(writers[0], Array(writers.dropFirst()))
            let before = store.statistics.appendCommits.load(ordering: .relaxed)
            let perWriter = 100
            let sent = try await withThrowingTaskGroup(of: [Message].self) { tasks in
                for (index, writer) in writers.enumerated() {
                    tasks.addTask {
                        var sent: [Message] = []
                        for number in 0..<perWriter {
                            let body = "writer \(index) message \(number)"
                            let message = try await fixture.send(body, from: writer, to: group)
                            #expect(message.body == body && message.senderID == writer)
                            sent.append(message)
                        }
                        return sent
                    }
                }
                // An outsider's appends fail on their own, inside the same batches, without hurting the others.
                tasks.addTask {
                    for number in 0..<20 {
                        await #expect(throws: ChatError.self) {
                            try await fixture.send("outsider \(number)", from: outsider, to: group)
                        }
                    }
                    return []
                }
                return try await tasks.reduce(into: []) { $0 += $1 }
            }
            let total = writers.count * perWriter
            #expect(sent.map(\.seq).sorted() == (1...Int64(total)).map { $0 })
            let history = try await store.messages(in: group, .after(0, limit: total + 10), as: writers[0])
            #expect(history == sent.sorted { $0.seq < $1.seq })
            let commits = store.statistics.appendCommits.load(ordering: .relaxed) - before
            #expect(commits < total, "\(commits) transactions for \(total) concurrent appends: no batching")
        }
    }

    @Test("append(contentsOf:) commits in order, in batches of at most the configured size")
    func storeAppendsSeveralAtOnce() async throws {
        try await withTemporaryDirectory { directory in
            var configuration = SQLiteChatStore.Configuration(path: directory.appendingPathComponent("chat.sqlite").path)
            configuration.maximumBatchSize = 4
            let store = try SQLiteChatStore(configuration: configuration)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let before = store.statistics.appendCommits.load(ordering: .relaxed)
            let messages = (0..<10).map { number in
                NewMessage(
                    conversationID: chat, senderID: alice, clientMessageID: ClientMessageID(rawValue: "k\(number)"),
                    body: "m\(number)"
                )
            }
            let stored = try await store.append(contentsOf: messages).map { try $0.get() }
            #expect(stored.map(\.body) == (0..<10).map { "m\($0)" })
            #expect(stored.map(\.seq) == (1...10).map { Int64($0) })
            let commits = store.statistics.appendCommits.load(ordering: .relaxed) - before
            #expect(commits == 3, "10 messages in batches of at most 4 take 3 transactions, not \(commits)")
        }
    }

    /// A batch is committed again message by message only after an error one message can cause: a lock held by
    /// another process would make each retry wait out the busy timeout again, every append waiting behind it.
    @Test("only a full file or a value too large has a failed batch committed again one message at a time")
    func batchRetryErrors() {
        #expect(SQLiteChatStore.mayFailAlone(DatabaseError(resultCode: .SQLITE_FULL)))
        #expect(SQLiteChatStore.mayFailAlone(DatabaseError(resultCode: .SQLITE_TOOBIG)))
        #expect(!SQLiteChatStore.mayFailAlone(DatabaseError(resultCode: .SQLITE_BUSY)))
        #expect(!SQLiteChatStore.mayFailAlone(DatabaseError(resultCode: .SQLITE_IOERR)))
        #expect(!SQLiteChatStore.mayFailAlone(CancellationError()))
        #expect(!SQLiteChatStore.mayFailAlone(ChatError(.storageFailure, "mapped already")))
    }
}
