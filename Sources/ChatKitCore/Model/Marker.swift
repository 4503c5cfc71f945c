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

/// How far one member has received and read one conversation.
///
/// Both seqs only move forward, and `readSeq <= deliveredSeq` always holds (reading implies delivery).
/// `0` means nothing yet.
public struct Marker: Hashable, Sendable, Codable {
    /// The conversation.
    public var conversationID: ConversationID
    /// The member.
    public var userID: UserID
    /// Every message with a seq up to this one reached one of the member's devices.
    public var deliveredSeq: Int64
    /// The member has read every message with a seq up to this one.
    public var readSeq: Int64

    /// Creates a marker value.
    public init(conversationID: ConversationID, userID: UserID, deliveredSeq: Int64 = 0, readSeq: Int64 = 0) {
        self.conversationID = conversationID
        self.userID = userID
        self.deliveredSeq = deliveredSeq
        self.readSeq = readSeq
    }
}
