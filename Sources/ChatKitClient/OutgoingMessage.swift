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
            case pending, sent, failed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Queued or on the wire; the client sends it (again) whenever it is connected.
        public static let pending = State(.pending)
        /// The server stored it; ``OutgoingMessage/message`` holds the stored message. A sent message leaves the
        /// outbox.
        public static let sent = State(.sent)
        /// The server refused it for good (for example `forbidden`, `notFound` or `invalidArgument`);
        /// ``OutgoingMessage/failure`` says why. It stays in the outbox until retried or discarded.
        public static let failed = State(.failed)

        public var description: String { base.rawValue }
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
}
