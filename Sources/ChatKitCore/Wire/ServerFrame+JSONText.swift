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

// The server's frames written with `JSONTextWriter`: fields in sorted key order (byte order, as `JSONEncoder`'s
// `.sortedKeys` sorts them), optional fields left out when `nil`. Frames and values the server sends rarely
// (goodbye, conversations, members, contacts) are spliced in from `JSONEncoder`.

// chatkit-bench tells a frame's type from its last `"type"` key (`FrameScan.type(of:)`): keep `type` the only
// key of that name in a frame, with nothing nested after it that has one.
extension ServerFrame {
    /// The frame as JSON text, the same bytes as `JSONEncoder` with ``WireCodec``'s settings writes.
    func jsonText() throws -> String {
        var writer = JSONTextWriter()
        switch self {
        case .event(let event):
            try writer.object { writer in
                writer.key("event")
                try event.write(to: &writer)
                writer.field("type", "event")
            }
        case .result(let id, let result):
            try writer.object { writer in try result.writeFields(to: &writer, id: id) }
        case .typing(let typing):
            writer.object { writer in
                writer.field("conversationID", typing.conversationID)
                writer.field("isTyping", typing.isTyping)
                writer.field("type", "typing")
                writer.field("userID", typing.userID)
            }
        case .presence(let presence):
            writer.object { writer in
                writer.field("isOnline", presence.isOnline)
                writer.field("lastSeenAt", presence.lastSeenAt)
                writer.field("type", "presence")
                writer.field("userID", presence.userID)
            }
        case .error(let error):
            writer.object { writer in
                writer.field("code", error.code)
                writer.field("id", error.id)
                writer.field("message", error.message)
                writer.field("retryAfterMilliseconds", error.retryAfterMilliseconds)
                writer.field("type", "error")
            }
        case .synced(let synced):
            writer.object { writer in
                writer.field("cursor", synced.cursor.rawValue)
                writer.field("type", "synced")
            }
        case .welcome(let welcome):
            writer.object { writer in
                writer.field("id", welcome.id)
                writer.key("limits")
                welcome.limits.write(to: &writer)
                writer.field("position", welcome.position.rawValue)
                if let rewoundTo = welcome.rewoundTo { writer.field("rewoundTo", rewoundTo.rawValue) }
                writer.field("type", "welcome")
                writer.key("user")
                welcome.user.write(to: &writer)
                writer.field("version", welcome.version)
            }
        case .goodbye:
            return String(decoding: try WireCodec.makeEncoder().encode(self), as: UTF8.self)
        }
        return writer.text
    }
}

extension RequestResult {
    /// Writes the result's fields and the frame's `id` and `type`, interleaved in sorted order.
    fileprivate func writeFields(to writer: inout JSONTextWriter, id: String) throws {
        try writer.encodableField("contacts", contacts)
        try writer.encodableField("conversation", conversation)
        try writer.encodableField("conversations", conversations)
        if let hasMore { writer.field("hasMore", hasMore) }
        try writer.field("hits", hits) { writer, hits in
            try writer.array(hits) { writer, hit in try hit.write(to: &writer) }
        }
        writer.field("id", id)
        writer.field("markers", markers) { writer, markers in
            writer.array(markers) { writer, marker in marker.write(to: &writer) }
        }
        try writer.encodableField("members", members)
        writer.field("message", message) { writer, message in message.write(to: &writer) }
        writer.field("messages", messages) { writer, messages in
            writer.array(messages) { writer, message in message.write(to: &writer) }
        }
        try writer.field("page", page) { writer, page in try page.write(to: &writer) }
        writer.field("type", "result")
        writer.field("users", users) { writer, users in
            writer.array(users) { writer, user in user.write(to: &writer) }
        }
    }
}

extension StoredEvent {
    func write(to writer: inout JSONTextWriter) throws {
        try writer.object { writer in
            writer.field("actorID", actorID)
            writer.field("audience", audience)
            writer.field("contactPair", contactPair)
            try writer.encodableField("conversation", conversation)
            writer.field("conversationID", conversationID)
            writer.field("createdAt", createdAt)
            writer.field("kind", kind)
            writer.field("marker", marker) { writer, marker in marker.write(to: &writer) }
            try writer.encodableField("members", members)
            writer.field("message", message) { writer, message in message.write(to: &writer) }
            writer.field("position", position.rawValue)
            writer.field("reaction", reaction) { writer, reaction in reaction.write(to: &writer) }
            writer.field("user", user) { writer, user in user.write(to: &writer) }
        }
    }
}

extension SyncPage {
    fileprivate func write(to writer: inout JSONTextWriter) throws {
        try writer.object { writer in
            writer.field("cursor", cursor.rawValue)
            writer.key("events")
            try writer.array(events) { writer, event in try event.write(to: &writer) }
            writer.field("hasMore", hasMore)
        }
    }
}

extension SearchHit {
    fileprivate func write(to writer: inout JSONTextWriter) throws {
        writer.object { writer in
            writer.key("message")
            message.write(to: &writer)
            writer.field("snippet", snippet)
        }
    }
}

extension Message {
    fileprivate func write(to writer: inout JSONTextWriter) {
        writer.object { writer in
            writer.key("attachments")
            writer.array(attachments) { writer, attachment in attachment.write(to: &writer) }
            writer.field("body", body)
            writer.field("clientMessageID", clientMessageID)
            writer.field("conversationID", conversationID)
            writer.field("createdAt", createdAt)
            writer.field("deletedAt", deletedAt)
            writer.field("editedAt", editedAt)
            writer.field("id", id)
            writer.field("mentions", mentions)
            writer.key("reactions")
            writer.array(reactions) { writer, reaction in reaction.write(to: &writer) }
            writer.field("replyTo", replyTo)
            writer.field("senderID", senderID)
            writer.field("seq", seq)
        }
    }
}

extension Attachment {
    func write(to writer: inout JSONTextWriter) {
        writer.object { writer in
            writer.field("byteCount", byteCount)
            writer.field("contentType", contentType)
            writer.field("fileName", fileName)
            writer.field("height", height)
            writer.field("id", id)
            writer.field("width", width)
        }
    }
}

extension Reaction {
    fileprivate func write(to writer: inout JSONTextWriter) {
        writer.object { writer in
            writer.field("createdAt", createdAt)
            writer.field("emoji", emoji)
            writer.field("userID", userID)
        }
    }
}

extension Marker {
    fileprivate func write(to writer: inout JSONTextWriter) {
        writer.object { writer in
            writer.field("conversationID", conversationID)
            writer.field("deliveredSeq", deliveredSeq)
            writer.field("readSeq", readSeq)
            writer.field("userID", userID)
        }
    }
}

extension ServerLimits {
    fileprivate func write(to writer: inout JSONTextWriter) {
        writer.object { writer in
            writer.field("maxBodyBytes", maxBodyBytes)
            writer.field("maxFrameBytes", maxFrameBytes)
            writer.field("maxMembers", maxMembers)
            writer.field("maxMembersPerRequest", maxMembersPerRequest)
            writer.field("maxPageSize", maxPageSize)
            writer.field("requestsPerSecond", requestsPerSecond)
            writer.field("typingTimeoutMilliseconds", typingTimeoutMilliseconds)
        }
    }
}

extension User {
    fileprivate func write(to writer: inout JSONTextWriter) {
        writer.object { writer in
            writer.field("createdAt", createdAt)
            writer.field("displayName", displayName)
            writer.field("id", id)
            writer.field("statusText", statusText)
            writer.field("username", username)
        }
    }
}
