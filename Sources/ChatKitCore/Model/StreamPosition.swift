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

/// The position of a ``StoredEvent`` in the store-wide event stream.
///
/// Every stored event gets a position greater than every position handed out before it, so a client that
/// remembers the position of the last event it processed (its *cursor*) can ask for exactly what happened
/// since. ``start`` is before every event.
public struct StreamPosition: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The position as a number; `0` is ``start``.
    public let rawValue: Int64

    /// Creates a position from its number.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Creates a position from its number.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// Before every stored event: a sync from here returns everything the user may see.
    public static let start = StreamPosition(0)

    public static func < (lhs: StreamPosition, rhs: StreamPosition) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    /// Decodes the position from a single number.
    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    /// Encodes the position as a single number.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
