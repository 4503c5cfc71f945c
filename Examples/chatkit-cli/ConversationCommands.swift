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

import ArgumentParser
import ChatKitClient
import ChatKitCore
import Foundation

struct Conversations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conversations", abstract: "List your conversations with their unread counts."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let lines = try await LoggedInClient(options: options).withClient { client, login in
            let summaries = try await client.conversations()
            let names = try await UserNames(client: client)
            var lines: [String] = []
            for summary in summaries {
                let title = try await names.title(of: summary.conversation, me: UserID(rawValue: login.userID))
                let unread = summary.unreadCount > 0 ? "  (\(unreadText(summary)) unread)" : ""
                let last = summary.lastMessage.map { "  \(Transcript.preview($0.body))" } ?? ""
                lines.append("\(title)\(unread)\(last)  [\(summary.conversation.id.rawValue)]")
            }
            return lines
        }
        print(
            lines.isEmpty
                ? "No conversations yet: 'chatkit-cli send USERNAME TEXT' starts one." : lines.joined(separator: "\n")
        )
    }
}

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a message to a user (their direct chat) or to a conversation ID.",
        discussion: """
            Words after the recipient that start with '-' are read as options (-h as the help): send such a \
            message with --message, as in: chatkit-cli send alice --message "-1 from me"
            """
    )

    @OptionGroup var options: GlobalOptions
    @Argument(help: "A username or a conversation ID.") var to: String
    @Option(parsing: .unconditional, help: "The message, taken whole, whatever it starts with.") var message: String?
    @Argument(parsing: .remaining, help: "The message (its words).") var words: [String] = []

    func run() async throws {
        if message != nil && !words.isEmpty {
            throw ValidationError("Give the message either with --message or as words after the recipient, not both.")
        }
        let text = message ?? words.joined(separator: " ")
        guard !text.isEmpty else { throw ValidationError("Give the message after the recipient.") }
        let sending = SendProgress()
        let message: Message
        do {
            message = try await LoggedInClient(options: options).withClient { client, _ in
                let conversation = try await client.conversation(named: to)
                await sending.start()
                return try await client.send(text, to: conversation.id)
            }
        } catch let error as ChatError where error.code == .unavailable {
            // Lost with the connection once sent: stored or not, nobody can tell, and this command keeps no outbox
            // that would send it later (what the client's error says).
            guard await sending.hasStarted else { throw error }
            throw ChatError(
                .unavailable,
                "The connection was lost before the server answered: the message may or may not have been stored. "
                    + "Check with 'chatkit-cli history \(to)' before sending it again."
            )
        }
        print("Sent (#\(message.seq)).")
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the latest messages of a conversation.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "A username or a conversation ID.") var conversation: String
    @Option(help: "How many messages.") var limit = 20

    func run() async throws {
        let lines = try await LoggedInClient(options: options).withClient { client, _ in
            let found = try await client.conversation(named: conversation)
            let messages = try await client.history(of: found.id, limit: limit)
            let names = try await UserNames(client: client)
            var lines: [String] = []
            for message in messages { lines.append(try await Transcript.line(for: message, names: names)) }
            if let last = messages.last { _ = try await client.markRead(found.id, upTo: last.seq) }
            return lines
        }
        print(lines.isEmpty ? "No messages yet." : lines.joined(separator: "\n"))
    }
}

/// Whether `send` has sent its message (a failure before it is no doubt about the message).
private actor SendProgress {
    private(set) var hasStarted = false

    func start() { hasStarted = true }
}

/// A summary's unread count as the CLI prints it: "1000+" at the count's limit, where counting stops.
func unreadText(_ summary: ConversationSummary) -> String {
    summary.unreadCount >= ConversationSummary.unreadCountLimit ? "\(summary.unreadCount)+" : "\(summary.unreadCount)"
}
