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
import Synchronization

/// The in-memory store behind a decorator whose reads of a conversation's members fail while told to: the reads the
/// server makes around membership changes, typing and presence, as a store that fails now and then answers them.
/// Unlike a decorator of ChatStoreDecorator's rules, it leaves `isMember(_:of:)` answering when member reads fail, on
/// purpose: the tests show which requests no longer need the member list.
final class FailingMembersStore: ChatStoreDecorator {
    let base: any ChatStore
    /// While set, every ``memberIDs(of:at:)`` and ``members(of:as:)`` fails.
    let failsMemberReads = Atomic<Bool>(false)
    /// While set, every ``memberCount(of:)`` fails.
    let failsMemberCounts = Atomic<Bool>(false)

    init(_ base: any ChatStore) { self.base = base }

    func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
        if failsMemberReads.load(ordering: .relaxed) {
            throw ChatError(.storageFailure, "The members are unavailable.")
        }
        return try await base.memberIDs(of: id, at: position)
    }

    func members(of id: ConversationID, as user: UserID) async throws -> [Member] {
        if failsMemberReads.load(ordering: .relaxed) {
            throw ChatError(.storageFailure, "The members are unavailable.")
        }
        return try await base.members(of: id, as: user)
    }

    func memberCount(of id: ConversationID) async throws -> Int {
        if failsMemberCounts.load(ordering: .relaxed) {
            throw ChatError(.storageFailure, "The member count is unavailable.")
        }
        return try await base.memberCount(of: id)
    }
}
