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

/// The read markers the chat moves as messages are shown, sent one request at a time: the messages shown while one
/// is under way are marked read together by the next. A burst of incoming messages (a busy group, a catch-up after
/// reconnecting) took a request each, and the server's rate limit refused most of them.
///
/// A marker whose request the connection took down with it is sent again once the client has reconnected, and
/// quitting waits a few seconds for the markers noted (``flush(within:)``): both were dropped, so that messages read
/// here stayed unread on the user's other devices until another message came.
actor ReadMarkers {
    private let client: ChatClient
    /// The highest seq shown in each conversation, not yet sent.
    private var pending: [ConversationID: Int64] = [:]
    /// Whether ``run()`` is sending (or waiting to send again) markers taken from `pending`.
    private var sending = false
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init(client: ChatClient) {
        self.client = client
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Notes that the messages of `conversation` up to `seq` were shown; ``run()`` marks them read.
    func markRead(_ conversation: ConversationID, upTo seq: Int64) {
        pending[conversation] = max(pending[conversation] ?? 0, seq)
        signal.yield()
    }

    /// Sends the noted markers until the task is cancelled.
    func run() async {
        for await _ in signals {
            let due = Array(pending)
            pending = [:]
            sending = true
            await send(due)
            sending = false
        }
    }

    /// Sends `due` (taken from `pending`) one after the other; on a disconnection, notes the rest again and waits
    /// for the client to reconnect.
    private func send(_ due: [(key: ConversationID, value: Int64)]) async {
        for (index, (conversation, seq)) in due.enumerated() {
            do {
                _ = try await client.markRead(conversation, upTo: seq)
            } catch is CancellationError {
                return
            } catch let error as ChatError {
                if let delay = error.retryAfter {
                    // Rate limited all the same (other requests used the allowance): again after the wait.
                    try? await Task.sleep(for: delay)
                    markRead(conversation, upTo: seq)
                } else if error.code == .unavailable {
                    // The connection dropped (the request may or may not have been stored; marking again is
                    // harmless): every marker not sent waits for the next session.
                    for (conversation, seq) in due[index...] { markRead(conversation, upTo: seq) }
                    await waitForReconnection()
                    return
                } else {
                    say("! Could not mark messages read: \(TerminalText.inline(error.reason ?? "\(error.code)"))")
                }
            } catch {
                say("! Could not mark messages read: \(TerminalText.inline("\(error)"))")
            }
        }
    }

    /// Returns once the client has a session again (or has stopped). A second first: the client may not have seen
    /// the connection drop yet.
    private func waitForReconnection() async {
        try? await Task.sleep(for: .seconds(1))
        _ = try? await client.connected()
    }

    /// Before quitting: while connected, waits up to `limit` for the markers noted to be sent, and says when some
    /// could not be.
    func flush(within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while !pending.isEmpty || sending, client.connectionState == .connected, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if !pending.isEmpty || sending {
            say("! Some messages shown here could not be marked read; your other devices still count them unread.")
        }
    }
}
