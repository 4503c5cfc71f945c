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

@Suite("InMemoryChatStore conformance")
struct InMemoryConformanceTests {
    @Test(arguments: ChatStoreConformance.cases)
    func conformance(_ check: ChatStoreConformance.Case) async throws {
        try await check.run { InMemoryChatStore() }
    }
}
