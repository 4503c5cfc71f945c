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
        if recordsStreamGaps, positionFloor > latest {
            // This transaction skips the positions up to the floor: recorded with it, so that a cursor inside them
            // (handed out by a database this one replaced, or rolled back) is known for one naming lost events.
            // Only a write that skips records: an opening that writes nothing (another process reading the file)
            // leaves no gap that later positions could fall into. Once: writes that hand out no position (sign-ups,
            // logins) leave the last position below the floor, and each of them would record the same gap again.
            try db.cachedStatement(
                sql: """
                    INSERT INTO streamGap (afterPosition, throughPosition) SELECT ?1, ?2
                    WHERE NOT EXISTS (SELECT 1 FROM streamGap WHERE afterPosition = ?1 AND throughPosition = ?2)
                    """
            ).execute(arguments: [latest, positionFloor])
        }
    }

    var nowMilliseconds: Int64 { Codec.milliseconds(now) }

    func nextPosition() -> StreamPosition {
        lastPosition += 1
        return StreamPosition(lastPosition)
    }

    /// Stores an event of a conversation, or one outside conversations for its audience. (A message appended
    /// since `Schema.v3` is its own `messageCreated` event; see ``MessageEvents``.)
    func record(_ event: StoredEvent) throws {
        let payload =
            event.kind == .messageCreated ? try EventPayload.messageCreated(event, encoder) : try encoder.encode(event)
        try db.cachedStatement(sql: "INSERT INTO event (position, kind, conversationID, payload) VALUES (?, ?, ?, ?)")
            .execute(arguments: [event.position.rawValue, event.kind.rawValue, event.conversationID?.rawValue, payload])
        for user in event.audience ?? [] {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO eventAudience (userID, position) VALUES (?, ?)")
                .execute(arguments: [user.rawValue, event.position.rawValue])
        }
    }
}
