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
import Testing

@Suite("HistoryQuery paging ranges")
struct HistoryQueryTests {
    @Test(arguments: [
        (HistoryQuery.latest(limit: 10), Int64(30), Optional(21...30)),
        (.latest(limit: 50), 30, 1...30),
        (.latest(limit: 10), 0, nil),
        (.latest(limit: 0), 30, nil),
        (.before(21, limit: 10), 30, 11...20),
        (.before(3, limit: 10), 30, 1...2),
        (.before(1, limit: 10), 30, nil),
        (.before(.min, limit: 10), 30, nil),
        (.before(.max, limit: .max), 30, 1...30),
        (.after(0, limit: 10), 30, 1...10),
        (.after(25, limit: 10), 30, 26...30),
        (.after(30, limit: 10), 30, nil),
        (.after(.max, limit: 10), 30, nil),
        (.after(.min, limit: .max), 30, 1...30),
    ] as [(HistoryQuery, Int64, ClosedRange<Int64>?)])
    func range(_ query: HistoryQuery, lastSeq: Int64, expected: ClosedRange<Int64>?) {
        #expect(query.seqRange(lastSeq: lastSeq)?.range == expected)
    }

    @Test func directionFollowsTheAnchor() {
        #expect(HistoryQuery.latest().seqRange(lastSeq: 5)?.fromNewest == true)
        #expect(HistoryQuery.before(4).seqRange(lastSeq: 5)?.fromNewest == true)
        #expect(HistoryQuery.after(1).seqRange(lastSeq: 5)?.fromNewest == false)
    }
}
