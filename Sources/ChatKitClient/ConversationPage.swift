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

public import ChatKitCore

/// A page of your conversation list (``ChatClient/conversations(before:limit:)``).
public struct ConversationPage: Sendable, Hashable {
    /// The conversations, most recently active first.
    public var conversations: [ConversationSummary]
    /// Whether conversations last active before the last of these remain.
    public var hasMore: Bool

    /// Creates a page.
    public init(conversations: [ConversationSummary], hasMore: Bool) {
        self.conversations = conversations
        self.hasMore = hasMore
    }
}
