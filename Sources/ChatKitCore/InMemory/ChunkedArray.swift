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

/// An array that grows in chunks of ``chunkCapacity`` elements instead of doubling, for the in-memory store's
/// arrays that grow with every message (its event log, each conversation's messages).
///
/// A Swift `Array` that is full allocates one twice its size and copies every element into it. For the store's
/// log of events (then about 550 bytes each, inline) that copy, and the fresh pages the kernel must clear for it, were
/// a quarter of the server's CPU in the pairs benchmark, and each doubling of a large log held the store's lock
/// for as long as it took to copy the whole history. Here only the first chunk grows by doubling, up to
/// ``chunkCapacity``; each later chunk is allocated once at full size and never moves, so an element is written
/// once and a page is cleared once. Small arrays (a conversation of a few messages) cost about what an `Array`
/// costs: one more allocation, for the list of chunks.
///
/// Copies share their chunks as arrays do; appending to a copy copies at most its last chunk.
struct ChunkedArray<Element> {
    /// Elements per chunk (a power of two); every chunk but the last holds exactly this many.
    static var chunkCapacity: Int { 1 << chunkShift }
    private static var chunkShift: Int { 10 }

    private var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    /// Appends an element at the end.
    mutating func append(_ element: Element) {
        let chunk = count >> Self.chunkShift
        if chunk == chunks.count {
            var fresh: [Element] = []
            // The first chunk grows as an array does, so that small arrays stay small.
            if chunk > 0 { fresh.reserveCapacity(Self.chunkCapacity) }
            chunks.append(fresh)
        }
        chunks[chunk].append(element)
        count += 1
    }
}

extension ChunkedArray: RandomAccessCollection, MutableCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Element {
        get {
            precondition(position >= 0 && position < count, "ChunkedArray index \(position) out of range 0..<\(count)")
            return chunks[position >> Self.chunkShift][position & (Self.chunkCapacity - 1)]
        }
        set {
            precondition(position >= 0 && position < count, "ChunkedArray index \(position) out of range 0..<\(count)")
            chunks[position >> Self.chunkShift][position & (Self.chunkCapacity - 1)] = newValue
        }
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}
