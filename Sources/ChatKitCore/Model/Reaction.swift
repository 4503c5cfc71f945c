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

public import Foundation

/// One user's reaction (an emoji) to a message. A user can react with several emoji, each once.
public struct Reaction: Hashable, Sendable, Codable {
    /// Who reacted.
    public var userID: UserID
    /// The reaction, typically one emoji (grapheme cluster).
    public var emoji: String
    /// When the reaction was added.
    public var createdAt: Date

    /// Creates a reaction value.
    public init(userID: UserID, emoji: String, createdAt: Date) {
        self.userID = userID
        self.emoji = emoji
        self.createdAt = createdAt
    }
}
