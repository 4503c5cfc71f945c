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
import Testing

/// Both ends write their frequent frames by hand instead of through `JSONEncoder`; these tests hold the hand-written
/// text to exactly the bytes `JSONEncoder` (sorted keys, unescaped slashes, dates as integer milliseconds) writes.
@Suite("Frames are written exactly as JSONEncoder writes them")
struct WireTextEncodingTests {
    /// The reference: Foundation's encoder with the settings the wire protocol documents.
    private static func reference(_ frame: ServerFrame) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        }
        return String(decoding: try encoder.encode(frame), as: UTF8.self)
    }

    private static func expectSameText(_ frame: ServerFrame, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let codec = WireCodec()
        let text = try codec.encode(frame)
        #expect(text == (try reference(frame)), sourceLocation: sourceLocation)
        // Decoding reads the frame back (dates to the millisecond, so compare the text it encodes to).
        #expect(try codec.encode(codec.decodeServerFrame(text)) == text, sourceLocation: sourceLocation)
    }

    static let date = Date(timeIntervalSince1970: 1_700_000_000.1237)
    static let early = Date(timeIntervalSince1970: -12.5)

    /// Strings that need every kind of escaping, and some that need none.
    static let awkwardStrings: [String] = {
        var controls = ""
        for code in 0..<0x20 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(code))) }
        return [
            "", "plain", controls, #"quote " backslash \ slash / end"#, "héllo 👋 \u{7F} \u{2028} \u{FEFF}",
            "line\nbreak\ttab", String(repeating: "long ", count: 300), "\\\"\\",
        ] + wordBoundaryStrings
    }()

    /// Strings with one character to escape at each place around the writer's eight-byte steps, among ASCII and
    /// among two-byte characters.
    static let wordBoundaryStrings: [String] = ["\"", "\\", "\u{1F}", "\n"].flatMap { escaped in
        ["0123456789abcdefgh", "ééééééééé"].flatMap { plain in
            (0...plain.count).map { place in String(plain.prefix(place)) + escaped + String(plain.dropFirst(place)) }
        }
    }

    static func message(body: String, full: Bool) -> Message {
        Message(
            id: "m-1", conversationID: "c-1", seq: full ? 9_223_372_036_854_775_807 : 1, senderID: "u-1",
            clientMessageID: "k-1", body: body, replyTo: full ? "m-0" : nil, mentions: full ? ["u-2", "u-3"] : [],
            attachments: full
                ? [
                    Attachment(id: "a-1", fileName: "photo \"1\".png", contentType: "image/png", byteCount: 123_456,
                               width: 640, height: 480),
                    Attachment(id: "a-2", fileName: "notes.txt", contentType: "text/plain", byteCount: 0),
                ] : [],
            reactions: full ? [Reaction(userID: "u-2", emoji: "👍", createdAt: early)] : [],
            createdAt: date, editedAt: full ? date : nil, deletedAt: full ? early : nil
        )
    }

    static let conversation = Conversation(
        id: "c-1", kind: .group, title: "Team / \"Ops\"", createdBy: "u-1", createdAt: date, lastSeq: 12
    )
    static let member = Member(conversationID: "c-1", userID: "u-2", role: .admin, joinedAt: date)
    static let user = User(id: "u-1", username: "ada", displayName: "Ada\tL.", statusText: "busy", createdAt: date)
    static let marker = Marker(conversationID: "c-1", userID: "u-2", deliveredSeq: 7, readSeq: 5)

    /// One event of every kind, with the fields that kind sets, and some with every field at once.
    static var events: [StoredEvent] {
        let base = StoredEvent(position: StreamPosition(41), kind: .messageCreated, actorID: "u-1", createdAt: date)
        func event(_ kind: EventKind, _ change: (inout StoredEvent) -> Void) -> StoredEvent {
            var event = base
            event.kind = kind
            event.conversationID = "c-1"
            change(&event)
            return event
        }
        var all: [StoredEvent] = [
            event(.messageCreated) { $0.message = message(body: "hi", full: false) },
            event(.messageEdited) { $0.message = message(body: "edited", full: true) },
            event(.messageDeleted) { $0.message = message(body: "", full: true) },
            event(.reactionAdded) {
                $0.message = message(body: "x", full: true)
                $0.reaction = Reaction(userID: "u-2", emoji: "🎉", createdAt: date)
            },
            event(.reactionRemoved) { $0.reaction = Reaction(userID: "u-2", emoji: "\"", createdAt: date) },
            event(.markerUpdated) { $0.marker = marker },
            event(.conversationCreated) {
                $0.conversation = conversation
                $0.members = [member, Member(conversationID: "c-1", userID: "u-1", role: .owner, joinedAt: early)]
            },
            event(.conversationUpdated) { $0.conversation = conversation },
            event(.membersAdded) { $0.members = [member] },
            event(.memberRemoved) { $0.members = [member] },
            event(.memberRoleChanged) { $0.members = [] },
            event(.contactChanged) {
                $0.conversationID = nil
                $0.contactPair = ["u-1", "u-2"]
            },
            event(.profileUpdated) {
                $0.conversationID = nil
                $0.user = user
                $0.audience = ["u-2", "u-3"]
            },
            event(EventKind(rawValue: "fromTheFuture")) { _ in },
        ]
        all.append(
            event(.messageCreated) {
                $0.message = message(body: "everything", full: true)
                $0.reaction = Reaction(userID: "u-2", emoji: "e", createdAt: date)
                $0.marker = marker
                $0.conversation = conversation
                $0.members = [member]
                $0.contactPair = ["u-1"]
                $0.user = user
                $0.audience = []
            }
        )
        return all
    }

    @Test func everyEventKind() throws {
        for event in Self.events {
            try Self.expectSameText(.event(event))
        }
    }

    @Test func awkwardStringsAreEscapedAlike() throws {
        for body in Self.awkwardStrings {
            try Self.expectSameText(.event(StoredEvent(
                position: StreamPosition(-3), kind: .messageCreated, conversationID: ConversationID(rawValue: body),
                actorID: UserID(rawValue: body), createdAt: Self.early, message: Self.message(body: body, full: true)
            )))
            try Self.expectSameText(.error(ErrorFrame(id: body, code: "invalidArgument", message: body)))
        }
    }

    @Test func everyResultField() throws {
        let message = Self.message(body: "sent", full: false)
        let results: [RequestResult] = [
            .empty,
            RequestResult(message: message),
            RequestResult(messages: [message, Self.message(body: "two", full: true)]),
            RequestResult(messages: []),
            RequestResult(conversation: Self.conversation),
            RequestResult(conversations: [
                ConversationSummary(conversation: Self.conversation, role: .owner, lastMessage: message,
                                    marker: Self.marker, unreadCount: 3, memberCount: 4, activity: StreamPosition(41)),
            ], hasMore: true),
            RequestResult(members: [Self.member]),
            RequestResult(markers: [Self.marker, Marker(conversationID: "c-2", userID: "u-1")]),
            RequestResult(contacts: [Contact(userID: "u-2", state: .accepted, since: Self.date)]),
            RequestResult(users: [Self.user]),
            RequestResult(hits: [SearchHit(message: message, snippet: "[sent]"), SearchHit(message: message)]),
            RequestResult(page: SyncPage(events: Self.events, cursor: StreamPosition(99), hasMore: true)),
            RequestResult(page: SyncPage(events: [], cursor: .start, hasMore: false)),
            RequestResult(
                message: message, messages: [message], conversation: Self.conversation, members: [Self.member],
                markers: [Self.marker], contacts: [], users: [Self.user], hits: [], page: nil
            ),
        ]
        for result in results {
            try Self.expectSameText(.result(id: "req-\"7\"", result))
        }
    }

    @Test func everyOtherFrame() throws {
        let frames: [ServerFrame] = [
            .welcome(Welcome(
                id: "h", version: 1, user: Self.user,
                limits: ServerLimits(maxFrameBytes: 1, maxBodyBytes: 2, maxMembers: 3, maxPageSize: 4,
                                     requestsPerSecond: 5, typingTimeoutMilliseconds: 6),
                position: StreamPosition(8)
            )),
            .welcome(Welcome(
                id: "h\u{1}", version: 12, user: User(id: "u-\"2\"", username: "b/b", displayName: "", createdAt: Self.date),
                limits: ServerLimits(maxFrameBytes: 65_536, maxBodyBytes: 0, maxMembers: -1, maxPageSize: Int.max,
                                     requestsPerSecond: 100, typingTimeoutMilliseconds: 5_000),
                position: StreamPosition(.max)
            )),
            .welcome(Welcome(
                id: "h", version: 1, user: Self.user,
                limits: ServerLimits(maxFrameBytes: 1, maxBodyBytes: 2, maxMembers: 3, maxPageSize: 4,
                                     requestsPerSecond: 5, typingTimeoutMilliseconds: 6),
                position: StreamPosition(80), rewoundTo: StreamPosition(41)
            )),
            .welcome(Welcome(
                id: "h", version: 1, user: Self.user,
                limits: ServerLimits(maxFrameBytes: 1, maxBodyBytes: 2, maxMembers: 3, maxMembersPerRequest: 7,
                                     maxPageSize: 4, requestsPerSecond: 5, typingTimeoutMilliseconds: 6),
                position: StreamPosition(8)
            )),
            .error(ErrorFrame(id: nil, code: "protocolError", message: "no id")),
            .error(ErrorFrame(id: "r", code: "limitExceeded", message: "slow down", retryAfterMilliseconds: 250)),
            .presence(PresenceUpdate(userID: "u-2", isOnline: true)),
            .presence(PresenceUpdate(userID: "u-2", isOnline: false, lastSeenAt: Self.date)),
            .typing(TypingUpdate(conversationID: "c-1", userID: "u-2", isTyping: true)),
            .typing(TypingUpdate(conversationID: "c-1", userID: "u-2", isTyping: false)),
            .synced(Synced(cursor: StreamPosition(0))),
            .synced(Synced(cursor: StreamPosition(1_234_567))),
            .goodbye(Goodbye(reason: "shutdown", message: "bye")),
        ]
        for frame in frames {
            try Self.expectSameText(frame)
        }
    }

    @Test func sendRequestsAndOtherClientFrames() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let codec = WireCodec()
        let attachment = Attachment(id: "a-1", fileName: "x.png", contentType: "image/png", byteCount: 5, width: 1)
        var frames: [ClientFrame] = []
        for body in Self.awkwardStrings {
            frames.append(ClientFrame(id: "r" + body, .send(.init(conversationID: "c-1", clientMessageID: "k", body: body))))
        }
        frames += [
            ClientFrame(id: "1", .send(.init(
                conversationID: "c/1", clientMessageID: "k\"1", body: "all", replyTo: "m-0", mentions: ["u-2", "u-3"],
                attachments: [attachment, attachment]
            ))),
            ClientFrame(id: "2", .send(.init(conversationID: "c", clientMessageID: "k", body: "", mentions: [], attachments: []))),
            ClientFrame(id: "3", .hello(.init(token: "t", cursor: StreamPosition(5)))),
            ClientFrame(id: "4", .markRead(.init(conversationID: "c", seq: 9))),
        ]
        for frame in frames {
            let text = try codec.encode(frame)
            #expect(text == String(decoding: try encoder.encode(frame), as: UTF8.self))
            #expect(try codec.decodeClientFrame(text).get() == frame)
        }
    }

    @Test func integersAtTheirLimits() throws {
        for seq in [Int64.min, -1, 0, 9, 10, 99, 100, Int64.max] {
            var message = Self.message(body: "n", full: false)
            message.seq = seq
            try Self.expectSameText(.result(id: "n", RequestResult(message: message)))
        }
    }
}
