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

/// Chooses random store operations, mostly valid ones and some that a store must refuse: unknown IDs, users who
/// may not do what they ask, resends of a client message ID, empty and unusual text.
struct OperationGenerator: Sendable {
    private var random: SeededRandomNumbers
    private var namesMade = 0
    private var clientIDsMade = 0
    private var hashesMade = 0
    private var profileChanges = 0
    /// Each session's last rotation this generator asked for, to ask for it again.
    private var lastRotation: [Int: (from: String, to: String)] = [:]

    /// Words the bodies are made of: some differ only by case or diacritics, some begin others, so searches of
    /// words and prefixes find several.
    private static let words = ["café", "Cafe", "hello", "world", "naïve", "naive", "über", "apple", "apples", "TEA"]
    private static let queries = ["cafe", "CAFÉ", "hello world", "naive", "uber", "app*", "ap*", "tea", "zzz", "", "*"]
    private static let emoji = ["👍", "❤️", "👍🏽", "😂"]
    private static let titles = ["Team", "Café", "Weekend plans", "x"]

    init(seed: UInt64) { random = SeededRandomNumbers(seed: seed) }

    /// The next operation to make on both stores; `membersOf` tells the current members of a conversation and
    /// their roles (users as indices, ordered), so that most calls are made by someone allowed to make them.
    mutating func next(
        in world: ComparisonWorld, membersOf: (Int) async -> [(user: Int, role: MemberRole)]
    ) async -> StoreOperation {
        if world.usernames.count < 3 { return .createUser(username: newUsername()) }
        if world.conversationKinds.isEmpty { return createConversation(world, Focus(conversation: 0)) }
        let conversation = conversation(world)
        let members = await membersOf(conversation)
        var focus = Focus(conversation: conversation, members: members.map(\.user))
        focus.owners = members.filter { $0.role == .owner }.map(\.user)
        focus.isDirect = world.conversationKinds.indices.contains(conversation)
            && world.conversationKinds[conversation] == .direct
        focus.messages = world.messageConversations.indices.filter { world.messageConversations[$0] == conversation }
        // Few users and conversations, so that each gathers members, messages, markers and contacts.
        let growth = world.usernames.count < 6 ? 3 : 0
        let creations = world.conversationKinds.count < 8 ? 5 : 1
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<growth: return .createUser(username: newUsername())
        case 3..<4: return .createUser(username: random.chance(0.5) ? existing(world) : "")
        case 4..<6: return updateProfile(world)
        case 6..<7: return .setPassword(user: user(world))
        case 7..<11: return contactChange(world)
        case 11..<(11 + creations): return createConversation(world, focus)
        case 16..<24: return membershipChange(world, focus)
        case 24..<42: return .append(message(world, focus))
        case 42..<45:
            return .appendBatch((0..<Int.random(in: 2...4, using: &random)).map { _ in message(world, focus) })
        case 45..<55: return messageChange(world, focus)
        case 55..<62: return marker(world, focus)
        case 62..<67: return sessionChange(world)
        default: return read(world, focus)
        }
    }

    /// The conversation an operation is about, its members, owners and messages (indices).
    private struct Focus {
        var conversation: Int
        var members: [Int] = []
        var owners: [Int] = []
        var messages: [Int] = []
        var isDirect = false
    }

    private mutating func newUsername() -> String {
        namesMade += 1
        return "user\(namesMade)"
    }

    private mutating func existing(_ world: ComparisonWorld) -> String {
        world.usernames[Int.random(in: 0..<world.usernames.count, using: &random)]
    }

    private mutating func user(_ world: ComparisonWorld) -> Int { random.index(below: world.usernames.count) }
    private mutating func conversation(_ world: ComparisonWorld) -> Int {
        random.index(below: world.conversationKinds.count)
    }
    /// Mostly a member of the focus conversation, sometimes anyone (or no one).
    private mutating func actor(_ world: ComparisonWorld, _ focus: Focus) -> Int {
        guard !focus.members.isEmpty, random.chance(0.85) else { return user(world) }
        return focus.members.randomElement(using: &random)!
    }
    /// Mostly a message of the focus conversation, sometimes any (or none).
    private mutating func messageIndex(_ world: ComparisonWorld, _ focus: Focus) -> Int {
        guard !focus.messages.isEmpty, random.chance(0.9) else {
            return random.index(below: world.messageConversations.count)
        }
        return focus.messages.randomElement(using: &random)!
    }
    private mutating func event(_ world: ComparisonWorld) -> Int? {
        guard world.eventCount > 0, !random.chance(0.2) else { return nil }
        return Int.random(in: 0..<world.eventCount, using: &random)
    }
    /// Up to `count` different users (the protocol does not say whether a list naming one twice answers twice);
    /// `known`: only users who exist.
    private mutating func someUsers(_ world: ComparisonWorld, upTo count: Int, known: Bool = false) -> [Int] {
        var chosen: [Int] = []
        for _ in 0..<Int.random(in: 0...count, using: &random) {
            let user = known ? Int.random(in: 0..<world.usernames.count, using: &random) : user(world)
            if !chosen.contains(user) { chosen.append(user) }
        }
        return chosen
    }
    private mutating func text(words count: ClosedRange<Int>) -> String {
        (0..<Int.random(in: count, using: &random)).map { _ in Self.words.randomElement(using: &random)! }
            .joined(separator: " ")
    }

    private mutating func updateProfile(_ world: ComparisonWorld) -> StoreOperation {
        let user = user(world)
        // Always a change (the protocol does not say whether one that changes nothing records an event): a name or
        // status never given before; a blank name (refused) only for a user who exists.
        profileChanges += 1
        var update = ProfileUpdate(displayName: "name \(profileChanges)")
        switch Int.random(in: 0..<3, using: &random) {
        case 0: update = ProfileUpdate(statusText: "status \(profileChanges)")
        case 1 where user < world.usernames.count && random.chance(0.3): update = ProfileUpdate(displayName: " ")
        default: break
        }
        return .updateProfile(user: user, update)
    }

    private mutating func contactChange(_ world: ComparisonWorld) -> StoreOperation {
        // At most one of the two unknown: an unknown user asking themself breaks two rules at once.
        let first = user(world)
        let second =
            first == world.usernames.count ? Int.random(in: 0..<world.usernames.count, using: &random) : user(world)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return .requestContact(from: first, to: second)
        case 1: return .acceptContact(user: first, from: second)
        case 2: return .declineContact(user: first, from: second)
        default: return .removeContact(user: first, other: second)
        }
    }

    private mutating func createConversation(_ world: ComparisonWorld, _ focus: Focus) -> StoreOperation {
        let kind = [ConversationKind.direct, .group, .channel].randomElement(using: &random)!
        let creator = user(world)
        // A key names one kind only (a key reused for the other kind, by a creator who may have left, breaks two
        // rules; the cases check it).
        let key: String? = kind != .direct && random.chance(0.2) ? (kind == .group ? "k1" : "k2") : nil
        // With a key, members that exist: a repeated key returns the first conversation whatever the members say,
        // and the protocol does not say whether an unknown member is looked up first.
        let members = kind == .direct ? [user(world)] : someUsers(world, upTo: 3, known: key != nil)
        let title: String? = kind == .direct ? nil : Self.titles.randomElement(using: &random)
        return .createConversation(kind: kind, creator: creator, members: members, title: title, creationKey: key)
    }

    /// A change of members, roles or title. Each breaks one rule at most: none in a direct conversation (where
    /// every change is refused, and by a plain member twice over), only users who exist added, no owner added, and
    /// no one but an owner asked to demote or remove the last owner.
    private mutating func membershipChange(_ world: ComparisonWorld, _ focus: Focus) -> StoreOperation {
        guard !focus.isDirect else { return .append(message(world, focus)) }
        let (conversation, actor) = (focus.conversation, actor(world, focus))
        let isOwner = focus.owners.contains(actor)
        let lastOwner = focus.owners.count == 1 ? focus.owners[0] : nil
        switch Int.random(in: 0..<6, using: &random) {
        case 0, 1:
            let role = [MemberRole.member, .member, .admin].randomElement(using: &random)!
            let users = someUsers(world, upTo: 3, known: true)
            return .addMembers(users, conversation: conversation, role: role, by: actor)
        case 2: return .joinChannel(conversation: conversation, user: user(world))
        case 3:
            var member = random.chance(0.4) ? actor : self.actor(world, focus)
            if member == lastOwner, !isOwner { member = actor }
            return .removeMember(user: member, conversation: conversation, by: actor)
        case 4:
            let role = [MemberRole.member, .admin, .owner].randomElement(using: &random)!
            let others = focus.members.filter { $0 != lastOwner || isOwner || role == .owner }
            guard let member = others.randomElement(using: &random) else { return read(world, focus) }
            return .setRole(role, user: member, conversation: conversation, by: actor)
        default:
            return .rename(conversation: conversation, title: Self.titles.randomElement(using: &random)!, by: actor)
        }
    }

    private mutating func message(_ world: ComparisonWorld, _ focus: Focus) -> OperationMessage {
        if !world.sent.isEmpty, random.chance(0.1) {
            // The same client message ID again: the first result comes back, whatever the new body says.
            var resent = world.sent.randomElement(using: &random)!
            if random.chance(0.5) { resent.body = text(words: 1...3) }
            if random.chance(0.2) { resent.conversation = focus.conversation }
            return resent
        }
        clientIDsMade += 1
        var sender = actor(world, focus)
        var body = text(words: 1...4)
        // A body the store must refuse comes from a member of a conversation that exists: a call breaks one rule
        // at a time, as the protocol does not say which of two refusals comes first.
        var replyTo = random.chance(0.2) ? messageIndex(world, focus) : nil
        var mentions = random.chance(0.1) ? someUsers(world, upTo: 2) : []
        if let member = focus.members.randomElement(using: &random), random.chance(0.15) {
            sender = member
            body = ["", "nul \u{0} inside", "  "].randomElement(using: &random)!
            (replyTo, mentions) = (nil, [])
        }
        return OperationMessage(
            conversation: focus.conversation, sender: sender, clientMessageID: "client-\(clientIDsMade)",
            body: body, replyTo: replyTo, mentions: mentions
        )
    }

    private mutating func messageChange(_ world: ComparisonWorld, _ focus: Focus) -> StoreOperation {
        let message = messageIndex(world, focus)
        let sender = message < world.messageSenders.count ? world.messageSenders[message] : nil
        // Mostly its sender, who may edit and delete it; a deleted message's only (anyone else would break two
        // rules). Empty edits are left to the cases (refused, and by others twice over).
        var actor = actor(world, focus)
        if let sender, random.chance(0.5) || world.deletedMessages.contains(message) { actor = sender }
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return .edit(message: message, body: text(words: 1...3), by: actor)
        case 1: return .delete(message: message, by: actor)
        case 2: return .addReaction(Self.emoji.randomElement(using: &random)!, message: message, by: actor)
        default: return .removeReaction(Self.emoji.randomElement(using: &random)!, message: message, by: actor)
        }
    }

    private mutating func marker(_ world: ComparisonWorld, _ focus: Focus) -> StoreOperation {
        let count = focus.conversation < world.messageCounts.count ? world.messageCounts[focus.conversation] : 0
        let seq = Int64(Int.random(in: -1...(count + 2), using: &random))
        let actor = actor(world, focus)
        return random.chance(0.5)
            ? .markDelivered(conversation: focus.conversation, seq: seq, by: actor)
            : .markRead(conversation: focus.conversation, seq: seq, by: actor)
    }

    private mutating func read(_ world: ComparisonWorld, _ focus: Focus) -> StoreOperation {
        let (user, conversation) = (actor(world, focus), focus.conversation)
        let limit = [0, 1, 2, 5, 100].randomElement(using: &random)!
        switch Int.random(in: 0..<22, using: &random) {
        case 0: return .user(user)
        case 1: return .userNamed(random.chance(0.8) ? existing(world) : "nobody")
        case 2: return .users(someUsers(world, upTo: 4))
        case 3: return .credentials(user: user)
        case 4: return .contacts(of: user)
        case 5: return .conversation(conversation, as: user)
        case 6: return .members(conversation: conversation, as: user)
        case 7: return .memberIDs(conversation: conversation, atEvent: event(world))
        case 8: return .memberCount(conversation: conversation)
        case 9: return .isMember(user: user, conversation: conversation)
        case 10: return .conversations(of: user)
        case 11: return .conversationPage(of: user, beforeEvent: event(world), limit: limit)
        case 12: return .memberships(of: user)
        case 13: return .membersSharingPresence(with: user, maxGroupSize: [0, 2, 3, 10].randomElement(using: &random)!)
        case 14: return .message(messageIndex(world, focus), as: user)
        case 15: return .history(conversation: conversation, historyQuery(limit: limit), as: user)
        case 16: return .markers(conversation: conversation, as: user)
        case 17: return .events(for: user, afterEvent: event(world), limit: limit)
        case 18: return .allEvents(afterEvent: event(world), limit: limit)
        case 19: return .latestPosition
        case 20:
            return random.chance(0.5)
                ? .resumePosition(afterEvent: event(world)) : .session(random.index(below: world.sessionHashes.count))
        default:
            let query = Self.queries.randomElement(using: &random)!
            return .search(query, as: user, conversation: random.chance(0.5) ? conversation : nil, limit: 1_000)
        }
    }

    /// A login session's creation, rotation (mostly from its current hash; sometimes a repeat of the rotation
    /// just made, which changes nothing, or a stale hash, which revokes it) or revocation.
    private mutating func sessionChange(_ world: ComparisonWorld) -> StoreOperation {
        let count = world.sessionHashes.count
        guard count > 0, random.chance(0.75) else {
            // Users who exist (an unknown one with an ID taken breaks two rules), lifetimes past the run's end (the
            // protocol leaves expiry to the caller), and now and then an ID that may be taken.
            let index = count > 0 && random.chance(0.1) ? Int.random(in: 0..<count, using: &random) : count
            return .createSession(
                session: index, user: Int.random(in: 0..<world.usernames.count, using: &random),
                lifetime: [86_400, 30 * 86_400].randomElement(using: &random)!,
                credentialsVersion: random.chance(0.5) ? 1 : nil
            )
        }
        let session = random.index(below: count)
        let current = session < count ? world.sessionHashes[session] : nil
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return .revokeSession(session)
        case 1: return .revokeSessions(of: Int.random(in: 0..<world.usernames.count, using: &random))
        case 2: return .rotate(session: session, from: "hash-0", to: "stolen")
        default:
            hashesMade += 1
            let next = "hash-\(hashesMade)"
            guard let current else { return .rotate(session: session, from: "hash-0", to: next) }
            // The same rotation again (a retry) names the hash it rotated to as the new one.
            if random.chance(0.2), let previous = lastRotation[session], previous.to == current {
                return .rotate(session: session, from: previous.from, to: previous.to)
            }
            lastRotation[session] = (current, next)
            return .rotate(session: session, from: current, to: next)
        }
    }

    private mutating func historyQuery(limit: Int) -> HistoryQuery {
        let seq = Int64(Int.random(in: -1...12, using: &random))
        switch Int.random(in: 0..<3, using: &random) {
        case 0: return .latest(limit: limit)
        case 1: return .before(seq, limit: limit)
        default: return .after(seq, limit: limit)
        }
    }
}
