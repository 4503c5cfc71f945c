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
actor ReadMarkers {
    private let client: ChatClient
    /// The highest seq shown in each conversation since the last request.
    private var pending: [ConversationID: Int64] = [:]
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
            let due = pending
            pending = [:]
            for (conversation, seq) in due {
                do {
                    _ = try await client.markRead(conversation, upTo: seq)
                } catch is CancellationError {
                    return
                } catch let error as ChatError {
                    if let delay = error.retryAfter {
                        // Rate limited all the same (other requests used the allowance): again after the wait.
                        try? await Task.sleep(for: delay)
                        markRead(conversation, upTo: seq)
                    } else if error.code != .unavailable {
                        // Disconnected: the next message shown after reconnecting marks it.
                        say("! Could not mark messages read: \(TerminalText.inline(error.reason ?? "\(error.code)"))")
                    }
                } catch {
                    say("! Could not mark messages read: \(TerminalText.inline("\(error)"))")
                }
            }
        }
    }
}
