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
import Testing

@Suite("Generated IDs")
struct GeneratedIDTests {
    @Test("random identifiers are distinct lowercase version 4 UUIDs")
    func randomIdentifiers() {
        let ids = (0..<5000).map { _ in MessageID.random().rawValue }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { UUID(uuidString: $0) != nil && $0 == $0.lowercased() && $0.count == 36 })
        #expect(ids.allSatisfy { Array($0)[14] == "4" && "89ab".contains(Array($0)[19]) }, "version 4, RFC variant")
        #expect(Set(ids.map { $0.prefix(2) }).count > 200, "the leading digits vary")
    }


    @Test("client message IDs are lowercase version 7 UUIDs that grow with time, unique within a millisecond")
    func clientMessageIDs() {
        let ids = (0..<5000).map { _ in ClientMessageID.timeOrdered().rawValue }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { UUID(uuidString: $0) != nil && $0 == $0.lowercased() })
        #expect(ids.allSatisfy { Array($0)[14] == "7" && "89ab".contains(Array($0)[19]) }, "version 7, RFC variant")
        // The first 48 bits are the Unix time in milliseconds.
        let milliseconds = UInt64(ids[0].prefix(8) + ids[0].dropFirst(9).prefix(4), radix: 16)!
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        #expect(milliseconds <= now && now - milliseconds < 60_000)
    }

    @Test("IDs made for one millisecond keep their order; a clock that goes back does not reorder them")
    func counterAndClockSteps() {
        let generator = TimeOrderedUUIDGenerator()
        let instant = Date(timeIntervalSince1970: 1_764_000_000.123)
        let sameMillisecond = (0..<5000).map { _ in generator.next(at: instant) }
        #expect(sameMillisecond == sameMillisecond.sorted() && Set(sameMillisecond).count == 5000)
        #expect(sameMillisecond[0].hasPrefix("019ab697-e87b-7"))  // 1,764,000,000,123 ms = 0x19ab697e87b
        let earlier = generator.next(at: instant.addingTimeInterval(-5))
        #expect(earlier > sameMillisecond.last!)
    }
}
