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

extension ClientRequest {
    /// Opens a session: the protocol versions the client speaks, its token, and where to resume.
    public struct Hello: Sendable, Hashable, Codable {
        /// Protocol versions the client speaks; the server picks the highest it also speaks.
        public var versions: [Int]
        /// The bearer token (an access token from login, or the embedding app's own token).
        public var token: String
        /// The position of the last event the client processed. When set, the server first sends every event
        /// since (``ServerFrame/event(_:)`` frames, then ``ServerFrame/synced(_:)``), then live events.
        public var cursor: StreamPosition?

        /// Creates a hello.
        public init(versions: [Int] = [WireProtocol.version], token: String, cursor: StreamPosition? = nil) {
            self.versions = versions
            self.token = token
            self.cursor = cursor
        }
    }

    /// Posts a message; the sender is the session's user.
    public struct Send: Sendable, Hashable, Codable {
        /// Where to post.
        public var conversationID: ConversationID
        /// The idempotency key: resending with the same key returns the first result.
        public var clientMessageID: ClientMessageID
        /// The text.
        public var body: String
        /// The message replied to.
        public var replyTo: MessageID?
        /// Mentioned users.
        public var mentions: [UserID]?
        /// Attachment metadata.
        public var attachments: [Attachment]?

        /// Creates a send request.
        public init(
            conversationID: ConversationID,
            clientMessageID: ClientMessageID,
            body: String,
            replyTo: MessageID? = nil,
            mentions: [UserID]? = nil,
            attachments: [Attachment]? = nil
        ) {
            self.conversationID = conversationID
            self.clientMessageID = clientMessageID
            self.body = body
            self.replyTo = replyTo
            self.mentions = mentions
            self.attachments = attachments
        }
    }

    /// Replaces a message's body.
    public struct Edit: Sendable, Hashable, Codable {
        /// The message.
        public var messageID: MessageID
        /// The new text.
        public var body: String
        /// Creates an edit request.
        public init(messageID: MessageID, body: String) {
            self.messageID = messageID
            self.body = body
        }
    }

    /// Names a message.
    public struct MessageReference: Sendable, Hashable, Codable {
        /// The message.
        public var messageID: MessageID
        /// Creates a reference.
        public init(messageID: MessageID) { self.messageID = messageID }
    }

    /// Adds or removes a reaction.
    public struct ReactionChange: Sendable, Hashable, Codable {
        /// The message.
        public var messageID: MessageID
        /// The emoji.
        public var emoji: String
        /// Creates a reaction change.
        public init(messageID: MessageID, emoji: String) {
            self.messageID = messageID
            self.emoji = emoji
        }
    }

    /// Moves a marker.
    public struct MarkerMove: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// Every message up to this seq.
        public var seq: Int64
        /// Creates a marker move.
        public init(conversationID: ConversationID, seq: Int64) {
            self.conversationID = conversationID
            self.seq = seq
        }
    }

    /// Starts or stops a typing indicator.
    public struct Typing: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// Whether the user is typing; typing also stops by itself after a few seconds without a refresh.
        public var isTyping: Bool
        /// Creates a typing request.
        public init(conversationID: ConversationID, isTyping: Bool = true) {
            self.conversationID = conversationID
            self.isTyping = isTyping
        }
    }

    /// Creates a conversation; the creator is the session's user.
    public struct CreateConversation: Sendable, Hashable, Codable {
        /// Direct, group or channel.
        public var kind: ConversationKind
        /// The title (groups and channels).
        public var title: String?
        /// The other members.
        public var memberIDs: [UserID]
        /// The idempotency key (see ``NewConversation/creationKey``): a request made again with the same key
        /// answers the conversation the first one created.
        public var creationKey: String?
        /// Creates a create request.
        public init(
            kind: ConversationKind, title: String? = nil, memberIDs: [UserID] = [], creationKey: String? = nil
        ) {
            self.kind = kind
            self.title = title
            self.memberIDs = memberIDs
            self.creationKey = creationKey
        }
    }

    /// Adds members.
    public struct AddMembers: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// The users to add.
        public var userIDs: [UserID]
        /// Their role; `member` when absent.
        public var role: MemberRole?
        /// Creates an add request.
        public init(conversationID: ConversationID, userIDs: [UserID], role: MemberRole? = nil) {
            self.conversationID = conversationID
            self.userIDs = userIDs
            self.role = role
        }
    }

    /// Names a conversation.
    public struct ConversationReference: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// Creates a reference.
        public init(conversationID: ConversationID) { self.conversationID = conversationID }
    }

    /// Names a member of a conversation.
    public struct MemberReference: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// The member.
        public var userID: UserID
        /// Creates a reference.
        public init(conversationID: ConversationID, userID: UserID) {
            self.conversationID = conversationID
            self.userID = userID
        }
    }

    /// Changes a member's role.
    public struct SetRole: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// The member.
        public var userID: UserID
        /// The new role.
        public var role: MemberRole
        /// Creates a role change.
        public init(conversationID: ConversationID, userID: UserID, role: MemberRole) {
            self.conversationID = conversationID
            self.userID = userID
            self.role = role
        }
    }

    /// Renames a conversation.
    public struct Rename: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// The new title.
        public var title: String
        /// Creates a rename request.
        public init(conversationID: ConversationID, title: String) {
            self.conversationID = conversationID
            self.title = title
        }
    }

    /// Reads a page of history: the newest messages, or those `before` or `after` a seq.
    public struct History: Sendable, Hashable, Codable {
        /// The conversation.
        public var conversationID: ConversationID
        /// Messages below this seq (scrolling back).
        public var before: Int64?
        /// Messages above this seq (catching up). Ignored when `before` is set.
        public var after: Int64?
        /// At most this many; the server's default page size when absent.
        public var limit: Int?
        /// Creates a history request.
        public init(conversationID: ConversationID, before: Int64? = nil, after: Int64? = nil, limit: Int? = nil) {
            self.conversationID = conversationID
            self.before = before
            self.after = after
            self.limit = limit
        }

        /// The store query this request asks for, with `defaultLimit` when no limit was given.
        public func query(defaultLimit: Int) -> HistoryQuery {
            let limit = limit ?? defaultLimit
            if let before { return .before(before, limit: limit) }
            if let after { return .after(after, limit: limit) }
            return .latest(limit: limit)
        }
    }

    /// Lists the caller's conversations, most recently active first, a page at a time.
    public struct ListConversations: Sendable, Hashable, Codable {
        /// Conversations last active before this position: the ``ConversationSummary/activity`` of the previous
        /// page's last summary. The most recent ones when absent.
        public var before: StreamPosition?
        /// At most this many; the server's page size (``ServerLimits/maxPageSize``) when absent.
        public var limit: Int?
        /// Creates a list request.
        public init(before: StreamPosition? = nil, limit: Int? = nil) {
            self.before = before
            self.limit = limit
        }
    }

    /// Reads the caller's events after a cursor.
    public struct Sync: Sendable, Hashable, Codable {
        /// The position of the last event already processed.
        public var cursor: StreamPosition
        /// At most this many events; the server's default when absent.
        public var limit: Int?
        /// Creates a sync request.
        public init(cursor: StreamPosition, limit: Int? = nil) {
            self.cursor = cursor
            self.limit = limit
        }
    }

    /// Searches messages.
    public struct Search: Sendable, Hashable, Codable {
        /// The words to find.
        public var query: String
        /// Restricts the search to one conversation.
        public var conversationID: ConversationID?
        /// At most this many hits.
        public var limit: Int?
        /// Creates a search request.
        public init(query: String, conversationID: ConversationID? = nil, limit: Int? = nil) {
            self.query = query
            self.conversationID = conversationID
            self.limit = limit
        }
    }

    /// Names a user.
    public struct UserReference: Sendable, Hashable, Codable {
        /// The user.
        public var userID: UserID
        /// Creates a reference.
        public init(userID: UserID) { self.userID = userID }
    }

    /// Reads profiles.
    public struct Profiles: Sendable, Hashable, Codable {
        /// The users; the caller's own profile when empty.
        public var userIDs: [UserID]
        /// Creates a profiles request.
        public init(userIDs: [UserID] = []) { self.userIDs = userIDs }
    }

    /// Finds a user by username.
    public struct FindUser: Sendable, Hashable, Codable {
        /// The username, matched as usernames are stored: case-insensitively.
        public var username: String
        /// Creates a find-user request.
        public init(username: String) { self.username = username }
    }

    /// A payload without fields.
    public struct Empty: Sendable, Hashable, Codable {
        /// Creates an empty payload.
        public init() {}
    }
}
