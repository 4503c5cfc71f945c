import ChatKitCore
import Foundation

/// Encodes the payload of a ``ChatKitCore/EventKind/messageCreated`` event, the one on the append path, by hand.
///
/// Foundation's `JSONEncoder` costs about a fifth of an append's time; this writes the same JSON (the keys of
/// the synthesized `Codable` conformances, times as integer milliseconds, `nil`s left out) directly, so
/// ``Codec/makeDecoder()`` reads it like any other payload. Lists other than mentions (attachments) still go
/// through `JSONEncoder`, and only when present. A test checks the round trip.
enum EventPayload {
    static func messageCreated(_ event: StoredEvent, _ encoder: JSONEncoder) throws -> Data {
        guard event.kind == .messageCreated, let message = event.message, event.reaction == nil,
            event.marker == nil, event.conversation == nil, event.members == nil, event.contactPair == nil,
            event.user == nil, event.audience == nil, message.reactions.isEmpty
        else { return try encoder.encode(event) }
        var json = "{\"position\":\(event.position.rawValue),\"kind\":"
        appendString(event.kind.rawValue, to: &json)
        if let conversationID = event.conversationID {
            json += ",\"conversationID\":"
            appendString(conversationID.rawValue, to: &json)
        }
        json += ",\"actorID\":"
        appendString(event.actorID.rawValue, to: &json)
        json += ",\"createdAt\":\(Codec.milliseconds(event.createdAt)),\"message\":{\"id\":"
        appendString(message.id.rawValue, to: &json)
        json += ",\"conversationID\":"
        appendString(message.conversationID.rawValue, to: &json)
        json += ",\"seq\":\(message.seq),\"senderID\":"
        appendString(message.senderID.rawValue, to: &json)
        json += ",\"clientMessageID\":"
        appendString(message.clientMessageID.rawValue, to: &json)
        json += ",\"body\":"
        appendString(message.body, to: &json)
        if let replyTo = message.replyTo {
            json += ",\"replyTo\":"
            appendString(replyTo.rawValue, to: &json)
        }
        json += ",\"mentions\":["
        for (index, mention) in message.mentions.enumerated() {
            if index > 0 { json += "," }
            appendString(mention.rawValue, to: &json)
        }
        json += "],\"attachments\":"
        if message.attachments.isEmpty {
            json += "[]"
        } else {
            json += String(decoding: try encoder.encode(message.attachments), as: UTF8.self)
        }
        json += ",\"reactions\":[],\"createdAt\":\(Codec.milliseconds(message.createdAt))"
        if let editedAt = message.editedAt { json += ",\"editedAt\":\(Codec.milliseconds(editedAt))" }
        if let deletedAt = message.deletedAt { json += ",\"deletedAt\":\(Codec.milliseconds(deletedAt))" }
        json += "}}"
        return Data(json.utf8)
    }

    /// Appends `value` as a JSON string literal.
    static func appendString(_ value: String, to json: inout String) {
        json += "\""
        var plainStart = value.unicodeScalars.startIndex
        let scalars = value.unicodeScalars
        var index = scalars.startIndex
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                json.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                json += escape
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        json.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        json += "\""
    }
}
