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

/// A value from a named set of choices, such as ``ConversationKind/group`` or ``MemberRole/admin``.
///
/// ChatKit spells closed choices as structs with static members rather than public enums, so that a later
/// version can add a choice without breaking adopters' `switch` statements. A value decoded from a newer
/// peer keeps its raw string; ``isKnown`` tells whether this version knows it.
public protocol NamedChoice: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible
where RawValue == String {
    /// Creates a choice from its raw string (which may be one this version does not know).
    init(rawValue: String)
    /// Every choice this version of ChatKit knows.
    static var allKnown: [Self] { get }
}

extension NamedChoice {
    /// The raw string.
    public var description: String { rawValue }
    /// Whether this version of ChatKit knows the choice.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Decodes the choice from a single string.
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the choice as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
