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

@testable import ChatKitServer
import Testing

/// The bound on a catch-up's writes handed to the event loop: a count and a byte size.
/// (`WriteBudget` is not copyable: `#expect` compares what `admit` returns, not the budget.)
@Suite struct WriteBudgetTests {
    @Test func largeFramesAreBoundedByBytesNotOnlyByCount() {
        let budget = WriteBudget(maximumWrites: 256, maximumBytes: 256 * 1024)
        let frame = 100 * 1024
        #expect(budget.admit(size: frame) == true)
        #expect(budget.admit(size: frame) == true)
        // A third would put 300 KiB on the loop: the writer waits instead.
        #expect(budget.admit(size: frame) == false)
        budget.release(size: frame)
        #expect(budget.admit(size: frame) == true)
    }

    @Test func smallFramesAreBoundedByCount() {
        let budget = WriteBudget(maximumWrites: 4, maximumBytes: 256 * 1024)
        for _ in 0..<4 { #expect(budget.admit(size: 10) == true) }
        #expect(budget.admit(size: 10) == false)
        budget.release(size: 10)
        #expect(budget.admit(size: 10) == true)
    }

    @Test func aFrameLargerThanTheByteBoundGoesAloneOnly() {
        let budget = WriteBudget(maximumWrites: 256, maximumBytes: 1024)
        #expect(budget.admit(size: 10) == true)
        #expect(budget.admit(size: 4096) == false)
        budget.release(size: 10)
        #expect(budget.admit(size: 4096) == true)
        #expect(budget.admit(size: 10) == false)
        budget.release(size: 4096)
        #expect(budget.admit(size: 10) == true)
    }
}
