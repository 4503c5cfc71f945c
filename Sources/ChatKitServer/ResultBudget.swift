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

/// Keeps a page of history, sync or search within what a client takes in one frame.
///
/// Clients bound the frames they take (`ChatClient`: 16 MiB, `WebSocketClientTransport.Configuration.maxFrameSize`;
/// it was 1 MiB), and a page of ``ChatServerConfiguration/Limits/maxPageSize`` (500) messages with 64 KiB bodies
/// would be over 32 MB: the client's transport would close the connection at it, every time it asked again, and
/// the server would hold it in memory meanwhile. So a page whose messages take more than
/// ``ChatServerConfiguration/Limits/maxResultBytes``
/// as JSON is cut, keeping at least one item: history keeps the messages nearest its anchor (the newest for the
/// latest messages or those before a seq, the oldest for those after one), sync the oldest events (the page then
/// says `hasMore`, its cursor at the last kept), search the best hits. A short page is therefore not the end of a
/// conversation's history: seqs have no gaps, so older messages exist while the first one's seq is above 1.
struct ResultBudget: Sendable {
    let maxBytes: Int
    let codec: WireCodec

    /// The oldest or newest messages of `messages` (ascending seqs) that fit, as `query`'s anchor says.
    func history(_ messages: [Message], _ query: HistoryQuery) -> [Message] {
        guard !surelyFits(messages, Self.bound(of:)) else { return messages }
        if query.anchor.afterSeq != nil {
            return Array(messages.prefix(fittingCount(messages, size(of:))))
        }
        return Array(messages.suffix(fittingCount(messages.reversed(), size(of:))))
    }

    /// The first events of `page` that fit; a cut page has more and ends at its last event.
    func sync(_ page: SyncPage) -> SyncPage {
        guard !surelyFits(page.events, Self.bound(of:)) else { return page }
        let kept = fittingCount(page.events, size(of:))
        guard kept < page.events.count else { return page }
        let events = Array(page.events.prefix(kept))
        return SyncPage(events: events, cursor: events[kept - 1].position, hasMore: true)
    }

    /// The best hits of `hits` that fit.
    func search(_ hits: [SearchHit]) -> [SearchHit] {
        // A hit's snippet repeats part of its message: counted too (6 bytes a byte, as for text in `bound(of:)`).
        guard !surelyFits(hits, { Self.bound(of: $0.message) + 6 * ($0.snippet?.utf8.count ?? 0) + 16 }) else {
            return hits
        }
        return Array(hits.prefix(fittingCount(hits, size(of:))))
    }

    /// The first summaries of `summaries` that fit, and whether any were cut.
    func conversations(_ summaries: [ConversationSummary]) -> (kept: [ConversationSummary], cut: Bool) {
        guard !surelyFits(summaries, Self.bound(of:)) else { return (summaries, false) }
        let kept = fittingCount(summaries, size(of:))
        return (Array(summaries.prefix(kept)), kept < summaries.count)
    }

    /// Whether `items` surely fit, by an upper `bound` of each one's size. Most pages pass here without encoding
    /// anything.
    private func surelyFits<Item>(_ items: [Item], _ bound: (Item) -> Int) -> Bool {
        var total = 0
        for item in items {
            total += bound(item)
            if total > maxBytes { return false }
        }
        return true
    }

    /// More bytes than `message` can take in JSON: its text counted six times over (the most escaping can grow
    /// it, `\u001f` for one byte), with room for the names of its fields and its numbers.
    static func bound(of message: Message) -> Int {
        var text = message.body.utf8.count + message.id.rawValue.utf8.count + message.senderID.rawValue.utf8.count
        text += message.conversationID.rawValue.utf8.count + message.clientMessageID.rawValue.utf8.count
        text += message.replyTo?.rawValue.utf8.count ?? 0
        var items = 0
        for mention in message.mentions {
            text += mention.rawValue.utf8.count
            items += 1
        }
        for attachment in message.attachments {
            text += attachment.id.rawValue.utf8.count + attachment.fileName.utf8.count
            text += attachment.contentType.utf8.count
            items += 1
        }
        for reaction in message.reactions {
            text += reaction.emoji.utf8.count + reaction.userID.rawValue.utf8.count
            items += 1
        }
        return 6 * text + 128 * items + 512
    }

    /// More bytes than `event` can take in JSON: its message's bound, and the text of everything else it may
    /// carry (members, audience, a conversation, a profile, a reaction, a contact pair), six times over.
    static func bound(of event: StoredEvent) -> Int {
        var text = (event.conversationID?.rawValue.utf8.count ?? 0) + event.actorID.rawValue.utf8.count
        var items = 0
        for member in event.members ?? [] {
            text += member.userID.rawValue.utf8.count + member.conversationID.rawValue.utf8.count
            items += 1
        }
        for user in event.audience ?? [] {
            text += user.rawValue.utf8.count
            items += 1
        }
        for user in event.contactPair ?? [] {
            text += user.rawValue.utf8.count
            items += 1
        }
        if let conversation = event.conversation {
            text += conversation.id.rawValue.utf8.count + (conversation.title?.utf8.count ?? 0)
            text += conversation.createdBy.rawValue.utf8.count
        }
        if let user = event.user {
            text += user.id.rawValue.utf8.count + user.username.utf8.count + user.displayName.utf8.count
            text += user.statusText?.utf8.count ?? 0
        }
        if let reaction = event.reaction { text += reaction.emoji.utf8.count + reaction.userID.rawValue.utf8.count }
        if let marker = event.marker { text += marker.userID.rawValue.utf8.count }
        return (event.message.map(Self.bound(of:)) ?? 0) + 6 * text + 128 * items + 1024
    }

    /// More bytes than `summary` can take in JSON: its last message's bound, and its conversation's and marker's
    /// text six times over.
    static func bound(of summary: ConversationSummary) -> Int {
        let conversation = summary.conversation
        var text = conversation.id.rawValue.utf8.count + (conversation.title?.utf8.count ?? 0)
        text += conversation.createdBy.rawValue.utf8.count + summary.marker.userID.rawValue.utf8.count
        text += summary.marker.conversationID.rawValue.utf8.count
        return (summary.lastMessage.map(Self.bound(of:)) ?? 0) + 6 * text + 1024
    }

    /// How many of `items`, in order, fit by their `size` (at least one, if any).
    private func fittingCount<Item>(_ items: some Sequence<Item>, _ size: (Item) -> Int) -> Int {
        var count = 0
        var bytes = 0
        for item in items {
            bytes += size(item)
            if count > 0, bytes > maxBytes { break }
            count += 1
        }
        return count
    }

    /// The size of `message` in a result, as JSON.
    private func size(of message: Message) -> Int {
        (try? codec.encode(ServerFrame.result(id: "", RequestResult(messages: [message]))).utf8.count) ?? maxBytes
    }

    /// The size of `hit` in a search result, as JSON.
    private func size(of hit: SearchHit) -> Int {
        (try? codec.encode(ServerFrame.result(id: "", RequestResult(hits: [hit]))).utf8.count) ?? maxBytes
    }

    /// The size of `summary` in a conversation list, as JSON.
    private func size(of summary: ConversationSummary) -> Int {
        (try? codec.encode(ServerFrame.result(id: "", RequestResult(conversations: [summary]))).utf8.count) ?? maxBytes
    }

    /// The size of `event` in a sync page, as JSON.
    private func size(of event: StoredEvent) -> Int {
        (try? codec.encode(ServerFrame.event(event)).utf8.count) ?? maxBytes
    }
}
