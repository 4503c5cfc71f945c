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

@Suite("Model values encode as documented")
struct ModelCodingTests {
    private func roundTrip<Value: Codable & Equatable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let data = try encoder.encode(value)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        #expect(try decoder.decode(Value.self, from: data) == value)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func identifiersAndChoicesAreBareStrings() throws {
        #expect(try roundTrip(UserID(rawValue: "u-1")) == #""u-1""#)
        #expect(try roundTrip(ConversationKind.channel) == #""channel""#)
        #expect(try roundTrip(StreamPosition(42)) == "42")
    }

    @Test func unknownChoicesSurviveDecoding() throws {
        let kind = try JSONDecoder().decode(ConversationKind.self, from: Data(#""broadcast""#.utf8))
        #expect(kind.rawValue == "broadcast")
        #expect(!kind.isKnown)
        #expect(ConversationKind.group.isKnown)
    }

    @Test func messagesAndEventsRoundTrip() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123)
        let message = Message(
            id: "m", conversationID: "c", seq: 7, senderID: "u", clientMessageID: "k", body: "héllo 👋",
            replyTo: "m0", mentions: ["v"],
            attachments: [Attachment(id: "a", fileName: "f.png", contentType: "image/png", byteCount: 9)],
            reactions: [Reaction(userID: "v", emoji: "👍", createdAt: date)], createdAt: date, editedAt: date
        )
        _ = try roundTrip(message)
        let event = StoredEvent(position: StreamPosition(3), kind: .messageCreated, conversationID: "c", actorID: "u", createdAt: date,
                                message: message)
        let json = try roundTrip(event)
        #expect(json.contains(#""kind":"messageCreated""#))
        #expect(json.contains(#""position":3"#))
    }

    @Test func aConversationSummaryWithoutActivityFromAnOlderServerDecodes() throws {
        let json = #"""
            {"conversation": {"id": "c-1", "kind": "group", "title": "Team", "createdBy": "u-1",
             "createdAt": 1764460700000, "lastSeq": 0}, "role": "owner",
             "marker": {"conversationID": "c-1", "userID": "u-1", "deliveredSeq": 0, "readSeq": 0},
             "unreadCount": 0, "memberCount": 1}
            """#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let summary = try decoder.decode(ConversationSummary.self, from: Data(json.utf8))
        #expect(summary.activity == .start)
        #expect(summary.conversation.title == "Team")
        #expect(summary.lastMessage == nil)
        let withActivity = try roundTrip(
            ConversationSummary(
                conversation: summary.conversation, role: .owner, lastMessage: nil, marker: summary.marker,
                unreadCount: 2, memberCount: 1, activity: StreamPosition(7)
            )
        )
        #expect(withActivity.contains(#""activity":7"#))
    }

    /// Servers before `maxMembersPerRequest` took up to `maxMembers` in one request.
    @Test func limitsWithoutMembersPerRequestFromAnOlderServerDecode() throws {
        let json = #"""
            {"maxFrameBytes": 262144, "maxBodyBytes": 65536, "maxMembers": 10000, "maxPageSize": 500,
             "requestsPerSecond": 50, "typingTimeoutMilliseconds": 5000}
            """#
        let limits = try JSONDecoder().decode(ServerLimits.self, from: Data(json.utf8))
        #expect(limits.maxMembersPerRequest == 10_000)
        #expect(limits.maxPageSize == 500)
        let announced = ServerLimits(
            maxFrameBytes: 1, maxBodyBytes: 2, maxMembers: 3, maxMembersPerRequest: 7, maxPageSize: 4,
            requestsPerSecond: 5, typingTimeoutMilliseconds: 6
        )
        #expect(try roundTrip(announced).contains(#""maxMembersPerRequest":7"#))
    }

    @Test func rolesAreOrdered() {
        #expect(MemberRole.owner > .admin)
        #expect(MemberRole.admin > .member)
        #expect(MemberRole(rawValue: "guest") < .member)
    }

    @Test func errorsDescribeCodeAndReason() {
        let error = ChatError(.notFound, "No such conversation.")
        #expect(error.description == "ChatError.notFound: No such conversation.")
        #expect(ChatError.Code.limitExceeded.description == "limitExceeded")
        #expect(error.code == .notFound)
        #expect(error.code != .forbidden)
    }
}
