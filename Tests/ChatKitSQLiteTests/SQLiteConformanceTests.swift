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
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            var configuration = SQLiteChatStore.Configuration(path: path)
            configuration.searchScopeScan = ScopeScanTests.alwaysScan
            let scanning = configuration
            try await check.run { try SQLiteChatStore(configuration: scanning) }
        }
    }

    @Test("in-memory database", arguments: ChatStoreConformance.cases)
    func inMemoryDatabase(_ check: ChatStoreConformance.Case) async throws {
        try await check.run { try SQLiteChatStore(configuration: .inMemory) }
    }
}
