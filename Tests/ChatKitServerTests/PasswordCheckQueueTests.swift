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
@testable import ChatKitServer
import Dispatch
import Foundation
import Synchronization
import Testing

/// A job that blocks its thread until released, and says when it has started.
private final class HeldJob: Sendable {
    private let started = Atomic<Bool>(false)
    private let release = DispatchSemaphore(value: 0)

    var hasStarted: Bool { started.load(ordering: .acquiring) }

    /// The work to run: blocks until ``finish()`` (or the failsafe deadline).
    var work: @Sendable () -> Void {
        {
            self.started.store(true, ordering: .releasing)
            _ = self.release.wait(timeout: failsafeDeadline())
        }
    }

    func finish() { release.signal() }
}

/// How many jobs run now, and the most that ran at once.
private final class Concurrency: Sendable {
    private let running = Atomic<Int>(0)
    private let most = Atomic<Int>(0)

    var mostAtOnce: Int { most.load(ordering: .sequentiallyConsistent) }

    func enter() {
        let now = running.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        most.max(now, ordering: .sequentiallyConsistent)
    }

    func leave() { running.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
}

/// Bcrypt's queue: a bounded number of checks at once, a bounded line, and "busy" answered past it.
@Suite struct PasswordCheckQueueTests {
    @Test func noMoreJobsRunAtOnceThanTheLimit() async throws {
        let queue = BlockingWorkQueue(label: "test", limit: 2, waitingLimit: 100)
        let concurrency = Concurrency()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<24 {
                group.addTask {
                    try await queue.run {
                        concurrency.enter()
                        // Long enough for the others to pile up behind it.
                        usleep(2_000)
                        concurrency.leave()
                        return index
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<24))
        #expect(concurrency.mostAtOnce <= 2)
        #expect(concurrency.mostAtOnce >= 1)
    }

    @Test func aJobPastTheLineIsRefusedAtOnceAndTheWaitingOneRunsLater() async throws {
        let queue = BlockingWorkQueue(label: "test", limit: 1, waitingLimit: 1)
        let held = HeldJob()
        let first = Task { try await queue.run(held.work) }
        try await waitUntil("the first job to start") { held.hasStarted }
        let second = Task { try await queue.run { "second" } }
        try await waitUntil("the second job to wait") { queue.waitingCount == 1 }

        await #expect(throws: BlockingWorkQueue.Full.self) { try await queue.run { "third" } }

        held.finish()
        try await first.value
        #expect(try await second.value == "second")
        // Every turn was given back: two jobs fit again (one running, one waiting).
        let again = HeldJob()
        let running = Task { try await queue.run(again.work) }
        try await waitUntil("the job to start") { again.hasStarted }
        let waiting = Task { try await queue.run { 1 } }
        try await waitUntil("the job to wait") { queue.waitingCount == 1 }
        again.finish()
        try await running.value
        #expect(try await waiting.value == 1)
    }

    @Test func loginsAndSignUpsAreAnsweredBusyWhileThePasswordQueueIsFullAndDoNotCount() async throws {
        let store = InMemoryChatStore()
        let auth = AuthService(
            store: store, secret: Array("test-secret-0123456789-abcdefghijklmnop".utf8),
            configuration: .init(
                bcryptCost: 4, passwordCheckConcurrency: 1, passwordChecksWaiting: 0,
                limits: .init(loginAttemptBurst: 1, loginAttemptInterval: .seconds(3600), failedLoginBurst: 1)
            )
        )
        _ = try await auth.signUp(username: "alice", password: "correct horse battery")
        let held = HeldJob()
        let holder = Task { try await auth.hasher.queue.run(held.work) }
        try await waitUntil("the held job to start") { held.hasStarted }

        for _ in 0..<3 {
            let busy = await Self.error { _ = try await auth.logIn(username: "alice", password: "correct horse battery") }
            #expect(busy?.code == .unavailable)
            #expect(busy?.retryAfter == .seconds(1))
            let unknown = await Self.error { _ = try await auth.logIn(username: "nobody", password: "whatever it is") }
            #expect(unknown?.code == .unavailable)
        }
        let signUp = await Self.error { _ = try await auth.signUp(username: "bob", password: "correct horse battery") }
        #expect(signUp?.code == .unavailable)
        #expect(try await store.user(username: "bob") == nil)

        held.finish()
        try await holder.value
        // The refused attempts took nothing from the burst of one: the first real attempt is checked, and passes.
        _ = try await auth.logIn(username: "alice", password: "correct horse battery")
        _ = try await auth.signUp(username: "bob", password: "correct horse battery")
    }

    @Test func theHTTPEdgeAnswersBusyWith503AndRetryAfter() async throws {
        // One sign-up and one login per address: a request refused as busy must not spend them.
        try await LiveServer.run(
            authConfiguration: .init(bcryptCost: 4, passwordCheckConcurrency: 1, passwordChecksWaiting: 0),
            httpConfiguration: .init(signUpBurst: 1, logInBurst: 1)
        ) { live in
            let held = HeldJob()
            let holder = Task { try await live.auth.hasher.queue.run(held.work) }
            try await waitUntil("the held job to start") { held.hasStarted }
            let credentials = ["username": "carol", "password": "correct horse battery"]
            let busy = try await live.http("POST", "/v1/auth/signup", json: credentials)
            #expect(busy.status == 503)
            #expect(busy.code == "unavailable")
            #expect(busy.retryAfter == "1")
            let busyLogIn = try await live.http("POST", "/v1/auth/login", json: credentials)
            #expect(busyLogIn.status == 503)
            held.finish()
            try await holder.value
            let signedUp = try await live.http("POST", "/v1/auth/signup", json: credentials)
            #expect(signedUp.status == 201)
            let loggedIn = try await live.http("POST", "/v1/auth/login", json: credentials)
            #expect(loggedIn.status == 200)
        }
    }

    private static func error(_ body: () async throws -> Void) async -> ChatError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? ChatError
        }
    }
}
