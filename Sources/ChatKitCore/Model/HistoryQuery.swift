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

/// Which page of a conversation's history to read. Pages always come back in ascending seq order.
public struct HistoryQuery: Hashable, Sendable, Codable {
    /// Where the page is anchored.
    public struct Anchor: Hashable, Sendable, Codable {
        fileprivate enum Base: Hashable, Sendable, Codable {
            case latest
            case before(Int64)
            case after(Int64)
        }

        fileprivate let base: Base

        /// The newest messages.
        public static let latest = Anchor(base: .latest)
        /// The newest messages with a seq lower than `seq` (scrolling back).
        public static func before(_ seq: Int64) -> Anchor { Anchor(base: .before(seq)) }
        /// The oldest messages with a seq higher than `seq` (catching up; `after(0)` is the beginning).
        public static func after(_ seq: Int64) -> Anchor { Anchor(base: .after(seq)) }

        /// The seq below which messages are returned, for `.before`.
        public var beforeSeq: Int64? {
            if case .before(let seq) = base { return seq }
            return nil
        }

        /// The seq above which messages are returned, for `.after`.
        public var afterSeq: Int64? {
            if case .after(let seq) = base { return seq }
            return nil
        }
    }

    /// Where the page is anchored.
    public var anchor: Anchor
    /// At most this many messages. `0` returns an empty page; a negative limit is an invalid argument.
    public var limit: Int

    /// Creates a history query.
    public init(_ anchor: Anchor = .latest, limit: Int = 50) {
        self.anchor = anchor
        self.limit = limit
    }

    /// The newest `limit` messages.
    public static func latest(limit: Int = 50) -> HistoryQuery { HistoryQuery(.latest, limit: limit) }
    /// The newest `limit` messages below `seq`.
    public static func before(_ seq: Int64, limit: Int = 50) -> HistoryQuery { HistoryQuery(.before(seq), limit: limit) }
    /// The oldest `limit` messages above `seq`.
    public static func after(_ seq: Int64, limit: Int = 50) -> HistoryQuery { HistoryQuery(.after(seq), limit: limit) }

    /// The inclusive seq range this query selects from a conversation whose newest seq is `lastSeq`, and whether
    /// the page is taken from the top (newest) end of that range. Adapters use it so every store pages alike.
    public func seqRange(lastSeq: Int64) -> (range: ClosedRange<Int64>, fromNewest: Bool)? {
        let lower: Int64
        let upper: Int64
        let fromNewest: Bool
        switch anchor.base {
        case .latest:
            (lower, upper, fromNewest) = (1, lastSeq, true)
        case .before(let seq):
            (lower, upper, fromNewest) = (1, seq <= 1 ? 0 : min(lastSeq, seq - 1), true)
        case .after(let seq):
            (lower, upper, fromNewest) = (seq >= lastSeq ? lastSeq + 1 : max(1, seq + 1), lastSeq, false)
        }
        guard limit > 0, lower <= upper else { return nil }
        let count = Int64(limit)
        if count - 1 >= upper - lower { return (lower...upper, fromNewest) }
        return fromNewest ? ((upper - count + 1)...upper, true) : (lower...(lower + count - 1), false)
    }
}
