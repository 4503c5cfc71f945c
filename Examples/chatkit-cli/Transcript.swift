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

import ChatKitClient
import ChatKitCore
import Foundation

/// Usernames by user ID, looked up once each.
actor UserNames {
    private let client: ChatClient
    private var known: [UserID: String] = [:]

    init(client: ChatClient) async throws {
        self.client = client
    }

    func name(of user: UserID) async throws -> String {
        if let name = known[user] { return name }
        let profile = try await retryingRateLimits { try await client.profiles([user]).first }
        let name = TerminalText.inline(profile?.username ?? user.rawValue)
        known[user] = name
        return name
    }

    /// The user's name, or their ID when the name cannot be looked up (disconnected, refused): what is shown with
    /// it (a message, above all) is shown all the same.
    ///
    /// - Throws: `CancellationError` only.
    func nameOrID(of user: UserID) async throws -> String {
        do {
            return try await name(of: user)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return TerminalText.inline(user.rawValue)
        }
    }

    /// A conversation's title, or for a direct chat the other person's name.
    func title(of conversation: Conversation, me: UserID) async throws -> String {
        if let title = conversation.title, !title.isEmpty { return "#\(TerminalText.inline(title))" }
        let members = try await retryingRateLimits { try await client.members(of: conversation.id) }
        let others = members.map(\.userID).filter { $0 != me }
        var names: [String] = []
        for other in others { names.append(try await nameOrID(of: other)) }
        return names.isEmpty ? "(just you)" : names.joined(separator: ", ")
    }
}

/// How messages are printed.
enum Transcript {
    private static let time: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm"
        return formatter
    }()

    /// The message as printed; the sender's ID stands for their name when it cannot be looked up.
    ///
    /// - Throws: `CancellationError` only.
    static func line(for message: Message, names: UserNames) async throws -> String {
        let sender = try await names.nameOrID(of: message.senderID)
        let body = message.deletedAt == nil ? TerminalText.block(message.body) : "(deleted)"
        let edited = message.editedAt != nil && message.deletedAt == nil ? " (edited)" : ""
        return "\(time.string(from: message.createdAt)) \(sender): \(body)\(edited)"
    }

    /// The first line of a body, cut to 40 characters.
    static func preview(_ body: String) -> String {
        let line = body.split(maxSplits: 1, whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return TerminalText.inline(line.count > 40 ? String(line.prefix(39)) + "…" : line)
    }
}
