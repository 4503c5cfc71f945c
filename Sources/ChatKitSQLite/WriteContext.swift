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
import GRDB

/// One write transaction: the connection, the time of the change, and the stream positions it hands out.
///
/// Writes are serialized by GRDB's writer, so reading the last position at the start of the transaction and
/// counting up from there gives every event a position above all earlier ones (events in `event` and messages,
/// which are their own `messageCreated` events; see ``MessageEvents``). The count starts at the store's
/// ``PositionFloor`` at least, so that positions handed out before a restore are not handed out again.
final class WriteContext {
    let db: Database
    let now: Date
    let messageIDs: MessageIDGenerator
    private(set) lazy var encoder = Codec.makeEncoder()
    var decoder: JSONDecoder { Codec.sharedDecoder }
    private(set) var lastPosition: Int64

    init(
        _ db: Database, now: Date, messageIDs: MessageIDGenerator, positionFloor: Int64, recordsStreamGaps: Bool
    ) throws {
        self.db = db
        self.now = now
        self.messageIDs = messageIDs
        let latest = try MessageEvents.latestPosition(db)
        lastPosition = max(latest, positionFloor)
        if recordsStreamGaps, positionFloor > latest { unrecordedGap = (latest, positionFloor) }
    }

    /// The positions this transaction skips, until its first position is handed out: recorded then, so that a
    /// cursor inside them (handed out by a database this one replaced, or rolled back) is known for one naming lost
    /// events. Only a write that hands out a position records: a store that writes without one (another process
    /// revoking sessions or adding users on the live file) must not mark as lost the positions that the store
    /// serving clients goes on handing out, nor one opening record its gap again at every such write.
    private var unrecordedGap: (after: Int64, through: Int64)?

    var nowMilliseconds: Int64 { Codec.milliseconds(now) }

    func nextPosition() throws -> StreamPosition {
        if let gap = unrecordedGap {
            unrecordedGap = nil
            // Once per opening: after this transaction commits, the last position is above the floor.
            try db.cachedStatement(sql: "INSERT INTO streamGap (afterPosition, throughPosition) VALUES (?, ?)")
                .execute(arguments: [gap.after, gap.through])
        }
        lastPosition += 1
        return StreamPosition(lastPosition)
    }

    /// Stores an event of a conversation, or one outside conversations for its audience. (A message appended
    /// since `Schema.v3` is its own `messageCreated` event; see ``MessageEvents``.)
    func record(_ event: StoredEvent) throws {
        let payload =
            event.kind == .messageCreated ? try EventPayload.messageCreated(event, encoder) : try encoder.encode(event)
        // The column says which conversation's members see the event: none for an event with an audience (its
        // rows below), even one naming a conversation (a marker move its user alone sees), or sync would read it
        // twice. The payload keeps the conversation.
        let members = event.audience == nil ? event.conversationID?.rawValue : nil
        try db.cachedStatement(sql: "INSERT INTO event (position, kind, conversationID, payload) VALUES (?, ?, ?, ?)")
            .execute(arguments: [event.position.rawValue, event.kind.rawValue, members, payload])
        for user in event.audience ?? [] {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO eventAudience (userID, position) VALUES (?, ?)")
                .execute(arguments: [user.rawValue, event.position.rawValue])
        }
    }
}
