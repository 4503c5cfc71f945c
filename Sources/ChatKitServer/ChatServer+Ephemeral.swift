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
import Foundation
import Logging

extension ChatServer {
    // MARK: Typing

    /// Starts or stops `user`'s typing indicator in a conversation they belong to.
    func setTyping(_ request: ClientRequest.Typing, by user: UserID) async throws {
        let key = TypingTracker.Key(conversation: request.conversationID, user: user)
        let update = TypingUpdate(conversationID: request.conversationID, userID: user, isTyping: request.isTyping)
        let now = clock.now
        let notMember = ChatError(.notFound, "No such conversation, or you are not a member of it.")
        // Kept in memory below (the start's record and its expiry timer) before the members are read: an ID no store
        // makes is refused first, so that long made-up IDs cannot fill the server's memory.
        guard request.conversationID.rawValue.utf8.count <= ContentLimits.maxTypingConversationIDBytes else {
            throw notMember
        }
        guard request.isTyping else {
            guard try await store.isMember(user, of: request.conversationID) else { throw notMember }
            stopTyping(key)
            return
        }
        guard try await showsTyping(in: request.conversationID, of: user, notMember: notMember) else { return }
        // The start is recorded (with its expiry) before the members are read: a removal that commits meanwhile
        // either finds it (and `endTyping` stops it) or is seen in the members read after it.
        let start = typing.start(key, now: now)
        let generation = start.generation
        timers.schedule(at: now + configuration.typingTimeout) { [self] in
            typing.expire(key, generation: generation, now: clock.now) { tellTypingStopped(key, to: $0) }
        }
        for _ in 0..<Self.typingMemberReads {
            let removals = typing.removals(from: request.conversationID)
            let members = try await store.memberIDs(of: request.conversationID)
            guard members.contains(user) else {
                // Removed meanwhile. This refresh replaced the shown start the removal's `endTyping` would have
                // stopped; if it takes the record first, that finds nothing, so the stop goes out here.
                stopTyping(key)
                throw notMember
            }
            guard start.broadcast else { break }
            if deliverStart(update, to: members.filter { $0 != user }, removals: removals) { break }
        }
        if let showAt = start.showAt {
            // A start held back by the interval: shown when it ends, if the user still types then.
            timers.schedule(at: showAt) { [self] in
                guard typing.show(key, now: clock.now) else { return }
                await showHeldBackStart(update)
            }
        }
    }

    /// Stops `key`'s typing (an explicit stop, a sent message, a removal): those its start was shown to are told,
    /// with no read of the store.
    func stopTyping(_ key: TypingTracker.Key) {
        typing.stop(key, now: clock.now) { tellTypingStopped(key, to: $0) }
    }

    /// Tells `users` that `key`'s typing stopped (under the tracker's lock, from ``stopTyping(_:)`` or an expiry).
    func tellTypingStopped(_ key: TypingTracker.Key, to users: Set<UserID>) {
        deliver(.typing(TypingUpdate(conversationID: key.conversation, userID: key.user, isTyping: false)), to: users)
    }

    /// Whether `user`'s typing in a conversation is shown to its other members: in direct conversations and in
    /// groups of at most ``ChatServerConfiguration/typingMaxGroupSize`` members, not in channels. Decided before
    /// anything is kept, so that a start not shown leaves no record or timer (whose held-back start would be
    /// shown later).
    ///
    /// - Throws: `notMember` if `user` is not a member (checked here only where the answer is `false`; the caller
    ///   checks it otherwise, with the members it reads after recording the start).
    private func showsTyping(in id: ConversationID, of user: UserID, notMember: ChatError) async throws -> Bool {
        let conversation: Conversation
        do {
            // Refuses non-members of anything but a channel.
            conversation = try await store.conversation(id, as: user)
        } catch let error as ChatError where error.code == .notFound {
            throw notMember
        }
        switch conversation.kind {
        case .direct:
            return true
        case .group:
            return try await store.memberCount(of: id) <= configuration.typingMaxGroupSize
        default:
            // A channel's member list may be long: one look-up, not a read of it at every keystroke.
            guard try await store.isMember(user, of: id) else { throw notMember }
            return false
        }
    }

    /// Shows a start the refresh interval held back to the other members of its conversation, while the typer is
    /// still one of them (they may have left meanwhile).
    func showHeldBackStart(_ update: TypingUpdate) async {
        for _ in 0..<Self.typingMemberReads {
            let removals = typing.removals(from: update.conversationID)
            guard let members = try? await store.memberIDs(of: update.conversationID),
                members.contains(update.userID)
            else { return }
            if deliverStart(update, to: members.filter { $0 != update.userID }, removals: removals) { return }
        }
    }

    /// How many times a typing start reads its conversation's members while removals from it commit meanwhile (each
    /// makes the members read before it stale); past that, the start is not shown.
    static let typingMemberReads = 3

    /// Delivers a typing start while the typing it starts is still shown
    /// (``TypingTracker/whileTyping(_:to:removals:_:)``), encoded before the tracker's lock is taken. `false` when a
    /// removal was noted since `removals` (read before `users`): nothing was delivered, and the members are to be
    /// read again.
    private func deliverStart(
        _ update: TypingUpdate, to users: [UserID], removals: TypingTracker.Removals
    ) -> Bool {
        guard let text = try? codec.encode(ServerFrame.typing(update)) else { return true }
        let key = TypingTracker.Key(conversation: update.conversationID, user: update.userID)
        return typing.whileTyping(key, to: users, removals: removals) { registry.deliver(text, to: users) }
    }

    /// Ends `user`'s typing in a conversation they no longer belong to: those who were shown it hear it stop now,
    /// not when it expires, and a start held back is never shown.
    func endTyping(of user: UserID, in conversation: ConversationID) {
        stopTyping(TypingTracker.Key(conversation: conversation, user: user))
    }

    /// Ends `user`'s typing everywhere: their last connection closed. The others stop showing it at once instead of
    /// at its expiry, and a start held back by the refresh interval is never shown after they left.
    func endTyping(of user: UserID) {
        for conversation in typing.conversations(typedInBy: user) { endTyping(of: user, in: conversation) }
    }

    // MARK: Presence

    /// The users who see `user`'s presence: accepted contacts, and members of the direct conversations and groups
    /// `user` belongs to. (Channels can be large and public; their members do not get each other's presence.)
    func presenceAudience(of user: UserID) async throws -> Set<UserID> {
        var audience = Set(try await store.contacts(of: user).filter { $0.state == .accepted }.map(\.userID))
        // One read of the store (for stores that implement it), not one per conversation: a session's start need
        // not read every conversation's members, last message and unread count.
        audience.formUnion(
            try await store.membersSharingPresence(with: user, maxGroupSize: configuration.presenceMaxGroupSize)
        )
        audience.remove(user)
        return audience
    }

    /// Whether the members of a conversation see each other's presence: in direct conversations and in groups of
    /// at most ``ChatServerConfiguration/presenceMaxGroupSize`` members, not in channels.
    func sharesPresence(kind: ConversationKind, memberCount: Int) -> Bool {
        MembershipRules.sharesPresence(kind, memberCount: memberCount, maxGroupSize: configuration.presenceMaxGroupSize)
    }

    /// Tells `audience` that `user` came online.
    func broadcastOnline(of user: UserID, to audience: Set<UserID>) {
        deliver(.presence(PresenceUpdate(userID: user, isOnline: true)), to: audience)
    }

    /// How many times a withdrawal reads its audience at most while introductions of its users keep coming.
    static let withdrawalReads = 3

    /// The delays before each new try of an offline update whose audience could not be read.
    static let offlineRetryDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)]

    /// Tells `user`'s audience that they went offline (at `lastSeenAt`: when their last connection closed), while
    /// `announcement`
    /// (``PresenceTracker/expire(_:generation:)``) holds: not once they are back, nor after a later offline period's
    /// update.
    ///
    /// When the audience cannot be read (the store failed), it tries again after each of ``offlineRetryDelays`` while
    /// the user stays offline: an update dropped at the first failure left their contacts showing them online for
    /// good.
    func broadcastOffline(of user: UserID, announcement: Int, lastSeenAt: Date, attempt: Int = 0) async {
        guard presence.isAnnouncing(user, announcement) else { return }
        do {
            let audience = try await presenceAudience(of: user)
            let update = PresenceUpdate(userID: user, isOnline: false, lastSeenAt: lastSeenAt)
            if let text = try? codec.encode(ServerFrame.presence(update)) {
                // Checked again after the read, with the delivery: a session that opened meanwhile has said
                // "online", or says it after this.
                presence.whileAnnouncing(user, announcement) { registry.deliver(text, to: audience) }
            }
            presence.endAnnouncement(user, announcement)
        } catch {
            guard attempt < Self.offlineRetryDelays.count else {
                presence.endAnnouncement(user, announcement)
                logger.error(
                    "Gave up telling a user's audience of going offline: shown online until the next connect",
                    metadata: ["chatkit.user.id": "\(user)", "chatkit.error": "\(loggableDescription(of: error))"]
                )
                return
            }
            timers.schedule(at: clock.now + Self.offlineRetryDelays[attempt]) { [self] in
                await broadcastOffline(
                    of: user, announcement: announcement, lastSeenAt: lastSeenAt, attempt: attempt + 1
                )
            }
        }
    }

    /// Tells the members of a group that just grew past ``ChatServerConfiguration/presenceMaxGroupSize`` that the
    /// members they no longer share presence with (through a contact, a direct conversation or another
    /// small group) are offline, with no `lastSeenAt`: they will hear nothing more of them, so they must not go on
    /// showing them online.
    ///
    /// - Returns: How many audiences it computed (each a few store reads), for
    ///   ``chargePresenceWork(of:audiences:frames:)``.
    @discardableResult
    func withdrawPresence(among members: Set<UserID>) async -> Int {
        presence.noteWithdrawal(involving: members)
        var audiences = 0
        // Every member, online or not: one whose grace period ran out after the group grew was announced offline to
        // the audience of then, which no longer held the others.
        for member in members.sorted() {
            audiences += 1
            // Tried again later when it cannot be read, both ways, as a withdrawal between the member and the others.
            guard let audience = await presenceAudience(of: member, orRetryWithdrawalFrom: members) else { continue }
            let noLongerSharing = members.subtracting(audience).subtracting([member])
            guard !noLongerSharing.isEmpty else { continue }
            deliver(.presence(PresenceUpdate(userID: member, isOnline: false)), to: noLongerSharing)
        }
        return audiences
    }

    /// Charges `user`'s request limit for the presence work a request of theirs caused beyond itself: creating or
    /// growing a group introduces its online members to each other (up to N² frames for N members), and growing one
    /// past ``ChatServerConfiguration/presenceMaxGroupSize`` computes each online member's audience. Without this,
    /// one user repeating such requests within the request limit could send each member thousands of presence
    /// frames a second. A hundred frames, or one audience, cost one request.
    func chargePresenceWork(of user: UserID, audiences: Int = 0, frames: Int = 0) {
        let tokens = Double(audiences) + Double(frames) / 100
        rateLimiter.charge(user, tokens: tokens, now: clock.now)
    }

    /// Tells `user` and those of `others` who no longer share presence with them (a contact removed, a small group
    /// left or removed from) that the other is offline, with no `lastSeenAt`: they will hear nothing more of each
    /// other, so they must not go on showing each other online.
    ///
    /// When the audience cannot be read (the store failed), it tries again after each of ``offlineRetryDelays``,
    /// reading the audience as it is then: a withdrawal dropped at the first failure left both sides showing each
    /// other online for good (a later "offline" goes to the audience of then, which no longer holds them).
    func withdrawPresence(between user: UserID, and others: Set<UserID>, attempt: Int = 0) async {
        guard !others.isEmpty else { return }
        let involved = others.union([user])
        if attempt == 0 { presence.noteWithdrawal(involving: involved) }
        // Read again when an introduction of these users came during the read (a contact accepted while one of
        // them left a group they shared): its "online" went out after the read, which lacks the new relation, and
        // the "offline" below would take it back.
        var audience: Set<UserID> = []
        for _ in 1...Self.withdrawalReads {
            let marks = presence.introductionMarks(involved)
            guard let read = await presenceAudience(of: user, orRetryWithdrawalFrom: others, after: attempt) else {
                return
            }
            audience = read
            guard presence.introductionMarks(involved) != marks else { break }
        }
        let apart = others.subtracting(audience).subtracting([user])
        guard !apart.isEmpty else { return }
        // Both sides are told whether or not they are online now: one who went offline since the relation ended
        // (a grace period that ran out during the audience's read, or before a retry) was announced to the audience
        // of then, which no longer held the other side. An "offline" more for one already shown offline is harmless.
        deliver(.presence(PresenceUpdate(userID: user, isOnline: false)), to: apart)
        for other in apart.sorted() {
            deliver(.presence(PresenceUpdate(userID: other, isOnline: false)), to: [user])
        }
    }

    /// `user`'s presence audience; `nil` when the store cannot read it, after scheduling
    /// ``withdrawPresence(between:and:attempt:)`` between `user` and `others` again after the next of
    /// ``offlineRetryDelays`` (`attempt` is the failed one's), or, once they are used up, giving up with an error in
    /// the log.
    private func presenceAudience(
        of user: UserID, orRetryWithdrawalFrom others: Set<UserID>, after attempt: Int = 0
    ) async -> Set<UserID>? {
        do {
            return try await presenceAudience(of: user)
        } catch {
            guard attempt < Self.offlineRetryDelays.count else {
                logger.error(
                    "Gave up withdrawing presence from users who no longer share it: shown online until they reconnect",
                    metadata: ["chatkit.user.id": "\(user)", "chatkit.error": "\(loggableDescription(of: error))"]
                )
                return nil
            }
            timers.schedule(at: clock.now + Self.offlineRetryDelays[attempt]) { [self] in
                await withdrawPresence(between: user, and: others, attempt: attempt + 1)
            }
            return nil
        }
    }

    /// For a session that showed `user` to `shown` and the online users of `peersShown` to `user`, from an audience
    /// read before a relation ended (``PresenceTracker/withdrawalMark(_:)``): tells both sides of each pair that no
    /// longer shares presence that the other is offline. Unlike ``withdrawPresence(between:and:attempt:)``, it marks
    /// no withdrawal (the one that moved the mark did; marking would make other opening sessions read their
    /// audiences again), and it takes back every peer shown, online now or not (one gone offline since told only its
    /// audience of now).
    ///
    /// When the audience cannot be read, it is tried again as a withdrawal's retry is
    /// (``withdrawPresence(between:and:attempt:)``), which tells both sides of each pair apart, online or not.
    func correctPresence(of user: UserID, shown: Set<UserID>, peersShown: Set<UserID>) async {
        guard let audience = await presenceAudience(of: user, orRetryWithdrawalFrom: shown) else { return }
        let apart = shown.subtracting(audience).subtracting([user])
        guard !apart.isEmpty else { return }
        deliver(.presence(PresenceUpdate(userID: user, isOnline: false)), to: apart)
        for other in peersShown.intersection(apart).sorted() {
            deliver(.presence(PresenceUpdate(userID: other, isOnline: false)), to: [user])
        }
    }

    /// A conversation's kind and members, read before a member leaves (whether they shared presence, and whether
    /// the group shrinks back within ``ChatServerConfiguration/presenceMaxGroupSize``); `nil` when the removal
    /// changes no presence: a conversation that `actor` may not see (the removal then says so), a channel, or a
    /// group too large to share presence even one member smaller. Those are not read: a leave or a refused removal
    /// read all ten thousand members of a large channel, for nothing.
    ///
    /// - Throws: What the store throws otherwise: the removal must not go ahead without them, or the presence it
    ///   ends would go on showing on both sides (later updates go to the audiences of then, without each other).
    func membersBeforeRemoval(
        in id: ConversationID, as actor: UserID
    ) async throws -> (kind: ConversationKind, members: Set<UserID>)? {
        let conversation: Conversation
        do {
            conversation = try await store.conversation(id, as: actor)
        } catch let error as ChatError where error.code == .notFound {
            return nil
        }
        guard conversation.kind != .channel else { return nil }
        if conversation.kind == .group,
            !sharesPresence(kind: .group, memberCount: try await store.memberCount(of: id) - 1)
        {
            return nil
        }
        return (conversation.kind, Set(try await store.memberIDs(of: id)))
    }

    /// Tells users who just became contacts or co-members (of a direct conversation or group) which of each other
    /// are online, so they need not wait for a change: everyone in `newcomers` learns about the online users of
    /// `existing`, and the reverse.
    ///
    /// - Returns: How many presence frames it queued (one per receiving user), for
    ///   ``chargePresenceWork(of:audiences:frames:)``.
    @discardableResult
    func introducePresence(of newcomers: Set<UserID>, and existing: Set<UserID>) -> Int {
        presence.noteIntroduction(involving: newcomers.union(existing))
        let onlineNewcomers = newcomers.filter { presence.isOnline($0) }
        let onlineExisting = existing.subtracting(newcomers).filter { presence.isOnline($0) }
        var frames = 0
        for user in onlineExisting.sorted() {
            let receivers = newcomers.subtracting([user])
            deliver(.presence(PresenceUpdate(userID: user, isOnline: true)), to: receivers)
            frames += receivers.count
        }
        for user in onlineNewcomers.sorted() {
            let receivers = existing.union(newcomers).subtracting([user])
            deliver(.presence(PresenceUpdate(userID: user, isOnline: true)), to: receivers)
            frames += receivers.count
        }
        return frames
    }

    /// The presence of the online users of an audience, sent when a session opens.
    func onlinePeers(in audience: Set<UserID>) -> [PresenceUpdate] {
        audience.filter { presence.isOnline($0) }.sorted().map { PresenceUpdate(userID: $0, isOnline: true) }
    }

    func deliver(_ frame: ServerFrame, to users: some Sequence<UserID>) {
        guard let text = try? codec.encode(frame) else { return }
        registry.deliver(text, to: users)
    }
}
