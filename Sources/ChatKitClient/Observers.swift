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

/// The registered observers of one kind of change: each gets its own `AsyncStream`.
///
/// Kept inside the client's lock: yielding to an `AsyncStream` continuation does not run the consumer
/// synchronously, so changes reach every observer in the order they happened.
struct Observers<Element: Sendable>: Sendable {
    private var continuations: [Int: AsyncStream<Element>.Continuation] = [:]
    private var nextID = 0

    /// Registers a continuation; returns the ID to remove it with.
    mutating func add(_ continuation: AsyncStream<Element>.Continuation) -> Int {
        nextID += 1
        continuations[nextID] = continuation
        return nextID
    }

    mutating func remove(_ id: Int) {
        continuations[id] = nil
    }

    func yield(_ element: Element) {
        for continuation in continuations.values { continuation.yield(element) }
    }

    func finishAll() {
        for continuation in continuations.values { continuation.finish() }
    }
}
