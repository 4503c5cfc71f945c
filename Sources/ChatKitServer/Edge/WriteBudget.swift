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


import Synchronization

/// Writes handed to an event loop without waiting for them, counted so that a writer waits once too many, or too
/// many bytes, are on their way.
///
/// A session's catch-up writes its frames from a task; while the socket is writable each is handed to the event
/// loop without waiting (waiting for every frame made a backlog of 10,000 take four times as long). The socket's
/// writability is only known once the loop has run what it was handed, so a count alone let a catch-up of large
/// frames (up to the largest frame each) queue megabytes on the loop for one slow peer. The budget admits a write
/// while fewer than ``maximumWrites`` writes and ``maximumBytes`` bytes are in flight; one frame larger than the
/// byte bound is admitted when nothing else is in flight.
///
/// A value kept inside the object that holds it (the socket handler's flags), not an object of its own: each idle
/// connection holds one, and an object of its own took about 48 bytes more per connection.
struct WriteBudget: ~Copyable, Sendable {
    /// The most writes in flight.
    let maximumWrites: Int
    /// The most bytes in flight (one larger frame goes alone).
    let maximumBytes: Int
    private let writes = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)

    init(maximumWrites: Int, maximumBytes: Int) {
        self.maximumWrites = maximumWrites
        self.maximumBytes = maximumBytes
    }

    /// Takes a write of `size` bytes into the budget, or returns `false` (taking nothing) when it does not fit:
    /// the writer then waits for the loop. Each admitted write is given back with ``release(size:)`` once the loop
    /// has run it.
    func admit(size: Int) -> Bool {
        let writesNow = writes.wrappingAdd(1, ordering: .relaxed).newValue
        let bytesNow = bytes.wrappingAdd(size, ordering: .relaxed).newValue
        if writesNow <= maximumWrites && (bytesNow <= maximumBytes || bytesNow == size) { return true }
        release(size: size)
        return false
    }

    /// Gives back an admitted write of `size` bytes.
    func release(size: Int) {
        writes.wrappingSubtract(1, ordering: .relaxed)
        bytes.wrappingSubtract(size, ordering: .relaxed)
    }
}
