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
import Logging

extension ChatServer {
    /// Serves one request of an authenticated user and returns its result, timing it in the store metrics (and a
    /// `send`, served here rather than in a session's batch, in the send acknowledgement metric too).
    func perform(_ request: ClientRequest, for user: UserID) async throws -> RequestResult {
        guard let operation = request.storeOperation else { return try await serve(request, for: user) }
        let started = ContinuousClock.now
        let result: RequestResult
        do {
            result = try await serve(request, for: user)
        } catch let error as ChatError where error.code == .invalidArgument || error.code == .limitExceeded {
            // Refused by the checks of what was asked, mostly before the store was: not the store's time.
            throw error
        } catch {
            metrics.storeTook(ContinuousClock.now - started, operation)
            throw error
        }
        let took = ContinuousClock.now - started
        metrics.storeTook(took, operation)
        if operation == .append {
            metrics.messageAccepted()
            metrics.sendAcknowledged(after: took)
        }
        return result
    }

    /// Serves `send` requests of one user, in order, with one ``ChatKitCore/MessageStore/append(contentsOf:)``;
    /// each gets the outcome ``perform(_:for:)`` would give it alone. The store metric records the batch's time
    /// for each message in it.
    func performSends(_ sends: [ClientRequest.Send], for user: UserID) async -> [Result<RequestResult, any Error>] {
        var conversations: [ConversationID] = []
        let outcomes = await outcomesOfCheckedBatch(sends) { send in
            try contentLimits.check(send)
            return send.message(from: user)
        } process: { messages in
            let started = ContinuousClock.now
            let appended = await store.append(contentsOf: messages)
            let took = ContinuousClock.now - started
            precondition(
                appended.count == messages.count,
                "\(type(of: store)).append(contentsOf:) returned \(appended.count) outcomes for \(messages.count) messages"
            )
            return appended.map { outcome in
                metrics.storeTook(took, .append)
                return outcome.map { message in
                    metrics.messageAccepted()
                    if !conversations.contains(message.conversationID) { conversations.append(message.conversationID) }
                    return RequestResult(message: message)
                }
            }
        }
        if !conversations.isEmpty { router.nudge() }
        // Sending ends typing in that conversation.
        for conversation in conversations { stopTyping(TypingTracker.Key(conversation: conversation, user: user)) }
        return outcomes
    }

    /// Serves one request of an authenticated user and returns its result.
    ///
    /// The store enforces membership and roles; the server adds its limits, then nudges the router after
    /// every write so the resulting events reach their receivers.
    private func serve(_ request: ClientRequest, for user: UserID) async throws -> RequestResult {
        let limits = configuration.limits
        func page(_ limit: Int?) throws -> Int {
            let limit = limit ?? limits.defaultPageSize
            try MembershipRules.validateLimit(limit)
            return min(limit, limits.maxPageSize)
        }
        func written(_ result: RequestResult) -> RequestResult {
            router.nudge()
            return result
        }

        switch request {
        case .hello:
            throw ChatError(.invalidArgument, "The session is already open; 'hello' is only the first frame.")

        case .send(let send):
            try contentLimits.check(send)
            let message = try await store.append(send.message(from: user))
            router.nudge()
            // Sending ends typing in that conversation.
            stopTyping(TypingTracker.Key(conversation: send.conversationID, user: user))
            return RequestResult(message: message)
        case .edit(let edit):
            try contentLimits.checkBody(edit.body)
            let edited = try await store.editMessage(edit.messageID, body: edit.body, by: user)
            return written(RequestResult(message: edited))
        case .delete(let reference):
            return written(RequestResult(message: try await store.deleteMessage(reference.messageID, by: user)))
        case .react(let change):
            try contentLimits.checkReaction(change.emoji)
            return written(
                RequestResult(message: try await store.addReaction(change.emoji, to: change.messageID, by: user))
            )
        case .unreact(let change):
            try contentLimits.checkReaction(change.emoji)
            return written(
                RequestResult(message: try await store.removeReaction(change.emoji, from: change.messageID, by: user))
            )
        case .markDelivered(let move):
            let marker = try await store.markDelivered(move.conversationID, upTo: move.seq, by: user)
            return written(RequestResult(markers: [marker]))
        case .markRead(let move):
            let marker = try await store.markRead(move.conversationID, upTo: move.seq, by: user)
            return written(RequestResult(markers: [marker]))
        case .typing(let request):
            try await setTyping(request, by: user)
            return .empty

        case .createConversation(let create):
            try contentLimits.check(create)
            // The creator aside (a client may list itself), repeats counted: the store goes through each.
            let named = create.memberIDs.count { $0 != user }
            try checkMembersPerRequest(named)
            guard named + 1 <= limits.maxMembers else {
                throw ChatError(.limitExceeded, "A conversation has at most \(limits.maxMembers) members.")
            }
            chargeMembershipWork(of: user, named: named)
            let conversation = try await store.createConversation(
                NewConversation(
                    kind: create.kind, title: create.title, createdBy: user, memberIDs: create.memberIDs,
                    creationKey: create.creationKey
                )
            )
            let memberCount = Set(create.memberIDs).union([user]).count
            if sharesPresence(kind: conversation.kind, memberCount: memberCount) {
                await introduceMembers(of: conversation, createdBy: user)
            }
            return written(RequestResult(conversation: conversation))
        case .addMembers(let add):
            try checkMembersPerRequest(add.userIDs.count)
            // Counted with repeats, as a creation's list is: a longer list cannot be a valid add, and the store
            // would go through all of it.
            guard add.userIDs.count <= limits.maxMembers else {
                throw ChatError(.limitExceeded, "A conversation has at most \(limits.maxMembers) members.")
            }
            chargeMembershipWork(of: user, named: add.userIDs.count)
            // The presence follow-up runs under the gate too: a leave or removal (which runs under it) either comes
            // before the add, and its member is no longer among those introduced, or after the introduction, and
            // withdraws it.
            return try await membershipChanges.run(add.conversationID) {
                try await addMembers(add, by: user)
            }
        case .join(let reference):
            let member = try await membershipChanges.run(reference.conversationID) {
                // What the caller may know first (a group they are not in is not found, a channel they are in is
                // joined already): only then whether it is full.
                let conversation = try await store.conversation(reference.conversationID, as: user)
                // The count first: whether the user is a member already (joining again) is asked only when it is full.
                if conversation.kind == .channel,
                    try await store.memberCount(of: reference.conversationID) >= limits.maxMembers,
                    !(try await store.isMember(user, of: reference.conversationID))
                {
                    throw ChatError(.limitExceeded, "The channel is full (\(limits.maxMembers) members).")
                }
                return try await store.joinChannel(reference.conversationID, user: user)
            }
            return written(RequestResult(members: [member]))
        case .leave(let reference):
            try await removeMember(user, from: reference.conversationID, by: user)
            return .empty
        case .removeMember(let reference):
            try await removeMember(reference.userID, from: reference.conversationID, by: user)
            return .empty
        case .setRole(let change):
            let member = try await store.setRole(change.role, of: change.userID, in: change.conversationID, by: user)
            return written(RequestResult(members: [member]))
        case .rename(let rename):
            try contentLimits.checkTitle(rename.title)
            let conversation = try await store.renameConversation(rename.conversationID, to: rename.title, by: user)
            return written(RequestResult(conversation: conversation))

        case .conversation(let reference):
            return RequestResult(conversation: try await store.conversation(reference.conversationID, as: user))
        case .members(let reference):
            return RequestResult(members: try await store.members(of: reference.conversationID, as: user))
        case .markers(let reference):
            return RequestResult(markers: try await store.markers(of: reference.conversationID, as: user))
        case .listConversations(let list):
            let limit = try page(list.limit ?? limits.maxPageSize)
            // One more than the page, to tell whether more follow.
            let found = try await store.conversations(of: user, before: list.before, limit: limit + 1)
            let (kept, cut) = resultBudget.conversations(Array(found.prefix(limit)))
            // `hasMore` names the last summary's successors: an empty page (a limit of 0) has none to name.
            return RequestResult(conversations: kept, hasMore: !kept.isEmpty && (cut || found.count > limit))
        case .history(let history):
            var query = history.query(defaultLimit: limits.defaultPageSize)
            query.limit = try page(query.limit)
            let messages = try await store.messages(in: history.conversationID, query, as: user)
            return RequestResult(messages: resultBudget.history(messages, query))
        case .sync(let sync):
            // A cursor past what a restored store holds resumes where the store says, as `hello` and the long
            // poll do: the page's cursor, below the one sent, tells the client.
            let start = try await store.resumePosition(after: sync.cursor)
            let events = try await store.events(for: user, after: start, limit: try page(sync.limit))
            return RequestResult(page: resultBudget.sync(events).forClients)
        case .search(let search):
            try contentLimits.checkSearch(search.query)
            let hits = try await store.search(
                search.query, as: user, in: search.conversationID, limit: try page(search.limit)
            )
            return RequestResult(hits: resultBudget.search(hits))

        case .requestContact(let reference):
            let contact = try await contactChanges.run(UserPair(user, reference.userID)) {
                let contact = try await store.requestContact(from: user, to: reference.userID)
                // Asking someone who had asked first accepts: they are contacts now, and see each other's presence.
                if contact.state == .accepted { introducePresence(of: [user], and: [reference.userID]) }
                return contact
            }
            return written(RequestResult(contacts: [contact]))
        case .acceptContact(let reference):
            let contact = try await contactChanges.run(UserPair(user, reference.userID)) {
                let contact = try await store.acceptContact(user, from: reference.userID)
                introducePresence(of: [user], and: [reference.userID])
                return contact
            }
            return written(RequestResult(contacts: [contact]))
        case .declineContact(let reference):
            try await contactChanges.run(UserPair(user, reference.userID)) {
                try await store.declineContact(user, from: reference.userID)
            }
            return written(.empty)
        case .removeContact(let reference):
            try await contactChanges.run(UserPair(user, reference.userID)) {
                // Only an accepted contact shared presence: withdrawing it after removing a request or nothing would
                // tell the caller whether the other user is online (an "offline" frame comes only for one who is).
                // The gate keeps an acceptance from falling between this read and the removal.
                let wasAccepted = try await store.contacts(of: user).contains {
                    $0.userID == reference.userID && $0.state == .accepted
                }
                try await store.removeContact(user, reference.userID)
                if wasAccepted { await withdrawPresence(between: user, and: [reference.userID]) }
            }
            return written(.empty)
        case .listContacts:
            return RequestResult(contacts: try await store.contacts(of: user))
        case .profiles(let profiles):
            let ids = profiles.userIDs.isEmpty ? [user] : profiles.userIDs
            guard ids.count <= limits.maxPageSize else {
                throw ChatError(.limitExceeded, "At most \(limits.maxPageSize) profiles per request.")
            }
            return RequestResult(users: try await store.users(ids))
        case .findUser(let find):
            // Looked up as a login looks it up, so any spelling that logs in finds the user.
            guard !find.username.allSatisfy(\.isWhitespace) else {
                throw ChatError(.invalidArgument, "Give the username to find.")
            }
            let username = CredentialRules.lookupUsername(find.username)
            return RequestResult(users: try await store.user(username: username).map { [$0] } ?? [])
        case .updateProfile(let update):
            try contentLimits.check(update)
            return written(RequestResult(users: [try await store.updateProfile(of: user, update)]))
        case .ping:
            return .empty
        }
    }

    /// Introduces the creator of a new direct conversation or small group and its other members to each other's
    /// presence (charged to the creator), under the conversation's gate, among its members as stored now: a member
    /// who has left already (the leave withdrew presence from those it shared it with) is not introduced
    /// afterwards, nor are members of a group an add has grown past presenceMaxGroupSize meanwhile.
    ///
    /// When the members cannot be read (the store failed after the creation committed), it tries again after each
    /// of ``offlineRetryDelays``: an introduction dropped at the first failure left two online users of a new
    /// conversation showing each other offline until one reconnected.
    func introduceMembers(of conversation: Conversation, createdBy user: UserID, attempt: Int = 0) async {
        let introduced = try? await membershipChanges.run(conversation.id) { () async -> Int in
            let members: [UserID]
            do {
                members = try await store.memberIDs(of: conversation.id)
            } catch {
                guard attempt < Self.offlineRetryDelays.count else {
                    logger.error(
                        "Gave up introducing the members of a new conversation to each other's presence",
                        metadata: [
                            "chatkit.conversation.id": "\(conversation.id)",
                            "chatkit.error": "\(loggableDescription(of: error))",
                        ]
                    )
                    return 0
                }
                timers.schedule(at: clock.now + Self.offlineRetryDelays[attempt]) { [self] in
                    await introduceMembers(of: conversation, createdBy: user, attempt: attempt + 1)
                }
                return 0
            }
            guard sharesPresence(kind: conversation.kind, memberCount: members.count) else { return 0 }
            // A creator who left before a retry is not introduced; the members still there are, to each other.
            return introducePresence(of: Set(members).subtracting([user]), and: members.contains(user) ? [user] : [])
        }
        chargePresenceWork(of: user, frames: introduced ?? 0)
    }

    /// Removes `member` from a group or channel (`actor == member`: leaves), then withdraws the presence the two
    /// sides no longer share and ends the member's typing there. Runs under the conversation's gate
    /// (``membershipChanges``), as adds do: an add's introduction of the member either comes first, and is
    /// withdrawn here (the members read here include the newcomer), or comes after, and no longer finds the member.
    /// A group that shrinks back to ``ChatServerConfiguration/presenceMaxGroupSize`` introduces its remaining
    /// members to each other again, as an add does (charged to `actor`).
    private func removeMember(_ member: UserID, from conversation: ConversationID, by actor: UserID) async throws {
        try await membershipChanges.run(conversation) {
            let before = try await membersBeforeRemoval(in: conversation, as: actor)
            try await store.removeMember(member, from: conversation, by: actor)
            // Before anything else can run: a typing start whose members were read before the removal is not
            // delivered to them, and the member hears that the typing shown to them there stopped.
            typing.removed(member, from: conversation) { tellTypingStopped($0, to: [member]) }
            router.nudge()
            guard let before else { return }
            if sharesPresence(kind: before.kind, memberCount: before.members.count) {
                await withdrawPresence(between: member, and: before.members)
            } else if sharesPresence(kind: before.kind, memberCount: before.members.count - 1) {
                // Back within the limit: the remaining members were told each other were offline when it grew.
                let frames = introducePresence(of: before.members.subtracting([member]), and: [])
                chargePresenceWork(of: actor, frames: frames)
            }
        }
        endTyping(of: member, in: conversation)
    }
}

extension ClientRequest {
    /// What the request asks of the store, for the metrics; `nil` for requests that do not reach it.
    fileprivate var storeOperation: ServerMetrics.StoreOperation? {
        switch self {
        case .hello, .typing, .ping:
            nil
        case .send:
            .append
        case .conversation, .members, .markers, .listConversations, .history, .sync, .search, .listContacts,
            .profiles, .findUser:
            .read
        case .edit, .delete, .react, .unreact, .markDelivered, .markRead, .createConversation, .addMembers, .join,
            .leave, .removeMember, .setRole, .rename, .requestContact, .acceptContact, .declineContact,
            .removeContact, .updateProfile:
            .write
        }
    }
}

extension ClientRequest.Send {
    /// The message this request asks the store to append, from `user`.
    fileprivate func message(from user: UserID) -> NewMessage {
        NewMessage(
            conversationID: conversationID,
            senderID: user,
            clientMessageID: clientMessageID,
            body: body,
            replyTo: replyTo,
            mentions: mentions ?? [],
            attachments: attachments ?? []
        )
    }
}
