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

/// The interactive session: live messages, presence and typing, and a line editor that sends.
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat live: messages, presence and typing as they happen.",
        discussion: """
            Type a message and press Enter to send it to the open conversation. Commands: /list, /open USER-OR-ID, \
            /group TITLE USER..., /history, /failed, /retry N|all, /discard N|all, /help, /quit (or end of input).
            """
    )

    @OptionGroup var options: GlobalOptions
    @Argument(help: "A username or conversation ID to open at start.") var conversation: String?

    func run() async throws {
        let target = conversation
        try await LoggedInClient(options: options).withClient(reconnecting: true) { client, login in
            let me = UserID(rawValue: login.userID)
            let session = ChatSession(client: client, me: me, names: try await UserNames(client: client))
            say("Connected as \(login.username). Type a message and press Enter; /help lists commands.")
            await session.mentionFailedLines()
            if let target { try await session.open(target) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await session.printEvents() }
                group.addTask { await session.printConnectionChanges() }
                group.addTask { await session.printRefusals() }
                group.addTask { await session.readMarkers.run() }
                for await line in StandardInput.lines() {
                    guard try await session.handle(line) else { break }
                }
                await session.letOutboxDrain()
                await session.readMarkers.flush(within: .seconds(5))
                group.cancelAll()
            }
            say("Bye.")
        }
    }
}

/// What the interactive session knows: the open conversation, and how to show what arrives.
actor ChatSession {
    private let client: ChatClient
    private let me: UserID
    private let names: UserNames
    /// Moves this user's read markers as messages are shown.
    let readMarkers: ReadMarkers
    /// The conversation lines are sent to, set once its history is shown.
    private var open: Conversation?
    /// The conversation being opened (its history loading), and the messages of it that arrived meanwhile, with
    /// their lines: printed after the history, those it did not show.
    private var opening: ConversationID?
    private var arrivedWhileOpening: [(message: Message, line: String)] = []
    /// The highest seq shown of each conversation opened: a message at or below it is not printed again (a live
    /// message that the history showed too).
    private var shownThrough: [ConversationID: Int64] = [:]
    /// Conversations' titles by ID, as shown: a message of another conversation than the open one is printed with
    /// its conversation's title, which took two or three requests a message. A rename or a change of members
    /// drops the conversation's title.
    private var titles: [ConversationID: String] = [:]
    /// The failed lines as the last `/failed` numbered them: `/retry N` and `/discard N` mean these, whatever
    /// changed in the outbox since.
    private var listedFailures: [OutgoingMessage] = []
    /// Whether each user was last shown online: the server tells a user's presence again as new relations make it
    /// known (a group, a direct conversation), and the chat printed "is online" each time. Forgotten when the
    /// connection drops: a new session is told only who is online, so one who went offline meanwhile is not told.
    private var shownOnline: [UserID: Bool] = [:]
    /// The outbox's changes from the session's start, before its first request, for ``printRefusals()``: the lines
    /// of an earlier chat are sent as the session opens, and a refusal while the first conversation opened was
    /// told nowhere (``mentionFailedLines()`` had counted the failed lines already).
    private let outboxUpdates: AsyncStream<OutgoingMessage>

    init(client: ChatClient, me: UserID, names: UserNames) {
        self.client = client
        self.me = me
        self.names = names
        readMarkers = ReadMarkers(client: client)
        outboxUpdates = client.outboxUpdates()
    }

    /// Handles one typed line; `false` ends the session.
    func handle(_ line: String) async throws -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return true }
        do {
            if trimmed.hasPrefix("/") { return try await command(trimmed) }
            guard let open else {
                say("! Open a conversation first: /open USERNAME, or /list.")
                return true
            }
            // Into the outbox, and on to the next line at once: while the connection is down, what is typed waits
            // there (saved, and sent by the next `chat` if this one quits first), in the order typed. The stored
            // message is printed when its event arrives; a refusal by `printRefusals()`.
            try client.queue(trimmed, to: open.id)
        } catch let error as ChatError {
            say("! \(TerminalText.inline(error.reason ?? "\(error.code)"))")
        } catch let error as ValidationError {
            say("! \(error.message)")
        }
        return true
    }

    private func command(_ line: String) async throws -> Bool {
        let words = line.split(separator: " ").map(String.init)
        switch words[0] {
        case "/quit", "/exit":
            return false
        case "/list":
            for summary in try await client.conversations() {
                let unread = summary.unreadCount > 0 ? " (\(unreadText(summary)) unread)" : ""
                say("  \(try await title(of: summary.conversation))\(unread)  [\(summary.conversation.id.rawValue)]")
            }
        case "/open" where words.count == 2:
            try await open(words[1])
        case "/group" where words.count >= 3:
            var members: [UserID] = []
            for username in words.dropFirst(2) {
                guard let user = try await client.findUser(username: username) else {
                    say("! Nobody is called \(username).")
                    return true
                }
                members.append(user.id)
            }
            let group = try await client.createGroup(words[1], members: members)
            try await open(group.id.rawValue)
        case "/history":
            guard let open else {
                say("! Open a conversation first.")
                return true
            }
            try await showHistory(of: open)
        case "/failed":
            listedFailures = failedLines()
            if listedFailures.isEmpty { say("No failed lines.") }
            for (number, line) in listedFailures.enumerated() { say("  \(number + 1). \(describe(line))") }
        case "/retry" where words.count == 2, "/discard" where words.count == 2:
            guard let chosen = chooseFailedLines(words[1]) else { return true }
            let retries = words[0] == "/retry"
            // Each on its own: a line that is no longer failed (retried or discarded since) is skipped.
            var done = 0
            for line in chosen {
                do {
                    if retries {
                        try client.retry(line.clientMessageID)
                    } else {
                        try client.discard(line.clientMessageID)
                    }
                    done += 1
                } catch {}
            }
            let skipped = chosen.count - done
            let note = skipped > 0 ? " (\(skipped) no longer failed)" : ""
            say(retries ? "Queued again: \(done) line(s).\(note)" : "Discarded: \(done) line(s).\(note)")
        default:
            say(
                "Commands: /list, /open USER-OR-ID, /group TITLE USER..., /history, /failed, /retry N|all, "
                    + "/discard N|all, /quit. Anything else is sent."
            )
        }
        return true
    }

    /// The lines the server refused for good, oldest first: they stay in the outbox (and its file) until retried or
    /// discarded.
    private func failedLines() -> [OutgoingMessage] {
        client.outbox.filter { $0.state == .failed }
    }

    /// `N` (as the last `/failed` numbered them) or `all` (every failed line now); `nil`, having said why, for
    /// anything else.
    private func chooseFailedLines(_ choice: String) -> [OutgoingMessage]? {
        if choice == "all" { return failedLines() }
        guard let number = Int(choice), number >= 1, number <= listedFailures.count else {
            say("! No failed line \(TerminalText.inline(choice)) in the last /failed list: /failed lists them again.")
            return nil
        }
        return [listedFailures[number - 1]]
    }

    private func describe(_ line: OutgoingMessage) -> String {
        let reason = line.failureReason.map(TerminalText.inline) ?? line.failureCode.map { "\($0)" } ?? "refused"
        return "\(Transcript.preview(line.body)) (\(reason))"
    }

    /// At the start: says that lines refused in an earlier chat still wait in the outbox.
    func mentionFailedLines() {
        let count = failedLines().count
        guard count > 0 else { return }
        say("! \(count) line(s) were refused earlier and wait in the outbox: /failed lists them; /retry or /discard.")
    }

    /// Opens a conversation by username or ID and shows its latest messages.
    ///
    /// Its messages that arrive while the title and the history load (the actor takes events meanwhile) are held,
    /// then printed after the history unless it showed them: they were printed before the title, and again in
    /// the history.
    func open(_ target: String) async throws {
        let conversation = try await client.conversation(named: target)
        opening = conversation.id
        arrivedWhileOpening = []
        let lines: (title: String, history: [String], last: Int64?)
        do {
            let title = try await title(of: conversation)
            let (history, last) = try await historyLines(of: conversation)
            lines = (title, history, last)
        } catch {
            // Not opened: what arrived meanwhile is shown as the conversation's live messages are, whether it is the
            // open one (opened again) or another.
            if opening == conversation.id { opening = nil }
            let held = arrivedWhileOpening
            arrivedWhileOpening = []
            if open?.id == conversation.id {
                for (message, line) in held { _ = showInOpenConversation(message, line) }
            } else {
                let title = titles[conversation.id] ?? TerminalText.inline(conversation.id.rawValue)
                for (message, line) in held where message.senderID != me { say("[\(title)] \(line)") }
            }
            throw error
        }
        // From here to the end nothing is awaited: no event is printed among these lines.
        open = conversation
        opening = nil
        say("== \(lines.title) ==")
        for line in lines.history { say(line) }
        if let last = lines.last { shownThrough[conversation.id] = max(shownThrough[conversation.id] ?? 0, last) }
        let held = arrivedWhileOpening
        arrivedWhileOpening = []
        var read = lines.last
        for (message, line) in held {
            if showInOpenConversation(message, line), message.senderID != me { read = max(read ?? 0, message.seq) }
        }
        if let read { await readMarkers.markRead(conversation.id, upTo: read) }
    }

    private func showHistory(of conversation: Conversation) async throws {
        let (history, last) = try await historyLines(of: conversation)
        for line in history { say(line) }
        if let last {
            shownThrough[conversation.id] = max(shownThrough[conversation.id] ?? 0, last)
            await readMarkers.markRead(conversation.id, upTo: last)
        }
    }

    /// The latest messages' lines, and the last one's seq.
    private func historyLines(of conversation: Conversation) async throws -> (lines: [String], last: Int64?) {
        let messages = try await client.history(of: conversation.id, limit: 10)
        var lines: [String] = []
        for message in messages { lines.append(try await Transcript.line(for: message, names: names)) }
        return (lines, messages.last?.seq)
    }

    /// Prints a message of the open conversation unless it was shown already; whether it printed it.
    private func showInOpenConversation(_ message: Message, _ line: String) -> Bool {
        let conversation = message.conversationID
        guard message.seq > shownThrough[conversation] ?? 0 else { return false }
        shownThrough[conversation] = message.seq
        say(line)
        return true
    }

    /// The conversation's title, or its ID when it cannot be looked up (disconnected, refused).
    ///
    /// - Throws: `CancellationError` only.
    private func title(of conversation: Conversation) async throws -> String {
        if let known = titles[conversation.id] { return known }
        do {
            let title = try await names.title(of: conversation, me: me)
            titles[conversation.id] = title
            return title
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return TerminalText.inline(conversation.id.rawValue)
        }
    }

    /// The title of the conversation with this ID, fetching the conversation only when its title is not known; its
    /// ID when it cannot be looked up.
    ///
    /// - Throws: `CancellationError` only.
    private func title(ofConversationWith id: ConversationID) async throws -> String {
        if let known = titles[id] { return known }
        let conversation: Conversation
        do {
            conversation = try await retryingRateLimits { try await client.conversation(id) }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return TerminalText.inline(id.rawValue)
        }
        return try await title(of: conversation)
    }

    /// Before quitting: while connected, waits a few seconds for the lines typed to be stored; then says how many
    /// still wait in the outbox (the next `chat` sends them).
    func letOutboxDrain() async {
        let client = client
        @Sendable func waiting() -> Int { client.outbox.filter { $0.state == .pending }.count }
        // Subscribed before the first look: a change in between is not missed.
        let updates = client.outboxUpdates()
        if client.connectionState == .connected, waiting() > 0 {
            await client.waitWhileConnected(within: .seconds(5)) {
                for await _ in updates where waiting() == 0 { return }
            }
        }
        let left = waiting()
        if left > 0 { say("! \(left) line(s) wait in the outbox; the next chat sends them.") }
    }

    /// Says when the server refuses a typed message for good (the message stays in the outbox as failed).
    func printRefusals() async {
        for await update in outboxUpdates where update.state == .failed {
            say("! Not sent: \(describe(update)) (/failed lists such lines; /retry or /discard them)")
        }
    }

    /// Says when the connection drops and comes back (the client reconnects by itself and catches up).
    func printConnectionChanges() async {
        var wasConnected = true
        for await state in client.connectionStateUpdates() {
            if let delay = state.reconnectDelay {
                let seconds = delay.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))
                let reason = client.lastConnectionError.map { " (\(TerminalText.inline($0.reason ?? "\($0.code)")))" }
                say("! Connection lost\(reason ?? ""); reconnecting in \(seconds).")
                wasConnected = false
                shownOnline.removeAll()
            } else if state == .connected, !wasConnected {
                say("! Reconnected.")
                wasConnected = true
            }
        }
    }

    /// Prints what the server pushes until the client's event stream ends.
    func printEvents() async {
        for await event in client.events {
            do {
                try await show(event)
            } catch is CancellationError {
                return
            } catch {
                say("! \(TerminalText.inline("\(error)"))")
            }
        }
    }

    private func show(_ event: ClientEvent) async throws {
        switch event {
        case .stored(let stored):
            if [.conversationUpdated, .membersAdded, .memberRemoved].contains(stored.kind),
                let conversationID = stored.conversationID
            {
                titles[conversationID] = nil
            }
            guard stored.kind == .messageCreated, let message = stored.message else { return }
            let line = try await Transcript.line(for: message, names: names)
            if message.conversationID == opening {
                arrivedWhileOpening.append((message, line))
            } else if message.conversationID == open?.id {
                if showInOpenConversation(message, line), message.senderID != me {
                    await readMarkers.markRead(message.conversationID, upTo: message.seq)
                }
            } else if message.senderID != me {
                say("[\(try await title(ofConversationWith: message.conversationID))] \(line)")
            }
        case .presence(let update):
            guard update.userID != me, shownOnline[update.userID] != update.isOnline else { return }
            shownOnline[update.userID] = update.isOnline
            say("* \(try await names.nameOrID(of: update.userID)) is \(update.isOnline ? "online" : "offline")")
        case .typing(let update):
            guard update.isTyping, update.userID != me, update.conversationID == open?.id else { return }
            say("* \(try await names.nameOrID(of: update.userID)) is typing…")
        case .goodbye(let goodbye):
            say("! The server closed the session: \(TerminalText.inline(goodbye.message))")
        case .synced:
            return
        case .rewound:
            // The conversations' seqs may be given to new messages again: none of those is taken for shown.
            shownThrough.removeAll()
            say("! The server's history went back (a restored database): messages shown above may be gone.")
        }
    }
}

/// Lines typed on standard input, read on a thread of their own so that the session keeps printing.
enum StandardInput {
    static func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
    }
}

/// Writes a line to standard output at once (unbuffered), also when it is a pipe.
///
/// Not `print` plus `fflush(nil)`: that flush also waits for standard input's lock, which the reading thread holds
/// while it waits for a line.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
