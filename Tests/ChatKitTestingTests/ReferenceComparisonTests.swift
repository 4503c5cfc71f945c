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

/// One comparison at a time (see the SQLite suite's note).
@Suite("ReferenceComparison", .serialized)
struct ReferenceComparisonTests {
    @Test(
        "the in-memory store matches itself as the reference, its IDs told apart",
        arguments: 1...4 as ClosedRange<UInt64>
    )
    func inMemoryMatches(seed: UInt64) async throws {
        try await ReferenceComparison.run(seed: seed) { now in InMemoryChatStore(configuration: .init(now: now)) }
    }

    /// Faults that random calls on one store at a time find (the others need concurrent calls, a reopening or
    /// a shape of data the comparison's few users and words rarely make: the conformance suite has cases for them).
    static let faultsFound: [FaultyChatStore.Fault] = [
        .duplicatesResends, .skipsSeqs, .reversesHistory, .ignoresSyncCursor, .revealsConversations,
        .searchesEverywhere, .ignoresDeletes, .copiesLastMessage, .addsMembersOneByOne, .burnsSeqsOnRefusals,
        .leavesCreatorOutOfCreation,
    ]

    @Test("a store with a fault differs from the reference within a few seeds", arguments: faultsFound)
    func faultIsFound(_ fault: FaultyChatStore.Fault) async throws {
        var failure: ConformanceFailure?
        for seed: UInt64 in 1...8 where failure == nil {
            do {
                try await ReferenceComparison.run(seed: seed) { now in
                    FaultyChatStore(fault, base: InMemoryChatStore(configuration: .init(now: now)))
                }
            } catch let found as ConformanceFailure {
                failure = found
            }
        }
        let found = try #require(failure, "no seed of 1...8 found the fault \(fault)")
        #expect(found.message.contains("reference comparison, seed "), "\(found)")
        #expect(found.message.contains("the store under test"), "\(found)")
    }

    @Test("a run is repeated call for call by its seed")
    func seedRepeatsTheRun() async throws {
        var messages: [String] = []
        for _ in 0..<2 {
            do {
                try await ReferenceComparison.run(seed: 3) { now in
                    FaultyChatStore(.skipsSeqs, base: InMemoryChatStore(configuration: .init(now: now)))
                }
                Issue.record("the fault was not found")
            } catch let failure as ConformanceFailure {
                // The call that differed, without the outcomes (which hold the stores' random IDs).
                messages.append(String(failure.message.prefix { $0 != "\n" }))
            }
        }
        #expect(messages.count == 2 && messages[0] == messages[1], "\(messages)")
    }
}
