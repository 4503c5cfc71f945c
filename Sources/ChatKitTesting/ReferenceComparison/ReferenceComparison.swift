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
import Synchronization

/// Compares a ``ChatKitCore/ChatStore`` with ChatKit's in-memory store, the reference, on long random sequences of
/// calls: the conformance suite's cases check one promise at a time, this finds what they did not think of.
///
/// Each run makes a fresh store under test and a fresh `InMemoryChatStore`, both reading the time from one
/// clock, and makes the same calls on both, chosen at random from `seed`: users, contacts, conversations of each
/// kind, members and roles, messages (resends of a client message ID and batches included), edits, deletions,
/// reactions, markers, and every read, among them some calls a store must refuse (unknown IDs, users who may not
/// do what they ask, empty or unusual text). After each call it compares:
/// - what both returned, or the ``ChatKitCore/ChatError/Code`` both threw (not its wording): a store's IDs are its
///   own, so the comparison pairs the IDs each store handed out in order, and compares positions the same way;
/// - the events each call recorded (`allEvents(after:limit:)`), one by one.
///
/// Lists in no particular order (`users(_:)`, `memberships(of:)`, `membersSharingPresence(with:maxGroupSize:)`)
/// are compared sorted, and searches by the messages they found (ranking and snippets are the store's own).
///
/// The first difference throws a ``ConformanceFailure`` naming the seed, the step, the call and both outcomes;
/// the same seed repeats the run call for call. A store that differs from the reference where the protocol
/// leaves it free (which the reference is not meant to be) should say so in an issue.
///
/// ```swift
/// @Test(arguments: 1...20)
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
    /// - Throws: ``ConformanceFailure`` at the first difference; what `makeStore` throws.
    public static func run(seed: UInt64, steps: Int = 400, _ makeStore: StoreFactory) async throws {
        let clock = ComparisonClock()
        var comparison = Comparison(
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

/// The time both stores read: a second and a quarter later at each step, whole milliseconds.
private final class ComparisonClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_780_000_000))

    var now: @Sendable () -> Date { { [self] in current.withLock { $0 } } }

    func advance() { current.withLock { $0 += 1.25 } }
}

/// A run in progress: both stores, what they created, and how to tell their IDs apart.
private struct Comparison {
    let seed: UInt64
    var reference: ComparedSide
    var tested: ComparedSide
    var generator: OperationGenerator
    var world = ComparisonWorld()
    var translation = IDTranslation(positions: [0: 0])

    init(seed: UInt64, reference: ComparedSide, tested: ComparedSide) {
        self.seed = seed
        self.reference = reference
        self.tested = tested
        generator = OperationGenerator(seed: seed)
    }

    mutating func step(_ step: Int) async throws {
        let reference = reference
        // Most calls are made by a member of the conversation they are about, as the reference says.
        let operation = await generator.next(in: world) { conversation in
            guard conversation < reference.conversations.count,
                let members = try? await reference.store.memberIDs(of: reference.conversations[conversation], at: nil)
            else { return [] }
            // Sorted: the IDs, and so their order, are new at each run; the choices must not be.
            return members.compactMap { reference.users.firstIndex(of: $0) }.sorted()
        }
        let expected = await reference.perform(operation)
        let actual = await tested.perform(operation)
        let seed = seed
        let failure = { (what: String) in
            ConformanceFailure("reference comparison, seed \(seed), step \(step), \(operation):\n\(what)")
        }
        if case .success = expected.result, case .success = actual.result {
            try learn(from: expected, and: actual, of: operation, failure: failure)
        }
        let expectedText = ComparedOutcome.text(of: expected.result, translation: nil, unordered: operation.isUnordered)
        let actualText = ComparedOutcome.text(
            of: actual.result, translation: translation, unordered: operation.isUnordered
        )
        guard expectedText == actualText else {
            throw failure("the reference returned\n  \(expectedText)\nthe store under test\n  \(actualText)")
        }
        if operation.writes { try await compareNewEvents(failure: failure) }
    }

    /// Pairs the IDs both stores returned and adds what is new to the lists operations choose from.
    private mutating func learn(
        from expected: ComparedSide.Performed, and actual: ComparedSide.Performed, of operation: StoreOperation,
        failure: (String) -> ConformanceFailure
    ) throws {
        guard expected.users.count == actual.users.count, expected.conversations.count == actual.conversations.count,
            expected.messages.count == actual.messages.count
        else { throw failure("the stores created different numbers of things") }
        for (known, new) in zip(expected.users, actual.users) where try pair(known.rawValue, new.rawValue, failure) {
            reference.users.append(known)
            tested.users.append(new)
            if case .createUser(let username) = operation { world.usernames.append(username) }
        }
        for (known, new) in zip(expected.conversations, actual.conversations)
        where try pair(known.rawValue, new.rawValue, failure) {
            reference.conversations.append(known)
            tested.conversations.append(new)
            if case .createConversation(let kind, _, _, _, _) = operation { world.conversationKinds.append(kind) }
            world.messageCounts.append(0)
        }
        for (known, new) in zip(expected.messages, actual.messages)
        where try pair(known.message.id.rawValue, new.message.id.rawValue, failure) {
            reference.messages.append(known.message.id)
            tested.messages.append(new.message.id)
            let conversation = reference.conversations.firstIndex(of: known.message.conversationID) ?? 0
            world.messageConversations.append(conversation)
            world.messageSenders.append(reference.users.firstIndex(of: known.message.senderID) ?? 0)
            world.messageCounts[conversation] += 1
            switch operation {
            case .append(let message): world.sent.append(message)
            case .appendBatch(let messages): world.sent.append(messages[known.index])
            default: break
            }
        }
    }

    /// Records that the store under test's `new` names what the reference's `known` does; whether both are new.
    private mutating func pair(_ known: String, _ new: String, _ failure: (String) -> ConformanceFailure) throws
        -> Bool
    {
        if let paired = translation.ids[new] {
            guard paired == known else {
                throw failure(
                    "the store under test returned \(new), which named \(paired), where the reference "
                        + "returned \(known)")
            }
            return false
        }
        guard !translation.ids.values.contains(known) else {
            throw failure(
                "the store under test returned a new ID, \(new), where the reference returned one it "
                    + "had returned before, \(known)")
        }
        translation.ids[new] = known
        return true
    }

    /// Compares the events both stores recorded since the last comparison, one by one.
    private mutating func compareNewEvents(failure: (String) -> ConformanceFailure) async throws {
        let expected: [StoredEvent]
        let actual: [StoredEvent]
        do {
            expected = try await reference.store.allEvents(after: reference.positions.last ?? .start, limit: 1_000)
            actual = try await tested.store.allEvents(after: tested.positions.last ?? .start, limit: 1_000)
        } catch {
            throw failure("reading the new events failed: \(error)")
        }
        guard expected.count == actual.count else {
            throw failure(
                "the reference recorded \(expected.count) events, the store under test \(actual.count):\n  "
                    + "\(expected.map(\.kind))\n  \(actual.map(\.kind))")
        }
        for (known, new) in zip(expected, actual) {
            translation.positions[new.position.rawValue] = known.position.rawValue
            reference.positions.append(known.position)
            tested.positions.append(new.position)
            let expectedText = ComparedOutcome.text(
                of: Result { try ComparedOutcome.encoder.encode(known) }, translation: nil, unordered: false
            )
            let actualText = ComparedOutcome.text(
                of: Result { try ComparedOutcome.encoder.encode(new) }, translation: translation, unordered: false
            )
            guard expectedText == actualText else {
                throw failure(
                    "an event differs: the reference recorded\n  \(expectedText)\nthe store under test\n  "
                        + actualText)
            }
        }
        world.eventCount = reference.positions.count
    }
}
