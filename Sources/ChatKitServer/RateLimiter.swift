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
import Synchronization

/// The per-user request limiter of ``ChatServer``.
typealias RateLimiter = KeyedRateLimiter<UserID>

/// A token bucket per key: `rate` tokens per second sustained, bursts up to `burst`.
///
/// Buckets that have refilled completely are dropped once there are many keys, so keys chosen by clients (login
/// usernames) cannot grow the table without bound.
final class KeyedRateLimiter<Key: Hashable & Sendable>: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Duration
    }

    private struct Table {
        var buckets: [Key: Bucket] = [:]
        /// The size at which a new key first drops the full buckets; after each pass, twice what is left (at least
        /// the threshold), so that a table of buckets in use is not scanned again at every new key.
        var pruneAt: Int
    }

    private let rate: Double
    private let burst: Double
    private let pruneThreshold: Int
    private let table: Mutex<Table>
    /// How many times the table was scanned for full buckets (observed by tests).
    let prunings = Atomic<Int>(0)

    /// `requestsPerSecond` sustained (at least 1), bursts of twice as many.
    convenience init(requestsPerSecond: Int) {
        let rate = Double(max(1, requestsPerSecond))
        self.init(ratePerSecond: rate, burst: rate * 2)
    }

    /// `ratePerSecond` tokens regained per second (may be below 1), at most `burst` (at least 1) saved up.
    init(ratePerSecond: Double, burst: Double, pruneThreshold: Int = 10_000) {
        precondition(ratePerSecond > 0, "A rate limiter needs a positive rate")
        self.rate = ratePerSecond
        self.burst = max(1, burst)
        self.pruneThreshold = pruneThreshold
        self.table = Mutex(Table(pruneAt: pruneThreshold))
    }

    /// Takes a token for `key` at `now`; returns `nil` if allowed, or how long to wait before retrying.
    func acquire(_ key: Key, now: Duration) -> Duration? {
        table.withLock { table in
            if table.buckets.count >= table.pruneAt, table.buckets[key] == nil { prune(&table, now: now) }
            var bucket = table.buckets[key] ?? Bucket(tokens: burst, updatedAt: now)
            let elapsed = max(0, Double((now - bucket.updatedAt) / .seconds(1)))
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updatedAt = now
            defer { table.buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return .seconds((1 - bucket.tokens) / rate)
        }
    }

    /// Takes `tokens` more from `key`'s bucket at `now`, for work a request made the server do beyond its own
    /// (presence frames it had sent to many users): the bucket may go below zero, down to minus the burst, and the
    /// key's next requests wait until it has refilled.
    func charge(_ key: Key, tokens: Double, now: Duration) {
        guard tokens > 0 else { return }
        table.withLock { table in
            var bucket = table.buckets[key] ?? Bucket(tokens: burst, updatedAt: now)
            let elapsed = max(0, Double((now - bucket.updatedAt) / .seconds(1)))
            bucket.tokens = max(-burst, min(burst, bucket.tokens + elapsed * rate) - tokens)
            bucket.updatedAt = now
            table.buckets[key] = bucket
        }
    }

    /// Gives back a token taken for `key` (an attempt that turned out not to count), up to the burst.
    func refund(_ key: Key) {
        table.withLock { table in
            guard var bucket = table.buckets[key] else { return }
            bucket.tokens = min(burst, bucket.tokens + 1)
            table.buckets[key] = bucket
        }
    }

    /// Drops the buckets that are full again at `now`: forgetting them changes nothing.
    private func prune(_ table: inout Table, now: Duration) {
        prunings.add(1, ordering: .relaxed)
        table.buckets = table.buckets.filter { _, bucket in
            let elapsed = max(0, Double((now - bucket.updatedAt) / .seconds(1)))
            return bucket.tokens + elapsed * rate < burst
        }
        table.pruneAt = max(pruneThreshold, 2 * table.buckets.count)
    }
}
