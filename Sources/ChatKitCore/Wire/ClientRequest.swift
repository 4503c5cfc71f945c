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

/// A request a client sends over the wire. Each is answered by a ``ServerFrame/result(id:_:)`` or an
/// ``ServerFrame/error(_:)`` carrying the request's ID.
///
/// On the wire a request is one flat JSON object: `type` names the request, `id` is the client's request ID,
/// and the payload's fields sit beside them, as in `{"type":"send","id":"7","conversationID":"c1",
/// "clientMessageID":"k1","body":"Hi"}`. `Documentation/Protocol.md` lists every request with an example.
public enum ClientRequest: Sendable, Hashable {
    /// Opens a session; must be the first frame.
    case hello(Hello)
    /// Posts a message.
    case send(Send)
    /// Replaces a message's body.
    case edit(Edit)
    /// Deletes a message.
    case delete(MessageReference)
    /// Adds a reaction.
    case react(ReactionChange)
    /// Removes a reaction.
    case unreact(ReactionChange)
    /// Moves the caller's delivered marker.
    case markDelivered(MarkerMove)
    /// Moves the caller's read marker.
    case markRead(MarkerMove)
    /// Says the caller is (or stopped) typing.
    case typing(Typing)
    /// Creates a direct conversation, group or channel.
    case createConversation(CreateConversation)
    /// Adds members to a group or channel.
    case addMembers(AddMembers)
    /// Joins a channel.
    case join(ConversationReference)
    /// Leaves a group or channel.
    case leave(ConversationReference)
    /// Removes a member.
    case removeMember(MemberReference)
    /// Changes a member's role.
    case setRole(SetRole)
    /// Renames a group or channel.
    case rename(Rename)
    /// Reads a conversation's details.
    case conversation(ConversationReference)
    /// Lists a conversation's members.
    case members(ConversationReference)
    /// Lists a conversation's markers.
    case markers(ConversationReference)
    /// Lists the caller's conversations, a page at a time.
    case listConversations(ListConversations)
    /// Reads a page of history.
    case history(History)
    /// Reads the caller's events after a cursor.
    case sync(Sync)
    /// Searches messages.
    case search(Search)
    /// Asks a user to become a contact.
    case requestContact(UserReference)
    /// Accepts a contact request.
    case acceptContact(UserReference)
    /// Declines a contact request.
    case declineContact(UserReference)
    /// Removes a contact.
    case removeContact(UserReference)
    /// Lists the caller's contacts.
    case listContacts(Empty)
    /// Reads profiles.
    case profiles(Profiles)
    /// Finds a user by username, to start a conversation or ask for contact.
    case findUser(FindUser)
    /// Changes the caller's profile (display name, status text).
    case updateProfile(ProfileUpdate)
    /// Checks the session is alive; answered with an empty result.
    case ping(Empty)

    /// The `type` string of this request on the wire.
    public var type: String {
        switch self {
        case .hello: "hello"
        case .send: "send"
        case .edit: "edit"
        case .delete: "delete"
        case .react: "react"
        case .unreact: "unreact"
        case .markDelivered: "markDelivered"
        case .markRead: "markRead"
        case .typing: "typing"
        case .createConversation: "createConversation"
        case .addMembers: "addMembers"
        case .join: "join"
        case .leave: "leave"
        case .removeMember: "removeMember"
        case .setRole: "setRole"
        case .rename: "rename"
        case .conversation: "conversation"
        case .members: "members"
        case .markers: "markers"
        case .listConversations: "listConversations"
        case .history: "history"
        case .sync: "sync"
        case .search: "search"
        case .requestContact: "requestContact"
        case .acceptContact: "acceptContact"
        case .declineContact: "declineContact"
        case .removeContact: "removeContact"
        case .listContacts: "listContacts"
        case .profiles: "profiles"
        case .findUser: "findUser"
        case .updateProfile: "updateProfile"
        case .ping: "ping"
        }
    }

    /// The payload, for encoding.
    var payload: any Encodable & Sendable {
        switch self {
        case .hello(let value): value
        case .send(let value): value
        case .edit(let value): value
        case .delete(let value): value
        case .react(let value), .unreact(let value): value
        case .markDelivered(let value), .markRead(let value): value
        case .typing(let value): value
        case .createConversation(let value): value
        case .addMembers(let value): value
        case .join(let value), .leave(let value), .conversation(let value), .members(let value),
            .markers(let value):
            value
        case .removeMember(let value): value
        case .setRole(let value): value
        case .rename(let value): value
        case .history(let value): value
        case .sync(let value): value
        case .search(let value): value
        case .requestContact(let value), .acceptContact(let value), .declineContact(let value),
            .removeContact(let value):
            value
        case .profiles(let value): value
        case .findUser(let value): value
        case .updateProfile(let value): value
        case .listConversations(let value): value
        case .listContacts(let value), .ping(let value): value
        }
    }

    /// Decodes the payload of the request named `type` from `decoder`.
    static func decode(type: String, from decoder: any Decoder) throws -> ClientRequest? {
        switch type {
        case "hello": .hello(try Hello(from: decoder))
        case "send": .send(try Send(from: decoder))
        case "edit": .edit(try Edit(from: decoder))
        case "delete": .delete(try MessageReference(from: decoder))
        case "react": .react(try ReactionChange(from: decoder))
        case "unreact": .unreact(try ReactionChange(from: decoder))
        case "markDelivered": .markDelivered(try MarkerMove(from: decoder))
        case "markRead": .markRead(try MarkerMove(from: decoder))
        case "typing": .typing(try Typing(from: decoder))
        case "createConversation": .createConversation(try CreateConversation(from: decoder))
        case "addMembers": .addMembers(try AddMembers(from: decoder))
        case "join": .join(try ConversationReference(from: decoder))
        case "leave": .leave(try ConversationReference(from: decoder))
        case "removeMember": .removeMember(try MemberReference(from: decoder))
        case "setRole": .setRole(try SetRole(from: decoder))
        case "rename": .rename(try Rename(from: decoder))
        case "conversation": .conversation(try ConversationReference(from: decoder))
        case "members": .members(try ConversationReference(from: decoder))
        case "markers": .markers(try ConversationReference(from: decoder))
        case "listConversations": .listConversations(try ListConversations(from: decoder))
        case "history": .history(try History(from: decoder))
        case "sync": .sync(try Sync(from: decoder))
        case "search": .search(try Search(from: decoder))
        case "requestContact": .requestContact(try UserReference(from: decoder))
        case "acceptContact": .acceptContact(try UserReference(from: decoder))
        case "declineContact": .declineContact(try UserReference(from: decoder))
        case "removeContact": .removeContact(try UserReference(from: decoder))
        case "listContacts": .listContacts(Empty())
        case "profiles": .profiles(try Profiles(from: decoder))
        case "findUser": .findUser(try FindUser(from: decoder))
        case "updateProfile": .updateProfile(try ProfileUpdate(from: decoder))
        case "ping": .ping(Empty())
        default: nil
        }
    }
}
