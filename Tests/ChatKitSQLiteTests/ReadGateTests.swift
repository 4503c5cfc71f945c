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
@testable import ChatKitSQLite
import ChatKitTesting
import Dispatch
import Foundation
import Synchronization
import Testing

@Suite("Long reads and short reads")
struct ReadGateTests {
    @Test("a gate lets at most its width through; the others enter in arrival order as places free up")
    func boundsAndOrders() async throws {
        let gate = ReadGate(width: 2)
        let entered = SharedValue<[Int]>([])
        let releases = (0..<4).map { _ in AsyncStream<Void>.makeStream() }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<4 {
                tasks.addTask {
                    try await gate.pass {
                        entered.value.withLock { $0.append(index) }
                        for await _ in releases[index].stream { break }
                    }
                }
                // One at a time, so the arrival order is known.
                if index < 2 {
                    try await waitUntil { entered.value.withLock { $0.count } == index + 1 }
                } else {
                    try await waitUntil { gate.waitingCount == index - 1 }
                }
            }
            #expect(entered.value.withLock { $0 } == [0, 1])
            releases[1].continuation.finish()
            try await waitUntil { entered.value.withLock { $0.count } == 3 }
            #expect(entered.value.withLock { $0 } == [0, 1, 2], "the oldest waiter enters first")
            #expect(gate.waitingCount == 1)
            releases[0].continuation.finish()
            try await waitUntil { entered.value.withLock { $0.count } == 4 }
            releases[2].continuation.finish()
            releases[3].continuation.finish()
            try await tasks.waitForAll()
        }
        #expect(gate.waitingCount == 0)
    }

    @Test("a body's error passes through and frees the place")
    func errorsFreeThePlace() async throws {
        let gate = ReadGate(width: 1)
        await #expect(throws: ChatError.self) {
            try await gate.pass { () throws -> Int in throw ChatError(.storageFailure, "boom") }
        }
        #expect(try await gate.pass { 42 } == 42)
    }

    @Test("short reads go on while long reads fill their places; one more long read waits its turn")
    func shortReadsDoNotWaitForLongOnes() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("chat.sqlite").path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            try await fixture.send(count: 5, from: alice, to: chat, prefix: "hello")
            // Two long reads (4 readers by default, minus two) hold their connections like slow searches.
            let release = DispatchSemaphore(value: 0)
            let holding = SharedValue<Int>(0)
            let holders = (0..<2).map { _ in
                Task {
                    try await store.readInBackground { _ in
                        holding.value.withLock { $0 += 1 }
                        release.wait()
                    }
                }
            }
            defer { for _ in holders { release.signal() } }
            try await waitUntil { holding.value.withLock { $0 } == 2 }
            let search = Task { try await store.search("hello", as: bob, in: nil, limit: 10) }
            try await waitUntil { store.longReads.waitingCount == 1 }

            let history = try await store.messages(in: chat, .latest(limit: 50), as: bob)
            #expect(history.count == 5)
            #expect(try await store.user(alice)?.username == "alice")
            #expect(store.longReads.waitingCount == 1, "the search still waits")

            for _ in holders { release.signal() }
            for holder in holders { try await holder.value }
            #expect(try await search.value.count == 5)
        }
    }

    @Test("short reads run on the caller only for a file database with two readers or more")
    func whereShortReadsRun() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let pooled = try SQLiteChatStore(path: path)
            #expect(pooled.readsOnCaller)
            try pooled.close()
            let single = try SQLiteChatStore(configuration: .init(location: .file(path), readerCount: 1))
            #expect(!single.readsOnCaller)
            try single.close()
        }
        #expect(try !SQLiteChatStore(configuration: .inMemory).readsOnCaller)
    }

    @Test("with one reader, short reads wait for a long one without holding threads")
    func oneReaderDoesNotDeadlock() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(configuration: .init(location: .file(path), readerCount: 1))
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            try await fixture.send(count: 3, from: alice, to: chat)
            let release = DispatchSemaphore(value: 0)
            let holding = SharedValue<Int>(0)
            let long = Task {
                try await store.readInBackground { _ in
                    holding.value.withLock { $0 += 1 }
                    release.wait()
                }
            }
            defer { release.signal() }
            try await waitUntil { holding.value.withLock { $0 } == 1 }
            // More short reads than the global executor has threads: were they to block their threads waiting
            // for the one reader, nothing could run this test's next line.
            let reads = (0..<8).map { _ in Task { try await store.messages(in: chat, .latest(limit: 50), as: bob).count } }
            try await waitUntil { store.longReads.waitingCount == 8 }
            release.signal()
            try await long.value
            for read in reads { #expect(try await read.value == 3) }
        }
    }
}


/// A value shared by the tasks of a test.
private final class SharedValue<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
