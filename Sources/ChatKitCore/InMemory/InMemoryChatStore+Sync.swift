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

import Foundation

extension InMemoryChatStore {
    // MARK: MarkerStore

    public func markDelivered(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try moveMarker(id, user, upTo: seq) { marker, seq in
            marker.deliveredSeq = max(marker.deliveredSeq, seq)
        }
    }

    public func markRead(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try moveMarker(id, user, upTo: seq) { marker, seq in
            marker.readSeq = max(marker.readSeq, seq)
            marker.deliveredSeq = max(marker.deliveredSeq, marker.readSeq)
        }
    }

    private func moveMarker(
        _ id: ConversationID,
        _ user: UserID,
        upTo seq: Int64,
        _ move: (inout Marker, Int64) -> Void
    ) throws -> Marker {
        return try withState { state in
            let now = now()
            let record = try state.memberRecord(id, user)
            let current = record.marker(of: user)
            var marker = current
            move(&marker, min(seq, Int64(record.messages.count)))
            guard marker != current else { return current }
            state.conversations[id]?.markers[user] = marker
            let audience = MembershipRules.markerAudience(
                record.conversation.kind, memberCount: record.members.count, user: user
            )
            state.recordEvent(
                StoredEvent(
                    position: state.nextPosition(), kind: .markerUpdated, conversationID: id, actorID: user,
                    createdAt: now, marker: marker, audience: audience
                ),
                in: id
            )
            return marker
        }
    }

    public func markers(of id: ConversationID, as user: UserID) async throws -> [Marker] {
        try withState { state in
            let record = try state.memberRecord(id, user)
            return record.members.keys.sorted().map { record.marker(of: $0) }
        }
    }

    // MARK: SyncStore

    public func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
        try MembershipRules.validateLimit(limit)
        return try withState { state in
            // Take up to limit + 1 visible events from each source, so a surplus tells that more remain.
            var candidates: [StoredEvent] = []
            // Only the positions of the user's membership periods are read: a conversation they left (or joined
            // late) is not scanned beyond (or before) them, at every page, under the store's lock.
            for id in state.conversationsEverJoined[user] ?? [] {
                guard let record = state.conversations[id], let periods = record.periods[user] else { continue }
                var taken = 0
                periods: for period in periods where (period.to ?? .max) > cursor.rawValue {
                    let start = StreamPosition(max(cursor.rawValue, period.from - 1))
                    for event in state.events(of: record, after: start) {
                        guard event.position.rawValue <= period.to ?? .max else { break }
                        candidates.append(event)
                        taken += 1
                        if taken > limit { break periods }
                    }
                }
            }
            let personal = state.userEvents[user] ?? []
            candidates += personal[personal.firstIndex(after: cursor)...].prefix(limit == .max ? limit : limit + 1)
            candidates.sort { $0.position < $1.position }
            let events = candidates.prefix(limit).map { state.redactingDeletedMessage(in: $0) }
            return SyncPage(
                events: events,
                cursor: events.last?.position ?? cursor,
                hasMore: candidates.count > limit
            )
        }
    }

    public func allEvents(after cursor: StreamPosition, limit: Int) async throws -> [StoredEvent] {
        try MembershipRules.validateLimit(limit)
        return try withState { state in
            let first = state.log.firstIndex(after: cursor) { $0.position }
            return state.log[first...].prefix(limit).map { state.redactingDeletedMessage(in: $0.event) }
        }
    }

    public func latestPosition() async throws -> StreamPosition {
        try withState { StreamPosition($0.lastPosition) }
    }

    // MARK: SearchStore

    public func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
    {
        try MembershipRules.validateLimit(limit)
        let text = SearchText(query: query)
        return try withState { state in
            let ids: [ConversationID]
            if let conversation {
                _ = try state.memberRecord(conversation, user)
                ids = [conversation]
            } else {
                ids = (state.conversationsEverJoined[user] ?? []).filter { state.conversations[$0]?.members[user] != nil }
            }
            guard !text.terms.isEmpty, limit > 0 else { return [] }
            var found: [Message] = []
            for id in ids {
                guard let record = state.conversations[id] else { continue }
                var taken = 0
                for index in record.messages.indices.reversed()
                where !record.messages[index].isDeleted && text.matches(record.words(at: index)) {
                    found.append(record.messages[index])
                    taken += 1
                    if taken == limit { break }
                }
            }
            // Newest first across conversations.
            return found.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(limit).map {
                SearchHit(message: $0, snippet: text.snippet(of: $0.body))
            }
        }
    }
}

extension InMemoryState {
    /// The event, with its message replaced by the tombstone if the message was deleted since.
    func redactingDeletedMessage(in event: StoredEvent) -> StoredEvent {
        // The message's own conversation and seq say where its current version is (no look-up by ID).
        guard let message = event.message, !message.isDeleted,
            let current = conversations[message.conversationID]?.messages[Int(message.seq) - 1], current.isDeleted
        else { return event }
        var redacted = event
        redacted.message = current
        return redacted
    }
}

extension RandomAccessCollection where Index == Int {
    /// The index of the first element whose position (`position`) is after `cursor`; the elements are in position
    /// order.
    func firstIndex(after cursor: StreamPosition, position: (Element) -> StreamPosition) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if position(self[middle]) <= cursor { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension RandomAccessCollection where Index == Int, Element == StoredEvent {
    /// The index of the first event with a position after `cursor` (events are in position order).
    func firstIndex(after cursor: StreamPosition) -> Int {
        firstIndex(after: cursor) { $0.position }
    }
}
