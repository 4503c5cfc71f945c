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
import Foundation

/// A run in progress: both stores, what they created, and how to tell their IDs apart.
struct ComparisonRun {
    let seed: UInt64
    var reference: ComparedSide
    var tested: ComparedSide
    var generator: OperationGenerator
    var world = ComparisonWorld()
    var translation = IDTranslation(positions: [0: 0])
    /// The last calls made, for a failure's report.
    var recent: [String] = []

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
            guard conversation < reference.conversations.count else { return [] }
            let id = reference.conversations[conversation]
            guard let viewer = try? await reference.store.memberIDs(of: id, at: nil).first,
                let members = try? await reference.store.members(of: id, as: viewer)
            else { return [] }
            // Sorted: the IDs, and so their order, are new at each run; the choices must not be.
            return members.compactMap { member in
                reference.users.firstIndex(of: member.userID).map { (user: $0, role: member.role) }
            }.sorted { $0.user < $1.user }
        }
        let expected = await reference.perform(operation)
        let actual = await tested.perform(operation)
        let seed = seed
        let before = recent.isEmpty ? "" : "\nthe calls before it, oldest first:\n  " + recent.joined(separator: "\n  ")
        let failure = { (what: String) in
            ConformanceFailure("reference comparison, seed \(seed), step \(step), \(operation):\n\(what)\(before)")
        }
        recent = Array((recent + ["step \(step): \(operation)"]).suffix(10))
        if case .success = expected.result, case .success = actual.result {
            // Both outcomes as they stand (their new IDs not paired), if the pairing itself fails.
            let translation = translation
            let outcomes = {
                "the reference returned\n  "
                    + ComparedOutcome.text(of: expected.result, translation: nil, unordered: true)
                    + "\nthe store under test\n  "
                    + ComparedOutcome.text(of: actual.result, translation: translation, unordered: true)
            }
            try learn(from: expected, and: actual, of: operation) { failure("\($0)\n\(outcomes())") }
        }
        let expectedText = ComparedOutcome.text(of: expected.result, translation: nil, unordered: operation.isUnordered)
        let actualText = ComparedOutcome.text(
            of: actual.result, translation: translation, unordered: operation.isUnordered
        )
        guard expectedText == actualText else {
            throw failure("the reference returned\n  \(expectedText)\nthe store under test\n  \(actualText)")
        }
        // After every call, reads too: an event recorded where none should be is blamed on the call that made it.
        try await compareNewEvents(failure: failure)
        if case .delete(let message, _) = operation, case .success = expected.result {
            world.deletedMessages.insert(message)
        }
        if let session = operation.sessionIndex { try await followSession(session) }
        if case .revokeSessions = operation {
            for session in world.sessionHashes.indices { try await followSession(session) }
        }
    }

    /// Notes the session's refresh-token hash in the reference, for the rotations chosen next.
    private mutating func followSession(_ index: Int) async throws {
        let session = try await reference.store.session(ComparedSide.sessionID(index))
        while world.sessionHashes.count <= index { world.sessionHashes.append(nil) }
        world.sessionHashes[index] = session?.revokedAt == nil ? session?.refreshTokenHash : nil
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
                        + "returned \(known) (the comparison needs a store's IDs unique across users, "
                        + "conversations and messages)")
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
            if let last = tested.positions.last, new.position <= last {
                throw failure(
                    "the store under test recorded an event at position \(new.position), not after the one before "
                        + "it (\(last)): positions must increase")
            }
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
