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

@Suite("ShardedDictionary: the in-memory store's indexes that grow with every message")
struct ShardedDictionaryTests {
    @Test("Every key keeps its value across many shards and resizes; removed keys are gone")
    func insertLookUpRemove() {
        var dictionary = ShardedDictionary<String, Int>()
        let keys = (0..<5_000).map { "message-\(String($0, radix: 16))" }
        for (index, key) in keys.enumerated() { dictionary[key] = index }
        #expect(dictionary.count == keys.count)
        #expect(keys.indices.allSatisfy { dictionary[keys[$0]] == $0 })
        #expect(dictionary["no such key"] == nil)
        for key in keys.prefix(100) { dictionary[key] = nil }
        #expect(dictionary.count == keys.count - 100)
        #expect(keys.prefix(100).allSatisfy { dictionary[$0] == nil })
        dictionary[keys[0]] = -1
        #expect(dictionary[prehashed: PrehashedKey(keys[0])] == -1)
    }

    @Test("A copy keeps its entries when the original changes (value semantics)")
    func copiesAreIndependent() {
        var original = ShardedDictionary<String, Int>()
        original["a"] = 1
        let copy = original
        original["a"] = 2
        original["b"] = 3
        #expect(copy["a"] == 1 && copy["b"] == nil && copy.count == 1)
        #expect(original["a"] == 2 && original["b"] == 3)
    }
}
