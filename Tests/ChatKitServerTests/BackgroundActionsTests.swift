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
        let released = SetOnceFlag()
        let ran = Mutex<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await actions.run() }
            defer { group.cancelAll() }
            actions.run {
                // Like the close of a socket whose peer stopped reading.
                while !released.isSet && !Task.isCancelled { await Task.yield() }
                ran.withLock { $0.append("stuck") }
            }
            actions.run { ran.withLock { $0.append("quick") } }
            try await waitUntil("the quick action") { ran.withLock { $0 } == ["quick"] }
            released.set()
            try await waitUntil("the stuck action") { ran.withLock { $0.count } == 2 }
        }
    }

    @Test func cancellingTheRunnerEndsItAndItsActions() async throws {
        let actions = BackgroundActions()
        let started = SetOnceFlag()
        actions.run {
            started.set()
            while !Task.isCancelled { await Task.yield() }
        }
        try await withTimeout("the cancelled runner to return") {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await actions.run() }
                try? await waitUntil("the action to start") { started.isSet }
                group.cancelAll()
            }
        }
    }
}
