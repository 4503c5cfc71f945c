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
/// the server would hold it in memory meanwhile. So a page whose messages take more than ``ChatServerConfiguration/Limits/maxResultBytes``
/// as JSON is cut, keeping at least one item: history keeps the messages nearest its anchor (the newest for the
/// latest messages or those before a seq, the oldest for those after one), sync the oldest events (the page then
/// says `hasMore`, its cursor at the last kept), search the best hits. A short page is therefore not the end of a
/// conversation's history: seqs have no gaps, so older messages exist while the first one's seq is above 1.
struct ResultBudget: Sendable {
    let maxBytes: Int
    let codec: WireCodec

    /// The oldest or newest messages of `messages` (ascending seqs) that fit, as `query`'s anchor says.
    func history(_ messages: [Message], _ query: HistoryQuery) -> [Message] {
        guard !fits(messages) else { return messages }
        if query.anchor.afterSeq != nil {
            return Array(messages.prefix(fittingCount(messages)))
        }
        return Array(messages.suffix(fittingCount(messages.reversed())))
    }

    /// The first events of `page` that fit; a cut page has more and ends at its last event.
    func sync(_ page: SyncPage) -> SyncPage {
        let messages = page.events.compactMap(\.message)
        guard !fits(messages) else { return page }
        var kept = 0
        var bytes = 0
        for event in page.events {
            bytes += event.message.map(size(of:)) ?? 512
            if kept > 0, bytes > maxBytes { break }
            kept += 1
        }
        guard kept < page.events.count else { return page }
        let events = Array(page.events.prefix(kept))
        return SyncPage(events: events, cursor: events[kept - 1].position, hasMore: true)
    }

    /// The best hits of `hits` that fit.
    func search(_ hits: [SearchHit]) -> [SearchHit] {
        let messages = hits.map(\.message)
        guard !fits(messages) else { return hits }
        return Array(hits.prefix(fittingCount(messages)))
    }

    /// Whether `messages` surely fit: their text, counted six times over (the most JSON escaping can grow it),
    /// with room for their other fields. Most pages pass here without encoding anything.
    private func fits(_ messages: [Message]) -> Bool {
        var bound = 0
        for message in messages {
            bound += 6 * (message.body.utf8.count + 64 * message.reactions.count) + 512
            bound += 6 * 800 * message.attachments.count + 64 * message.mentions.count + 128 * message.reactions.count
            if bound > maxBytes { return false }
        }
        return true
    }

    /// How many of `messages`, in order, fit (at least one, if any).
    private func fittingCount(_ messages: some Sequence<Message>) -> Int {
        var count = 0
        var bytes = 0
        for message in messages {
            bytes += size(of: message)
            if count > 0, bytes > maxBytes { break }
            count += 1
        }
        return count
    }

    /// The size of `message` in a result, as JSON.
    private func size(of message: Message) -> Int {
        (try? codec.encode(ServerFrame.result(id: "", RequestResult(messages: [message]))).utf8.count) ?? maxBytes
    }
}
