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

extension ChatServer {
    /// Refuses a `createConversation` or `addMembers` that names more users than
    /// ``ChatServerConfiguration/Limits/maxMembersPerRequest``, counted with repeats (the store would go through all
    /// of them).
    func checkMembersPerRequest(_ count: Int) throws {
        let limit = configuration.limits.maxMembersPerRequest
        guard count <= limit else {
            throw ChatError(
                .limitExceeded,
                "One request may name at most \(limit) members (this one names \(count)); add the others with "
                    + "further addMembers requests."
            )
        }
    }

    /// Charges `user` a hundredth of a rate-limit token for each user a creation or add names, beyond the request's
    /// own: each is a membership written and an entry in an event that every member receives.
    func chargeMembershipWork(of user: UserID, named count: Int) {
        rateLimiter.charge(user, tokens: Double(count) / 100, now: clock.now)
    }

    /// Adds members to a group or channel, then introduces the newcomers to the presence of the members of a group
    /// small enough to share it (or withdraws it, if the add grew the group past
    /// ``ChatServerConfiguration/presenceMaxGroupSize``). Runs under the conversation's gate (``membershipChanges``).
    ///
    /// The member list is read only where presence needs it, in a group that shares presence before the add (at
    /// most ``ChatServerConfiguration/presenceMaxGroupSize`` members), and where the add may fill the conversation
    /// (to count its newcomers and tell a plain member from an owner): elsewhere the count does. A request refused
    /// by the store (a plain member adding, a channel's non-member) then costs a count, not a read of every member
    /// of a channel of 10,000.
    func addMembers(_ add: ClientRequest.AddMembers, by user: UserID) async throws -> RequestResult {
        let limits = configuration.limits
        // Everything the presence follow-up needs is read before the add: a read failing after it would leave
        // presence shown where it is no longer shared, or not shown where it now is.
        let kind = try await store.conversation(add.conversationID, as: user).kind
        let count = try await store.memberCount(of: add.conversationID)
        let named = Set(add.userIDs)
        let current: Set<UserID>? =
            sharesPresence(kind: kind, memberCount: count)
            ? Set(try await store.memberIDs(of: add.conversationID)) : nil
        // At most this many are new: all those named, unless the member list was read.
        let newcomers = current.map { named.subtracting($0).count } ?? named.count
        if count + newcomers > limits.maxMembers {
            // It may be full: the whole list tells how many of those named are new, and whether a refusal is for
            // want of room or of the right to add (a member who may not add anyone hears so, not that it is full).
            let members = try await store.members(of: add.conversationID, as: user)
            if count + named.subtracting(members.map(\.userID)).count > limits.maxMembers {
                if (members.first { $0.userID == user }?.role ?? .member) < .admin {
                    throw ChatError(.forbidden, "Only owners and admins may add members.")
                }
                throw ChatError(.limitExceeded, "A conversation has at most \(limits.maxMembers) members.")
            }
        }
        let members = try await store.addMembers(
            add.userIDs, to: add.conversationID, role: add.role ?? .member, by: user
        )
        router.nudge()
        guard let current else { return RequestResult(members: members) }
        // The size after the add: every newcomer was added (a failing one fails the add), and membership changes
        // of this conversation wait for the gate.
        let newcomerIDs = named.subtracting(current)
        if sharesPresence(kind: kind, memberCount: current.count + newcomerIDs.count) {
            let frames = introducePresence(of: newcomerIDs, and: current)
            chargePresenceWork(of: user, frames: frames)
        } else {
            // The group just grew past presenceMaxGroupSize: its members stop seeing each other's presence.
            let audiences = await withdrawPresence(among: current)
            chargePresenceWork(of: user, audiences: audiences)
        }
        return RequestResult(members: members)
    }
}
