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

public import ChatKitCore
public import Foundation

/// Compares a ``ChatKitCore/ChatStore`` with ChatKit's in-memory store, the reference, on long random sequences of
/// calls: the conformance suite's cases check one promise at a time, this finds what they did not think of.
///
/// Each run makes a fresh store under test and a fresh `InMemoryChatStore`, both reading the time from one
/// clock, and makes the same calls on both, chosen at random from `seed`: users, contacts, conversations of each
/// kind, members and roles, messages (resends of a client message ID and batches included), edits, deletions,
/// reactions, markers, login sessions (creation, rotation with retries and reuses, revocation), and the reads of
/// users, contacts, conversations, members, messages, markers, sync, search and sessions, among them calls a store
/// must refuse (unknown IDs, users who may not do what they ask, empty or unusual text). Attachments, size limits
/// and `deleteSessions(endedBefore:limit:)` (a store may keep ended sessions) are left to the conformance cases.
/// After each call it compares:
/// - what both returned, or the ``ChatKitCore/ChatError/Code`` both threw (not its wording): a store's IDs are its
///   own, so the comparison pairs the IDs each store handed out in order, and compares positions the same way;
/// - the events each call recorded (`allEvents(after:limit:)`), one by one, and that positions increase.
///
/// Lists in no particular order or in the order of IDs (which differ between stores) are compared sorted, and
/// searches by the messages they found (ranking and snippets are the store's own). Pages are compared whole: a
/// store answers `limit` items when that many are there, as the reference does.
///
/// The calls are chosen to break one rule at a time: which of two refusals comes first is not part of the protocol
/// (stores that use ``ChatKitCore/MembershipRules`` refuse in the reference's order anyway). A login session's
/// `refreshedAt` and `credentialsVersion` are not compared (a store may not keep them), nor is expiry (sessions
/// outlive the run). IDs must be unique across users, conversations and messages, and differ from the text users
/// supply (the comparison maps the store's ID strings to the reference's wherever they appear).
///
/// The first difference throws a ``ConformanceFailure`` naming the seed, the step, the call, both outcomes and the
/// calls before it; the same seed repeats the run call for call with the same Swift toolchain (its random
/// algorithms decide the calls). A store that differs from the reference where the protocol leaves it free
/// (which the reference is not meant to be) should say so in an issue.
///
/// ```swift
/// @Test(arguments: 1...12 as ClosedRange<UInt64>)
/// func matchesTheReference(seed: UInt64) async throws {
///     try await ReferenceComparison.run(seed: seed) { now in try await MyChatStore.makeEmpty(clock: now) }
/// }
/// ```
public enum ReferenceComparison {
    /// Makes a fresh, empty store under test that reads the time from `now` (every time it stamps a
    /// `createdAt`, `editedAt` or other date, as the reference does), with millisecond precision at least.
    public typealias StoreFactory = @Sendable (_ now: @escaping @Sendable () -> Date) async throws -> any ChatStore

    /// Makes `steps` random calls, chosen by `seed`, on a fresh store from `makeStore` and on the reference.
    ///
    /// - Parameters:
    ///   - seed: Chooses the calls; the same seed makes the same calls (with the same toolchain).
    ///   - steps: How many calls to make (none for 0 or less). Each takes about a millisecond on SQLite.
    ///   - makeStore: Makes the fresh, empty store under test, reading the time from the clock it is given.
    /// - Throws: ``ConformanceFailure`` at the first difference; what `makeStore` throws.
    public static func run(seed: UInt64, steps: Int = 400, _ makeStore: StoreFactory) async throws {
        let clock = ComparisonClock()
        var comparison = ComparisonRun(
            seed: seed,
            reference: ComparedSide(InMemoryChatStore(configuration: .init(now: clock.now))),
            tested: ComparedSide(try await makeStore(clock.now))
        )
        for step in 0..<max(steps, 0) {
            clock.advance()
            try await comparison.step(step)
        }
    }
}
