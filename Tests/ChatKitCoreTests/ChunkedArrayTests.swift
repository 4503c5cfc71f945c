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

@Suite("ChunkedArray: the in-memory store's arrays that grow with every message")
struct ChunkedArrayTests {
    static let chunk = ChunkedArray<Int>.chunkCapacity

    /// A chunked array of `0..<count`.
    static func numbers(_ count: Int) -> ChunkedArray<Int> {
        var array = ChunkedArray<Int>()
        for number in 0..<count { array.append(number) }
        return array
    }

    @Test(
        "Elements stay in order and in place across chunk boundaries",
        arguments: [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 7]
    )
    func order(count: Int) {
        let array = Self.numbers(count)
        #expect(array.count == count)
        #expect(Array(array) == Array(0..<count))
        #expect(array.first == (count > 0 ? 0 : nil))
        #expect(array.last == (count > 0 ? count - 1 : nil))
        for index in [0, Self.chunk - 1, Self.chunk, 2 * Self.chunk + 3] where index < count {
            #expect(array[index] == index)
        }
    }

    @Test("Slices, reversed indices and counting work as on an array")
    func collectionOperations() {
        let array = Self.numbers(2 * Self.chunk + 10)
        let range = (Self.chunk - 5)..<(Self.chunk + 5)
        #expect(Array(array[range]) == Array(range))
        #expect(array[(2 * Self.chunk)...].count { $0 % 2 == 0 } == 5)
        #expect(array.indices.reversed().first == 2 * Self.chunk + 9)
        let cursor = StreamPosition(Int64(Self.chunk))
        #expect(array.firstIndex(after: cursor) { StreamPosition(Int64($0)) } == Self.chunk + 1)
    }

    @Test("An element can be replaced in any chunk")
    func replace() {
        var array = Self.numbers(Self.chunk + 3)
        array[1] = -1
        array[Self.chunk + 2] = -2
        #expect(array[1] == -1)
        #expect(array[Self.chunk + 2] == -2)
        #expect(array.count == Self.chunk + 3)
    }

    @Test("A copy keeps its elements when the original changes (value semantics)")
    func copiesAreIndependent() {
        var original = Self.numbers(Self.chunk + 1)
        let copy = original
        original.append(99)
        original[0] = -1
        original[Self.chunk] = -2
        #expect(copy.count == Self.chunk + 1)
        #expect(Array(copy) == Array(0..<(Self.chunk + 1)))
        #expect(original.count == Self.chunk + 2)
        #expect(original[0] == -1 && original[Self.chunk] == -2 && original.last == 99)
    }
}
