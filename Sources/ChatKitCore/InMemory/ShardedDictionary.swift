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

/// A dictionary split into ``shardCount`` dictionaries by its keys' hash values, for the in-memory store's
/// indexes that grow with every message (message locations, client keys).
///
/// A Swift `Dictionary` that is full moves every entry into a table twice its size, at once, under the store's
/// lock, and every move is a cache miss into a table larger than the caches. With one dictionary per index, the
/// longest of 1,000,000 appends to one store took 453–457 ms (`chatkit-microbench --only longest`, release
/// build, this project's 2-vCPU machine); with 64 shards, 7–10 ms. Each shard grows on its own, so a resize
/// moves a sixty-fourth of the entries. Keys carry their hash (``PrehashedKey``), which also picks the shard.
struct ShardedDictionary<Key: Hashable, Value> {
    /// How many dictionaries the entries are split into (a power of two).
    static var shardCount: Int { 64 }

    private var shards = [[PrehashedKey<Key>: Value]](repeating: [:], count: shardCount)

    init() {}

    subscript(key: Key) -> Value? {
        get { self[prehashed: PrehashedKey(key)] }
        set { self[prehashed: PrehashedKey(key)] = newValue }
    }

    /// The value of a key whose hash was computed already (a look-up followed by an insert hashes it once).
    subscript(prehashed key: PrehashedKey<Key>) -> Value? {
        get { shards[Self.shard(of: key)][key] }
        set { shards[Self.shard(of: key)][key] = newValue }
    }

    /// How many entries there are.
    var count: Int { shards.reduce(0) { $0 + $1.count } }

    private static func shard(of key: PrehashedKey<Key>) -> Int {
        key.storedHash & (shardCount - 1)
    }
}
