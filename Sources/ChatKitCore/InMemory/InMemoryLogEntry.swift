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

/// One event of the in-memory store's log (``InMemoryState/log``).
///
/// Most events are messages being created, and such an event repeats its message, which the conversation's record
/// holds anyway: making a ``StoredEvent`` for every message (when it was about 550 bytes inline, written to fresh
/// memory; since, one allocation) cost about 5 % of the server's CPU in the pairs benchmark. An entry for a message
/// that has not changed since refers to it in its conversation instead, and the event is made when it is read.
/// Before the message changes (an edit, a reaction, a deletion),
/// ``InMemoryState/replace(_:at:kind:actor:at:reaction:)`` replaces the entry with the event as it was, so the
/// event keeps showing the message as created. Other events are kept whole (a `StoredEvent` is one reference).
enum InMemoryLogEntry {
    /// A `messageCreated` event whose message is still `record.messages[index]` unchanged.
    case messageCreated(InMemoryState.ConversationRecord, index: Int, position: StreamPosition)
    /// Any other event, or a message's creation after the message changed.
    case stored(StoredEvent)

    /// The event's position in the log.
    var position: StreamPosition {
        switch self {
        case .messageCreated(_, _, let position): position
        case .stored(let event): event.position
        }
    }

    /// The event.
    var event: StoredEvent {
        switch self {
        case .messageCreated(let record, let index, let position):
            let message = record.messages[index]
            return StoredEvent(
                position: position, kind: .messageCreated, conversationID: message.conversationID,
                actorID: message.senderID, createdAt: message.createdAt, message: message
            )
        case .stored(let event):
            return event
        }
    }
}
