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
    /// Told each time ``run()`` has sent every marker noted (``flush(within:)`` waits for it).
    private var idleObserver: AsyncStream<Void>.Continuation?

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
            if pending.isEmpty { idleObserver?.yield() }
        }
    }

    /// Whether every marker noted was sent (or given up).
    private var isIdle: Bool { pending.isEmpty && !sending }

    /// Sends `due` (taken from `pending`) one after the other; on a disconnection, notes the rest again and waits
    /// for the client to reconnect.
    private func send(_ due: [(key: ConversationID, value: Int64)]) async {
        for (index, (conversation, seq)) in due.enumerated() {
            do {
                _ = try await client.markRead(conversation, upTo: seq)
            } catch is CancellationError {
                return
            } catch let error as ChatError {
                if error.code == .unavailable, error.underlying is ChatClient.ServerAnswer {
                    // The server cannot serve it now: these markers again after its wait.
                    for (conversation, seq) in due[index...] { markRead(conversation, upTo: seq) }
                    try? await Task.sleep(for: error.retryAfter ?? Self.delayAfterServerFault)
                    return
                } else if let delay = error.retryAfter {
                    // Rate limited all the same (other requests used the allowance): again after the wait.
                    try? await Task.sleep(for: delay)
                    markRead(conversation, upTo: seq)
                } else if error.code == .unavailable {
                    // The connection dropped, or the server did not answer in time (the request may or may not have
                    // been stored; marking again is harmless): every marker not sent waits for the next session,
                    // which `connected()` waits for after such a failure.
                    for (conversation, seq) in due[index...] { markRead(conversation, upTo: seq) }
                    do {
                        _ = try await client.connected()
                    } catch {
                        // The client stopped (the chat is ending): no session will come; not again at once.
                        try? await Task.sleep(for: Self.delayAfterServerFault)
                    }
                    return
                } else {
                    say("! Could not mark messages read: \(TerminalText.inline(error.reason ?? "\(error.code)"))")
                }
            } catch {
                say("! Could not mark messages read: \(TerminalText.inline("\(error)"))")
            }
        }
    }

    /// How long markers wait after the server answered that it cannot serve now without saying how long.
    static let delayAfterServerFault = Duration.seconds(1)

    /// Before quitting: waits until the markers noted are sent, the connection is lost or `limit` has passed, and
    /// says when some could not be sent.
    func flush(within limit: Duration) async {
        let (idle, observer) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        idleObserver = observer
        defer {
            idleObserver = nil
            observer.finish()
        }
        if !isIdle {
            await client.waitWhileConnected(within: limit) {
                for await _ in idle { if await self.isIdle { return } }
            }
        }
        if !isIdle {
            say("! Some messages shown here could not be marked read; your other devices still count them unread.")
        }
    }
}
