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
import Testing

/// The suite must catch broken stores: each fault makes the cases that pin its promise fail, with a message
/// that says what went wrong.
@Suite("The conformance suite catches broken stores")
struct FaultyStoreTests {
    /// Cases that must fail for each fault (each fault may fail more).
    static let expectedFailures: [FaultyChatStore.Fault: [String]] = [
        .duplicatesResends: [
            "messages: a resend with the same client message ID returns the first message",
            "concurrency: 50 concurrent resends of one client message ID make one message",
            "messages: reusing a client message ID in another conversation is a conflict",
        ],
        .skipsSeqs: [
            "messages: append assigns seq 1, 2, 3 and keeps every field",
            "concurrency: 50 concurrent senders get gapless, unique seqs",
        ],
        .reversesHistory: [
            "history: the latest page holds the newest messages in ascending order",
            "history: paging back with before walks every message once down to the first",
        ],
        .ignoresSyncCursor: [
            "sync: a cursor returns exactly the events after it",
            "sync: paging through many conversations returns every event exactly once, in order",
        ],
        .revealsConversations: [
            "history: history is not found for non-members and unknown conversations",
            "messages: appending to an unknown conversation or as a non-member is not found",
        ],
        .searchesEverywhere: ["search: search can be restricted to one conversation"],
        .ignoresDeletes: [
            "messages: a delete leaves a tombstone with the same ID and seq",
            "search: deleted messages are never found and edited ones by their new text",
        ],
        .copiesLastMessage: [
            "conversations: a summary's last message is the newest message as it is now, edited or deleted"
        ],
        .addsMembersOneByOne: [
            "membership: an addition naming one unknown user among others adds no one and records nothing"
        ],
        .limitsSearchPerConversation: [
            "search: the limit bounds the hits of all conversations together, not each one's"
        ],
        .burnsSeqsOnRefusals: [
            "messages: reusing a client message ID in another conversation is a conflict",
            "messages: a reply must refer to a message of the same conversation",
        ],
        .forgetsMarkersOfNewcomers: [
            "markers: a newcomer's markers start at the last message in markers(of:); lower moves do nothing"
        ],
        .leavesCreatorOutOfCreation: [
            "sync: a group's or channel's creation event lists every member once, the creator as owner"
        ],
        .takesQueryWordsAsOperators: [
            "search: queries with search-engine syntax are taken as words, never as operators"
        ],
        .ranksNewest100: ["search: a word of 1,000 messages finds all of them"],
        .declinesAcceptedContacts: [
            "contacts: declining a contact already accepted is not found and keeps the contact"
        ],
        .refusesEmptyEdits: ["messages: a message with attachments may be edited to an empty body"],
        .revealsRoleChanges: [
            "membership: role changes, removals, renames of an unknown or hidden conversation are not found"
        ],
        .marksDeliveryAndReadApart: ["markers: reading from nothing records one event; joining records none"],
    ]

    @Test(arguments: FaultyChatStore.Fault.allCases)
    func faultIsCaught(_ fault: FaultyChatStore.Fault) async throws {
        let failures = await ChatStoreConformance.failures { FaultyChatStore(fault) }
        let failed = Set(failures.compactMap(\.caseName))
        for name in Self.expectedFailures[fault] ?? [] {
            #expect(failed.contains(name), "fault \(fault) should fail '\(name)'; failed: \(failed.sorted())")
        }
        for failure in failures {
            #expect(failure.caseName != nil, "a failure without the case's name: \(failure)")
            #expect(failure.message.count > 10, "an unreadable failure message: \(failure)")
            #expect(failure.line > 0 && failure.file.hasPrefix("ChatKitTesting/"), "a failure without its source: \(failure)")
        }
        // Most of the suite still passes: each fault breaks one promise, not everything.
        #expect(failures.count < ChatStoreConformance.cases.count / 3, "\(failures.count) failures for one fault")
    }

    /// A store that forgets everything when it is closed (each opening a new in-memory store) fails every
    /// durability case; the in-memory store itself, kept open across the "reopening", passes them.
    @Test func aStoreThatKeepsNothingFailsEveryDurabilityCase() async throws {
        for check in ChatStoreConformance.durabilityCases {
            await #expect(throws: ConformanceFailure.self, "\(check)") {
                try await check.run { ChatStoreConformance.DurableSubject(open: { InMemoryChatStore() }) }
            }
            let kept = InMemoryChatStore()
            try await check.run { ChatStoreConformance.DurableSubject(open: { kept }) }
        }
    }

    @Test func expectedCaseNamesExist() {
        let names = Set(ChatStoreConformance.cases.map(\.description))
        for name in Self.expectedFailures.values.joined() {
            #expect(names.contains(name), "no conformance case named '\(name)'")
        }
    }

    @Test func suiteHasUniqueNamesAndEnoughCases() {
        let names = ChatStoreConformance.cases.map(\.description)
        #expect(Set(names).count == names.count, "duplicate case names")
        #expect(names.count >= 50)
    }

    @Test func failureMessagesAreReadable() async throws {
        let failures = await ChatStoreConformance.failures(
            of: ChatStoreConformance.cases.filter { $0.name.hasPrefix("a resend with the same client message ID") }
        ) { FaultyChatStore(.duplicatesResends) }
        let failure = try #require(failures.first)
        #expect(
            failure.description.hasPrefix(
                "[messages: a resend with the same client message ID returns the first message] the resend's result:"
            )
        )
    }
}
