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

public import ChatKitCore

/// A message in a ``ChatClient``'s outbox: sent with
/// ``ChatClient/send(_:to:clientMessageID:replyTo:mentions:attachments:)`` and not yet acknowledged by the server,
/// or refused by it.
///
/// The client keeps pending messages across reconnections and sends them again, in order within each
/// conversation, with the same ``clientMessageID``; the server stores a message once per sender and client message
/// ID, so a resend after a lost acknowledgement returns the message stored the first time.
public struct OutgoingMessage: Sendable, Hashable, Identifiable {
    /// Where an outgoing message stands.
    public struct State: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case pending, sent, failed, discarded
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Queued or on the wire; the client sends it (again) whenever it is connected.
        public static let pending = State(.pending)
        /// The server stored it; ``OutgoingMessage/message`` holds the stored message. A sent message leaves the
        /// outbox.
        public static let sent = State(.sent)
        /// The server refused it for good (for example `forbidden`, `notFound` or `invalidArgument`):
        /// ``OutgoingMessage/failureCode`` and ``OutgoingMessage/failureReason`` say why. It stays in the outbox
        /// until retried or discarded.
        public static let failed = State(.failed)
        /// Removed from the outbox by ``ChatClient/discard(_:)`` after it failed; it was not stored. Only
        /// ``ChatClient/outboxUpdates()`` shows this state: the message is no longer in the outbox.
        public static let discarded = State(.discarded)

        public var description: String { base.rawValue }

        /// The state named `name` (its ``description``), or `nil` for a name this version does not know.
        init?(name: String) {
            guard let base = Base(rawValue: name) else { return nil }
            self.base = base
        }
    }

    /// The request the client sends (and resends) for this message.
    public let request: ClientRequest.Send
    /// Where the message stands.
    public internal(set) var state: State
    /// The stored message, once ``State/sent``.
    public internal(set) var message: Message?
    /// Why the server refused the message, once ``State/failed``: its error code and reason.
    public internal(set) var failureCode: ChatError.Code?
    /// The server's reason for the refusal, for developers.
    public internal(set) var failureReason: String?
    /// The server's error code as it was sent, once ``State/failed`` by the server's refusal: also a code this
    /// version does not know (a newer server's), which ``failureCode`` reads as
    /// ``ChatKitCore/ChatError/Code/storageFailure``.
    public internal(set) var failureServerCode: String?

    /// The message's idempotency key, which also identifies it in the outbox.
    public var id: ClientMessageID { request.clientMessageID }
    /// The message's idempotency key.
    public var clientMessageID: ClientMessageID { request.clientMessageID }
    /// The conversation it is posted to.
    public var conversationID: ConversationID { request.conversationID }
    /// The text.
    public var body: String { request.body }

    init(request: ClientRequest.Send) {
        self.request = request
        self.state = .pending
    }

    /// Creates an outgoing message in any state: for an ``OutboxStorage`` that keeps messages in its own form, and
    /// for tests. ``ChatClient`` makes its own.
    ///
    /// - Parameters:
    ///   - request: The send request.
    ///   - state: Where it stands.
    ///   - message: The stored message, for ``State/sent``.
    ///   - failureCode: The server's error code, for ``State/failed``.
    ///   - failureReason: The server's reason, for ``State/failed``.
    ///   - failureServerCode: The server's error code as sent, for ``State/failed``.
    public init(
        request: ClientRequest.Send,
        state: State,
        message: Message? = nil,
        failureCode: ChatError.Code? = nil,
        failureReason: String? = nil,
        failureServerCode: String? = nil
    ) {
        self.request = request
        self.state = state
        self.message = message
        self.failureCode = failureCode
        self.failureReason = failureReason
        self.failureServerCode = failureServerCode
    }
}

/// An outgoing message encodes as its request, its state and its failure (and the stored message, once sent), so
/// that an ``OutboxStorage`` can keep it. A failure code this version does not know decodes as `nil` (the reason
/// stays).
extension OutgoingMessage: Codable {
    private enum CodingKeys: String, CodingKey {
        case request, state, message, failureCode, failureReason, failureServerCode
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        request = try container.decode(ClientRequest.Send.self, forKey: .request)
        let stateName = try container.decode(String.self, forKey: .state)
        guard let state = State(name: stateName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .state, in: container,
                debugDescription: "Unknown outgoing message state \"\(stateName)\" (pending, sent, failed or discarded)."
            )
        }
        self.state = state
        message = try container.decodeIfPresent(Message.self, forKey: .message)
        let code = try container.decodeIfPresent(String.self, forKey: .failureCode)
        failureCode = code.flatMap { ChatError.Code(wireValue: $0) }
        failureReason = try container.decodeIfPresent(String.self, forKey: .failureReason)
        failureServerCode = try container.decodeIfPresent(String.self, forKey: .failureServerCode)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(request, forKey: .request)
        try container.encode(state.description, forKey: .state)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(failureCode?.description, forKey: .failureCode)
        try container.encodeIfPresent(failureReason, forKey: .failureReason)
        try container.encodeIfPresent(failureServerCode, forKey: .failureServerCode)
    }
}
