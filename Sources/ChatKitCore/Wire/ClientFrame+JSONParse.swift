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

extension ClientFrame {
    /// Reads the requests clients send most (`send`, `hello`, `markRead`, `markDelivered`, `typing`) without
    /// `JSONDecoder`, which costs several microseconds a frame; `nil` for anything else, which the caller then
    /// decodes with `JSONDecoder` (which also explains what is wrong with a bad frame).
    ///
    /// Only flat objects are read here: values that are strings, integers, booleans, `null`, or arrays of strings
    /// or of integers, and no key but `type`, `id` and the request's own. Another request type, another key, a
    /// nested value, a repeated key, a number with a fraction or an exponent, a value of the wrong kind, a missing
    /// field or malformed JSON all give `nil`. So whenever this returns a frame, `JSONDecoder` with ``WireCodec``'s
    /// settings decodes the same frame from the same text (a test holds them to it).
    static func parseCommon(_ text: String) -> ClientFrame? {
        var text = text
        return text.withUTF8 { bytes in
            var reader = FlatJSONReader(bytes)
            guard let object = reader.readObject() else { return nil }
            return frame(from: object)
        }
    }

    private static func frame(from payload: FlatJSONObject) -> ClientFrame? {
        guard case .string(let type)? = payload["type"], case .string(let id)? = payload["id"], !id.isEmpty else {
            return nil
        }
        let request: ClientRequest
        switch type {
        case "send":
            guard payload.hasOnlyKeys(in: sendKeys),
                let conversationID = payload.string("conversationID"),
                let clientMessageID = payload.string("clientMessageID"),
                let body = payload.string("body"),
                let replyTo = payload.optionalString("replyTo"),
                let mentions = payload.optionalStrings("mentions"),
                let attachmentsAreEmpty = payload.optionalEmptyArray("attachments"),
                // Identifiers holding U+0000 are refused, by JSONDecoder (`ChatIdentifier`).
                ConversationID.isAcceptable(conversationID), ClientMessageID.isAcceptable(clientMessageID),
                replyTo.map(MessageID.isAcceptable) ?? true, mentions?.allSatisfy(UserID.isAcceptable) ?? true
            else { return nil }
            request = .send(
                Send(
                    conversationID: ConversationID(rawValue: conversationID),
                    clientMessageID: ClientMessageID(rawValue: clientMessageID),
                    body: body,
                    replyTo: replyTo.map(MessageID.init(rawValue:)),
                    mentions: mentions.map { $0.map(UserID.init(rawValue:)) },
                    attachments: attachmentsAreEmpty ? [] : nil
                )
            )
        case "hello":
            guard payload.hasOnlyKeys(in: helloKeys),
                let versions = payload.integers("versions"),
                let token = payload.string("token"),
                let cursor = payload.optionalInteger("cursor")
            else { return nil }
            var intVersions: [Int] = []
            for version in versions {
                guard let version = Int(exactly: version) else { return nil }
                intVersions.append(version)
            }
            request = .hello(Hello(versions: intVersions, token: token, cursor: cursor.map(StreamPosition.init(rawValue:))))
        case "markRead", "markDelivered":
            guard payload.hasOnlyKeys(in: markerKeys),
                let conversationID = payload.string("conversationID"), ConversationID.isAcceptable(conversationID),
                case .integer(let seq)? = payload["seq"]
            else { return nil }
            let move = MarkerMove(conversationID: ConversationID(rawValue: conversationID), seq: seq)
            request = type == "markRead" ? .markRead(move) : .markDelivered(move)
        case "typing":
            guard payload.hasOnlyKeys(in: typingKeys),
                let conversationID = payload.string("conversationID"), ConversationID.isAcceptable(conversationID),
                case .bool(let isTyping)? = payload["isTyping"]
            else { return nil }
            request = .typing(Typing(conversationID: ConversationID(rawValue: conversationID), isTyping: isTyping))
        default:
            return nil
        }
        return ClientFrame(id: id, request)
    }

    private typealias Send = ClientRequest.Send
    private typealias Hello = ClientRequest.Hello
    private typealias MarkerMove = ClientRequest.MarkerMove
    private typealias Typing = ClientRequest.Typing

    private static let sendKeys = [
        "type", "id", "conversationID", "clientMessageID", "body", "replyTo", "mentions", "attachments",
    ]
    private static let helloKeys = ["type", "id", "versions", "token", "cursor"]
    private static let markerKeys = ["type", "id", "conversationID", "seq"]
    private static let typingKeys = ["type", "id", "conversationID", "isTyping"]
}
