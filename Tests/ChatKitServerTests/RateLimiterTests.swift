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
import Testing

@testable import ChatKitServer

/// The token buckets behind the per-user, per-address and per-username limits.
@Suite("Rate limiter")
struct RateLimiterTests {
    @Test("a burst is allowed, then one request per 1/rate seconds; the wait is said")
    func burstThenRate() {
        let limiter = KeyedRateLimiter<String>(ratePerSecond: 2, burst: 3)
        for _ in 0..<3 { #expect(limiter.acquire("k", now: .zero) == nil) }
        #expect(limiter.acquire("k", now: .zero) == .milliseconds(500))
        #expect(limiter.acquire("k", now: .milliseconds(500)) == nil)
        #expect(limiter.acquire("other", now: .milliseconds(500)) == nil, "keys have buckets of their own")
    }

    @Test("a charge takes the bucket below zero (down to minus the burst); a refund gives one token back")
    func chargeAndRefund() {
        let limiter = KeyedRateLimiter<String>(ratePerSecond: 1, burst: 2)
        limiter.charge("k", tokens: 10, now: .zero)
        // -2 after the charge: three tokens to regain before one can be taken.
        #expect(limiter.acquire("k", now: .seconds(2)) == .seconds(1))
        limiter.refund("k")
        #expect(limiter.acquire("k", now: .seconds(2)) == nil)
    }

    @Test("full buckets are forgotten once there are many keys; buckets in use are kept")
    func fullBucketsAreDropped() {
        let limiter = KeyedRateLimiter<Int>(ratePerSecond: 1, burst: 1, pruneThreshold: 10)
        for key in 0..<10 { #expect(limiter.acquire(key, now: .zero) == nil) }
        // Key 0 is refused at 0.5 s; by 2 s every bucket has refilled, and key 10's arrival drops them all.
        #expect(limiter.acquire(0, now: .milliseconds(500)) != nil)
        #expect(limiter.acquire(10, now: .seconds(2)) == nil)
        #expect(limiter.prunings.load(ordering: .relaxed) == 1)
        // Key 1 was forgotten with a full bucket: a new one is as full.
        #expect(limiter.acquire(1, now: .seconds(2)) == nil)
    }

    /// Scanning the whole table at every new key once it held many buckets in use made each new key cost as much
    /// as the table: a stream of new keys (logins from many addresses) kept the lock busy scanning.
    @Test("new keys scan a table of buckets in use only as it doubles, not at each key")
    func pruningIsAmortised() {
        let limiter = KeyedRateLimiter<Int>(ratePerSecond: 1, burst: 2, pruneThreshold: 100)
        for key in 0..<20_000 { _ = limiter.acquire(key, now: .zero) }
        // Every bucket is in use (one of two tokens taken, nothing refilled): no scan drops any.
        let prunings = limiter.prunings.load(ordering: .relaxed)
        #expect(prunings <= 10, "\(prunings) scans for 20,000 keys")
    }

    /// The clients usernames logged in from: once the table was full of fresh entries, every login of a new username
    /// copied and scanned the whole table (100,000 usernames) under its lock to drop one.
    @Test("a full table of login clients makes room for a tenth of its size at a time, least recently used first")
    func knownClientsPruneInBulk() {
        let known = KnownLoginClients(lifetime: .seconds(3600), usernameLimit: 100)
        for number in 0..<100 { known.note("10.0.0.1", of: "user\(number)", now: .seconds(number)) }
        for number in 100..<200 { known.note("10.0.0.1", of: "user\(number)", now: .seconds(number)) }
        let prunings = known.prunings.load(ordering: .relaxed)
        #expect(prunings <= 10, "\(prunings) prunings for 100 new usernames")
        // The newest are kept, the least recently used went.
        #expect(known.contains("10.0.0.1", of: "user199", now: .seconds(200)))
        #expect(!known.contains("10.0.0.1", of: "user0", now: .seconds(200)))
    }
}
