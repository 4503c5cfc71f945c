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

public import Foundation

/// A frame the server sends: the answer to a request, or something pushed.
///
/// On the wire each is a flat JSON object with a `type` (`welcome`, `result`, `error`, `event`, `presence`,
/// `typing`, `synced`, `goodbye`). `Documentation/Protocol.md` has an example of each.
public enum ServerFrame: Sendable, Hashable {
    /// The answer to `hello`: the session is open.
    case welcome(Welcome)
    /// The successful answer to the request with ID `id`.
    case result(id: String, RequestResult)
    /// A refused request (``ErrorFrame/id`` set) or a protocol error (no ID).
    case error(ErrorFrame)
    /// A stored event the user may see, live or during catch-up.
    case event(StoredEvent)
    /// A user the client can see came online or went offline.
    case presence(PresenceUpdate)
    /// A user started or stopped typing.
    case typing(TypingUpdate)
    /// Catch-up after `hello` is complete: events from now on are live.
    case synced(Synced)
    /// The server is about to close the connection, and why.
    case goodbye(Goodbye)

    /// The `type` string of this frame on the wire.
    public var type: String {
        switch self {
        case .welcome: "welcome"
        case .result: "result"
        case .error: "error"
        case .event: "event"
        case .presence: "presence"
        case .typing: "typing"
        case .synced: "synced"
        case .goodbye: "goodbye"
        }
    }
}

/// The answer to `hello`.
public struct Welcome: Sendable, Hashable, Codable {
    /// The hello's request ID.
    public var id: String
    /// The protocol version both sides speak from now on.
    public var version: Int
    /// The authenticated user.
    public var user: User
    /// The server's limits.
    public var limits: ServerLimits
    /// The position of the newest stored event when the session opened: a client without a cursor starts here.
    public var position: StreamPosition
    /// Set when the hello's cursor names events the server no longer has (its database was restored from a
    /// backup, or lost its newest commits): the catch-up starts after this position instead, and the client goes on
    /// from it, loading again what it shows. `nil` otherwise.
    public var rewoundTo: StreamPosition?

    /// Creates a welcome.
    public init(
        id: String, version: Int, user: User, limits: ServerLimits, position: StreamPosition,
        rewoundTo: StreamPosition? = nil
    ) {
        self.id = id
        self.version = version
        self.user = user
        self.limits = limits
        self.position = position
        self.rewoundTo = rewoundTo
    }
}

/// The limits a server enforces, announced in ``Welcome`` so clients can stay within them.
public struct ServerLimits: Sendable, Hashable, Codable {
    /// The largest frame the server accepts, in bytes.
    public var maxFrameBytes: Int
    /// The longest message body, in UTF-8 bytes.
    public var maxBodyBytes: Int
    /// The most members a group or channel may have.
    public var maxMembers: Int
    /// The most users one `createConversation` or `addMembers` may name, the creator aside (``maxMembers`` from
    /// servers that do not announce it).
    public var maxMembersPerRequest: Int
    /// The largest page (history, sync, search).
    public var maxPageSize: Int
    /// Requests per second one user may send (a short burst may exceed it).
    public var requestsPerSecond: Int
    /// How long a typing indicator lasts without a refresh, in milliseconds.
    public var typingTimeoutMilliseconds: Int

    /// Creates a limits value; `maxMembersPerRequest` `nil` takes `maxMembers` (what servers that do not announce it
    /// accept).
    public init(
        maxFrameBytes: Int,
        maxBodyBytes: Int,
        maxMembers: Int,
        maxMembersPerRequest: Int? = nil,
        maxPageSize: Int,
        requestsPerSecond: Int,
        typingTimeoutMilliseconds: Int
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxMembers = maxMembers
        self.maxMembersPerRequest = maxMembersPerRequest ?? maxMembers
        self.maxPageSize = maxPageSize
        self.requestsPerSecond = requestsPerSecond
        self.typingTimeoutMilliseconds = typingTimeoutMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case maxFrameBytes, maxBodyBytes, maxMembers, maxMembersPerRequest, maxPageSize, requestsPerSecond
        case typingTimeoutMilliseconds
    }

    /// Decodes the limits, taking ``maxMembers`` for ``maxMembersPerRequest`` when the server did not announce it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let maxMembers = try container.decode(Int.self, forKey: .maxMembers)
        self.init(
            maxFrameBytes: try container.decode(Int.self, forKey: .maxFrameBytes),
            maxBodyBytes: try container.decode(Int.self, forKey: .maxBodyBytes),
            maxMembers: maxMembers,
            maxMembersPerRequest: try container.decodeIfPresent(Int.self, forKey: .maxMembersPerRequest),
            maxPageSize: try container.decode(Int.self, forKey: .maxPageSize),
            requestsPerSecond: try container.decode(Int.self, forKey: .requestsPerSecond),
            typingTimeoutMilliseconds: try container.decode(Int.self, forKey: .typingTimeoutMilliseconds)
        )
    }
}

/// What a successful request returns; exactly the fields its request type documents are set.
public struct RequestResult: Sendable, Hashable, Codable {
    /// `send`, `edit`, `delete`, `react`, `unreact`.
    public var message: Message?
    /// `history`.
    public var messages: [Message]?
    /// `createConversation`, `rename`, `conversation`.
    public var conversation: Conversation?
    /// `listConversations`.
    public var conversations: [ConversationSummary]?
    /// `listConversations`: whether conversations last active before the last of ``conversations`` remain (ask
    /// again with `before` set to its ``ConversationSummary/activity``).
    public var hasMore: Bool?
    /// `members`, `addMembers`, `join`, `setRole` (one element).
    public var members: [Member]?
    /// `markDelivered`, `markRead` (one element), `markers`.
    public var markers: [Marker]?
    /// `requestContact`, `acceptContact` (one element), `listContacts`.
    public var contacts: [Contact]?
    /// `profiles`, `updateProfile` (one element).
    public var users: [User]?
    /// `search`.
    public var hits: [SearchHit]?
    /// `sync`.
    public var page: SyncPage?

    /// Creates a result; set the fields the request type documents.
    public init(
        message: Message? = nil,
        messages: [Message]? = nil,
        conversation: Conversation? = nil,
        conversations: [ConversationSummary]? = nil,
        hasMore: Bool? = nil,
        members: [Member]? = nil,
        markers: [Marker]? = nil,
        contacts: [Contact]? = nil,
        users: [User]? = nil,
        hits: [SearchHit]? = nil,
        page: SyncPage? = nil
    ) {
        self.message = message
        self.messages = messages
        self.conversation = conversation
        self.conversations = conversations
        self.hasMore = hasMore
        self.members = members
        self.markers = markers
        self.contacts = contacts
        self.users = users
        self.hits = hits
        self.page = page
    }

    /// A result without fields (`typing`, `leave`, `removeMember`, `declineContact`, `removeContact`, `ping`).
    public static let empty = RequestResult()
}

/// A refused request or a protocol error.
public struct ErrorFrame: Sendable, Hashable, Codable {
    /// The refused request's ID; `nil` for an error about the connection itself (a frame that could not be read).
    public var id: String?
    /// The stable error code (a ``ChatError/Code`` string, such as `notFound`).
    public var code: String
    /// A sentence for developers.
    public var message: String
    /// For `limitExceeded` by rate: how long to wait before retrying, in milliseconds.
    public var retryAfterMilliseconds: Int?

    /// Creates an error frame.
    public init(id: String?, code: String, message: String, retryAfterMilliseconds: Int? = nil) {
        self.id = id
        self.code = code
        self.message = message
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    /// The frame for a ``ChatError`` answering request `id`; the retry-after hint defaults to the error's
    /// ``ChatError/retryAfter``, rounded up to whole milliseconds.
    public init(id: String?, error: ChatError, retryAfterMilliseconds: Int? = nil) {
        self.init(
            id: id,
            code: error.code.description,
            message: error.reason ?? "The request failed (\(error.code)).",
            retryAfterMilliseconds: retryAfterMilliseconds
                ?? error.retryAfter.map { Int(($0 / .milliseconds(1)).rounded(.up)) }
        )
    }
}

/// Presence of a user.
public struct PresenceUpdate: Sendable, Hashable, Codable {
    /// The user.
    public var userID: UserID
    /// Whether any of their devices is connected.
    public var isOnline: Bool
    /// When they were last seen, once offline (milliseconds since 1970 on the wire).
    public var lastSeenAt: Date?

    /// Creates a presence update.
    public init(userID: UserID, isOnline: Bool, lastSeenAt: Date? = nil) {
        self.userID = userID
        self.isOnline = isOnline
        self.lastSeenAt = lastSeenAt
    }
}

/// A typing indicator.
public struct TypingUpdate: Sendable, Hashable, Codable {
    /// The conversation.
    public var conversationID: ConversationID
    /// Who is typing.
    public var userID: UserID
    /// Whether they are typing now.
    public var isTyping: Bool

    /// Creates a typing update.
    public init(conversationID: ConversationID, userID: UserID, isTyping: Bool) {
        self.conversationID = conversationID
        self.userID = userID
        self.isTyping = isTyping
    }
}

/// Catch-up is complete.
public struct Synced: Sendable, Hashable, Codable {
    /// The position of the last event sent during catch-up (the hello's cursor if there was none).
    public var cursor: StreamPosition
    /// Creates a synced marker.
    public init(cursor: StreamPosition) { self.cursor = cursor }
}

/// Why the server closes the connection.
public struct Goodbye: Sendable, Hashable, Codable {
    /// A stable reason code: `shutdown`, `slowConsumer`, `unauthenticated`, `protocolError`, `idle`, `resync`.
    public var reason: String
    /// A sentence for developers.
    public var message: String
    /// Creates a goodbye.
    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }
}

