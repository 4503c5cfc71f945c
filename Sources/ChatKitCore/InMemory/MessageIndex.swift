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

/// Where the in-memory store's messages are, by a key that names one message (its ID, or its sender and client
/// message ID): an index that grows with every message and holds no string.
///
/// An entry is two integers: the key's hash value (Swift's, seeded per process, so clients cannot aim keys at
/// one slot) and the message's ``Location``. The keys themselves stay in the messages: an index of strings
/// retained every key and value it stored and hashed each key twice, 9 % of the server's CPU in the pairs
/// benchmark. Two keys may share a hash value (at a million messages, a chance of about 3 in 10⁸): a look-up checks
/// the message an entry leads to against the key (`isMatch`), and the later key of such a pair is kept, key and
/// all, in a small dictionary of its own.
///
/// The entries are split into ``shardCount`` dictionaries by their hash values. A Swift `Dictionary` that is
/// full moves every entry into a table twice its size, at once, under the store's lock; with one dictionary per
/// index, the longest of 1,000,000 appends to one store took 453–457 ms (`chatkit-microbench --only longest`,
/// release build, this project's 2-vCPU machine), with 64 shards 7–10 ms. Each shard grows on its own.
struct MessageIndex<Key: Hashable> {
    typealias Location = MessageLocation

    /// How many dictionaries the entries are split into (a power of two).
    static var shardCount: Int { 64 }

    private var shards = [[Int: Location]](repeating: [:], count: shardCount)
    /// Keys whose hash value an earlier key had.
    private var collisions: [Key: Location] = [:]
    private let hashValue: (Key) -> Int

    /// - Parameter hashValue: The keys' hash function; tests pass one that collides.
    init(hashValue: @escaping (Key) -> Int = { $0.hashValue }) {
        self.hashValue = hashValue
    }

    /// How many keys there are.
    var count: Int { shards.reduce(collisions.count) { $0 + $1.count } }

    /// Where the message `key` names is, if the index has it.
    ///
    /// - Parameter isMatch: Whether the message at a location is the one `key` names.
    func location(of key: Key, isMatch: (Location) -> Bool) -> Location? {
        let hash = hashValue(key)
        if let location = shards[Self.shard(of: hash)][hash], isMatch(location) { return location }
        return collisions.isEmpty ? nil : collisions[key]
    }

    /// Records where the message `key` names is. The key must not be in the index yet (a message is indexed once,
    /// when it is appended).
    mutating func insert(_ key: Key, at location: Location) {
        let hash = hashValue(key)
        let shard = Self.shard(of: hash)
        guard let earlier = shards[shard].updateValue(location, forKey: hash) else { return }
        // Another key has this hash value: it keeps the entry.
        shards[shard][hash] = earlier
        collisions[key] = location
    }

    private static func shard(of hash: Int) -> Int {
        hash & (shardCount - 1)
    }
}

/// Where a message of the in-memory store is: its conversation's number (``InMemoryState/ConversationRecord/number``)
/// and its seq.
struct MessageLocation: Hashable {
    var conversation: Int
    var seq: Int64
}
