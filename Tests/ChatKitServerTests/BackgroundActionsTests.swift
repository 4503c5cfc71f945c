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
import Testing

@testable import ChatKitServer

@Suite("Background actions")
struct BackgroundActionsTests {
    @Test func actionsPushedBeforeTheRunnerStartsRunOnceItDoes() async throws {
        let actions = BackgroundActions()
        let ran = Mutex<[Int]>([])
        actions.run { ran.withLock { $0.append(1) } }
        actions.run { ran.withLock { $0.append(2) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await actions.run() }
            defer { group.cancelAll() }
            try await waitUntil("both actions") { ran.withLock { $0.count } == 2 }
        }
        #expect(ran.withLock { $0.sorted() } == [1, 2])
    }

    @Test func anActionThatWaitsDoesNotHoldUpTheOthers() async throws {
        let actions = BackgroundActions()
        let (release, released) = AsyncStream.makeStream(of: Void.self)
        let ran = Mutex<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await actions.run() }
            defer { group.cancelAll() }
            actions.run {
                // Like the close of a socket whose peer stopped reading.
                for await _ in release { break }
                ran.withLock { $0.append("stuck") }
            }
            actions.run { ran.withLock { $0.append("quick") } }
            try await waitUntil("the quick action") { ran.withLock { $0 } == ["quick"] }
            released.yield()
            try await waitUntil("the stuck action") { ran.withLock { $0.count } == 2 }
        }
    }

    @Test func cancellingTheRunnerEndsItAndItsActions() async throws {
        let actions = BackgroundActions()
        let (started, start) = AsyncStream.makeStream(of: Void.self)
        let (never, _) = AsyncStream.makeStream(of: Void.self)
        actions.run {
            start.yield()
            for await _ in never {}  // ends only when cancelled
        }
        // An unstructured task, so that a runner that ignored cancellation fails the wait below instead of
        // hanging the test in a task group that waits for its children.
        let returned = SetOnceFlag()
        let runner = Task {
            await actions.run()
            returned.set()
        }
        for await _ in started { break }
        runner.cancel()
        try await waitUntil("the cancelled runner to return") { returned.isSet }
    }
}
