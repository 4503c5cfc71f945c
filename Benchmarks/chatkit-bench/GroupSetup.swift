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

/// Creates a group owned by `owner` with `members`, adding them in chunks so that no request is too large.
func createGroup(owner: ChatConnection, title: String, members: [UserID]) async throws -> ConversationID {
    let chunk = 500
    let first = try await owner.request(
        .createConversation(.init(kind: .group, title: title, memberIDs: Array(members.prefix(chunk))))
    )
    guard let conversation = first.conversation else { throw BenchError("createConversation gave no conversation") }
    var start = chunk
    while start < members.count {
        let ids = Array(members[start..<min(start + chunk, members.count)])
        _ = try await owner.request(.addMembers(.init(conversationID: conversation.id, userIDs: ids)))
        start += chunk
    }
    return conversation.id
}
