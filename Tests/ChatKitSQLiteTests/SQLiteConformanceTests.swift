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
import Foundation
import Testing

@Suite("SQLiteChatStore conformance")
struct SQLiteConformanceTests {
    @Test("file database", arguments: ChatStoreConformance.cases)
    func fileDatabase(_ check: ChatStoreConformance.Case) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await check.run { try SQLiteChatStore(path: path) }
        }
    }

    @Test(
        "file database, every search of a word some message holds answered by reading its scope",
        arguments: ChatStoreConformance.cases.filter { $0.area == "search" }
    )
    func searchesByScopeScan(_ check: ChatStoreConformance.Case) async throws {
        try await Self.run(check) {
            $0.searchWays.scopeFilter.isEnabled = false
            $0.searchWays.scopeScan = ScopeScanTests.alwaysScan
        }
    }

    @Test(
        "file database, every search without a broad prefix answered by walking the index against its scope",
        arguments: ChatStoreConformance.cases.filter { $0.area == "search" }
    )
    func searchesByScopedIndexWalk(_ check: ChatStoreConformance.Case) async throws {
        try await Self.run(check) {
            $0.searchWays.scopeFilter.isEnabled = false
            $0.searchWays.scopedWalk = .alwaysWalk
        }
    }

    @Test(
        "file database, every search of words answered through the scope filter",
        arguments: ChatStoreConformance.cases.filter { $0.area == "search" }
    )
    func searchesByScopeFilter(_ check: ChatStoreConformance.Case) async throws {
        try await Self.run(check) { $0.searchWays.scopeFilter = ScopeFilterTests.alwaysFilter }
    }

    @Test(
        "file database, every search on the ways from before the scope filter (the plan, the scans, the plain walk)",
        arguments: ChatStoreConformance.cases.filter { $0.area == "search" }
    )
    func searchesWithoutScopeFilter(_ check: ChatStoreConformance.Case) async throws {
        try await Self.run(check) { $0.searchWays.scopeFilter.isEnabled = false }
    }

    /// Runs `check` on a file database whose configuration `configure` changed.
    private static func run(
        _ check: ChatStoreConformance.Case, _ configure: (inout SQLiteChatStore.Configuration) -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            var configuration = SQLiteChatStore.Configuration(path: path)
            configure(&configuration)
            let configured = configuration
            try await check.run { try SQLiteChatStore(configuration: configured) }
        }
    }

    @Test("file database, closed and opened again", arguments: ChatStoreConformance.durabilityCases)
    func durability(_ check: ChatStoreConformance.DurabilityCase) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await check.run {
                ChatStoreConformance.DurableSubject(
                    open: { try SQLiteChatStore(path: path) },
                    close: { try ($0 as? SQLiteChatStore)?.close() }
                )
            }
        }
    }

    @Test("in-memory database", arguments: ChatStoreConformance.cases)
    func inMemoryDatabase(_ check: ChatStoreConformance.Case) async throws {
        try await check.run { try SQLiteChatStore(configuration: .inMemory) }
    }
}
