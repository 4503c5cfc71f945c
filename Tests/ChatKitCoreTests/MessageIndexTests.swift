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

@testable import ChatKitCore
import Testing

@Suite("MessageIndex: the in-memory store's indexes that grow with every message")
struct MessageIndexTests {
    /// Messages stand in for a store: key `i` names the message at location `(i % 7, i)`.
    private static func location(of index: Int) -> MessageLocation {
        MessageLocation(conversation: index % 7, seq: Int64(index))
    }

    private static func key(at location: MessageLocation) -> String {
        "message-\(String(location.seq, radix: 16))"
    }

    @Test("Every key is found at its location across many shards and resizes; unknown keys are not")
    func insertAndLookUp() {
        var index = MessageIndex<String>()
        let keys = (0..<5_000).map { Self.key(at: Self.location(of: $0)) }
        for (number, key) in keys.enumerated() { index.insert(key, at: Self.location(of: number)) }
        #expect(index.count == keys.count)
        let found = keys.map { key in index.location(of: key) { Self.key(at: $0) == key } }
        #expect(found == keys.indices.map(Self.location(of:)))
        #expect(index.location(of: "no such key") { Self.key(at: $0) == "no such key" } == nil)
    }

    @Test("Keys with the same hash value each keep their own location")
    func collidingKeys() {
        // Every key hashes alike: the first takes the entry, the others go to the collisions.
        var index = MessageIndex<String>(hashValue: { _ in 42 })
        let keys = (0..<20).map { Self.key(at: Self.location(of: $0)) }
        for (number, key) in keys.enumerated() { index.insert(key, at: Self.location(of: number)) }
        #expect(index.count == keys.count)
        for (number, key) in keys.enumerated() {
            #expect(index.location(of: key) { Self.key(at: $0) == key } == Self.location(of: number))
        }
        #expect(index.location(of: "message-ffff") { Self.key(at: $0) == "message-ffff" } == nil)
    }

    @Test("A copy keeps its entries when the original grows (value semantics)")
    func copiesAreIndependent() {
        var original = MessageIndex<String>()
        original.insert("a", at: MessageLocation(conversation: 0, seq: 1))
        let copy = original
        original.insert("b", at: MessageLocation(conversation: 0, seq: 2))
        #expect(copy.count == 1 && original.count == 2)
        #expect(copy.location(of: "b") { _ in true } == nil)
        #expect(original.location(of: "b") { _ in true } == MessageLocation(conversation: 0, seq: 2))
    }
}
