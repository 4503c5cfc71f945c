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

/// What a reference comparison created so far, as far as choosing the next operation needs to know it.
struct ComparisonWorld: Sendable {
    /// Every username taken, in the order the users were created.
    var usernames: [String] = []
    /// Each conversation's kind, in the order they were created.
    var conversationKinds: [ConversationKind] = []
    /// Each message's conversation (an index), in the order the messages were created.
    var messageConversations: [Int] = []
    /// Each message's sender (an index).
    var messageSenders: [Int] = []
    /// The messages deleted (indices).
    var deletedMessages: Set<Int> = []
    /// Each conversation's messages so far (an upper bound of its last seq).
    var messageCounts: [Int] = []
    /// The appends that succeeded, for resends with the same client message ID.
    var sent: [OperationMessage] = []
    /// How many events both stores recorded.
    var eventCount = 0
    /// Each login session's refresh-token hash in the reference now (`nil`: revoked, or never created), by the
    /// index of its ID (`session-<index>`).
    var sessionHashes: [String?] = []
}
