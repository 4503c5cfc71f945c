import ChatKitCore
import Foundation
import Testing

@testable import ChatKitSQLite

@Suite("Event payloads")
struct EventPayloadTests {
    static let bodies = [
        "plain", "", "quote \" backslash \\ slash /", "line\nbreak\ttab\r", "control \u{01}\u{1F}\u{7F}",
        "emoji 👩‍👩‍👧 café ﬁ \u{2028}", String(repeating: "long ", count: 1000),
    ]

    @Test("the hand-written messageCreated payload decodes to the event", arguments: bodies)
    func roundTrip(_ body: String) throws {
        let created = Codec.date(1_764_000_000_123)
        let message = Message(
            id: "m\"1", conversationID: "c\\1", seq: 42, senderID: "u1", clientMessageID: "client\n1", body: body,
            replyTo: body.isEmpty ? nil : "m0", mentions: body.isEmpty ? [] : ["u2", "u\"3"],
            attachments: body.isEmpty
                ? [] : [Attachment(id: "a1", fileName: "f \"x\".png", contentType: "image/png", byteCount: 9, width: 3)],
            createdAt: created
        )
        let event = StoredEvent(
            position: StreamPosition(7), kind: .messageCreated, conversationID: "c\\1", actorID: "u1",
            createdAt: created, message: message
        )
        let data = try EventPayload.messageCreated(event, Codec.makeEncoder())
        #expect(try Codec.makeDecoder().decode(StoredEvent.self, from: data) == event)
        #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])
    }
}
