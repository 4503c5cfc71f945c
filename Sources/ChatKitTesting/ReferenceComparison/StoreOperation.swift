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

/// One call of a ``ChatKitCore/ChatStore`` method that a reference comparison makes on both stores, with its
/// arguments as indices into what the comparison created so far (the `n`th user, conversation, message or event),
/// so that each store is called with its own IDs. An index one past the end names something that does not exist.
enum StoreOperation: Sendable, CustomStringConvertible {
    // Users and contacts.
    case createUser(username: String)
    case updateProfile(user: Int, ProfileUpdate)
    case setPassword(user: Int)
    case requestContact(from: Int, to: Int)
    case acceptContact(user: Int, from: Int)
    case declineContact(user: Int, from: Int)
    case removeContact(user: Int, other: Int)
    // Conversations and members.
    case createConversation(kind: ConversationKind, creator: Int, members: [Int], title: String?, creationKey: String?)
    case addMembers([Int], conversation: Int, role: MemberRole, by: Int)
    case joinChannel(conversation: Int, user: Int)
    case removeMember(user: Int, conversation: Int, by: Int)
    case setRole(MemberRole, user: Int, conversation: Int, by: Int)
    case rename(conversation: Int, title: String, by: Int)
    // Messages and markers.
    case append(OperationMessage)
    case appendBatch([OperationMessage])
    case edit(message: Int, body: String, by: Int)
    case delete(message: Int, by: Int)
    case addReaction(String, message: Int, by: Int)
    case removeReaction(String, message: Int, by: Int)
    case markDelivered(conversation: Int, seq: Int64, by: Int)
    case markRead(conversation: Int, seq: Int64, by: Int)
    // Login sessions: IDs and refresh-token hashes are the caller's, the same in both stores.
    case createSession(session: Int, user: Int, lifetime: Int, credentialsVersion: Int64?)
    case rotate(session: Int, from: String, to: String)
    case revokeSession(Int)
    case revokeSessions(of: Int)
    // Reads.
    case user(Int)
    case userNamed(String)
    case users([Int])
    case credentials(user: Int)
    case contacts(of: Int)
    case conversation(Int, as: Int)
    case members(conversation: Int, as: Int)
    case memberIDs(conversation: Int, atEvent: Int?)
    case memberCount(conversation: Int)
    case isMember(user: Int, conversation: Int)
    case conversations(of: Int)
    case conversationPage(of: Int, beforeEvent: Int?, limit: Int)
    case memberships(of: Int)
    case membersSharingPresence(with: Int, maxGroupSize: Int)
    case message(Int, as: Int)
    case history(conversation: Int, HistoryQuery, as: Int)
    case markers(conversation: Int, as: Int)
    case events(for: Int, afterEvent: Int?, limit: Int)
    case allEvents(afterEvent: Int?, limit: Int)
    case latestPosition
    case resumePosition(afterEvent: Int?)
    case search(String, as: Int, conversation: Int?, limit: Int)
    case session(Int)

    /// The login session a call is about, if any (the comparison follows its refresh-token hash).
    var sessionIndex: Int? {
        switch self {
        case .createSession(let session, _, _, _), .rotate(let session, _, _), .revokeSession(let session),
            .session(let session):
            return session
        default:
            return nil
        }
    }

    /// Whether the result is a list in no particular order, or in the order of IDs, which differ between stores:
    /// compared as a sorted list.
    var isUnordered: Bool {
        switch self {
        case .users, .memberships, .membersSharingPresence, .search, .members, .memberIDs, .markers, .contacts,
            .addMembers:
            return true
        default: return false
        }
    }

    var description: String {
        switch self {
        case .append(let message):
            return "append(\(message))"
        case .appendBatch(let messages):
            return "append(contentsOf: [\(messages.map { "(\($0))" }.joined(separator: ", "))])"
        default:
            // The case's name and its arguments, as Swift prints them.
            guard let call = Mirror(reflecting: self).children.first else { return "latestPosition" }
            let arguments = "\(call.value)"
            return (call.label ?? "") + (arguments.hasPrefix("(") ? arguments : "(\(arguments))")
        }
    }
}

/// A message an operation appends, its conversation, sender, reply and mentions as indices.
struct OperationMessage: Sendable, CustomStringConvertible {
    var conversation: Int
    var sender: Int
    var clientMessageID: String
    var body: String
    var replyTo: Int?
    var mentions: [Int]

    var description: String {
        "conversation \(conversation), sender \(sender), clientMessageID \(clientMessageID), "
            + "body \(body.debugDescription)" + (replyTo.map { ", replyTo message \($0)" } ?? "")
            + (mentions.isEmpty ? "" : ", mentions \(mentions)")
    }
}
