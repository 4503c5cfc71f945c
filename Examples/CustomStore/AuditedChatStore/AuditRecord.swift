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
public import Foundation

/// One entry of an ``AuditedChatStore``'s trail.
public struct AuditRecord: Sendable, Hashable {
    /// When the change was made or refused.
    public var at: Date
    /// Who asked for it.
    public var actor: UserID
    /// What was asked: the store method, such as `renameConversation`.
    public var action: String
    /// The object changed: a conversation, message or user ID (empty when a refused creation has none yet).
    public var target: String
    /// More about the change, such as the members added; never message bodies or secrets.
    public var detail: String?
    /// `nil` when the change succeeded, else the code it was refused with.
    public var outcome: ChatError.Code?

    /// Creates a record.
    public init(
        at: Date, actor: UserID, action: String, target: String, detail: String? = nil, outcome: ChatError.Code? = nil
    ) {
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
        self.outcome = outcome
    }
}
