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

/// The conformance suite of ``ChatKitCore/ChatStore``: every promise the protocol documents, as named cases.
///
/// Run it from your adapter's tests. Each case gets a fresh, empty store from your factory.
///
/// With Swift Testing:
/// ```swift
/// import ChatKitTesting
/// import Testing
///
/// @Test(arguments: ChatStoreConformance.cases)
/// func conformance(_ check: ChatStoreConformance.Case) async throws {
///     try await check.run { try await MyChatStore.makeEmpty() }
/// }
/// ```
///
/// With XCTest:
/// ```swift
/// func testConformance() async throws {
///     let failures = await ChatStoreConformance.failures { try await MyChatStore.makeEmpty() }
///     XCTAssertTrue(failures.isEmpty, failures.map(\.description).joined(separator: "\n"))
/// }
/// ```
public enum ChatStoreConformance {
    /// Creates a fresh, empty store for one case.
    public typealias StoreFactory = @Sendable () async throws -> any ChatStore

    /// One named check of the contract, run against a fresh store.
    public typealias Case = ConformanceCase<any ChatStore>

    /// Every case of the suite.
    public static var cases: [Case] {
        userCases + contactCases + conversationCases + creationKeyCases + membershipCases + messageCases + historyCases
            + concurrencyCases + raceCases + markerCases + syncCases + routingCases + searchCases + textCases
            + sessionCases + serverRelianceCases
    }

    /// Runs every case (or the given ones) and returns the failures; empty when the store conforms.
    public static func failures(of cases: [Case] = cases, _ makeStore: StoreFactory) async -> [ConformanceFailure] {
        var failures: [ConformanceFailure] = []
        for check in cases {
            do {
                try await check.run(makeStore)
            } catch let failure as ConformanceFailure {
                failures.append(failure)
            } catch {
                failures.append(ConformanceFailure("could not create the store: \(error)", caseName: check.description))
            }
        }
        return failures
    }
}
