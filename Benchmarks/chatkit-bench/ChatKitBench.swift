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

/// ChatKit's load generator: drives a ChatKit server (in process, or one already running) over real WebSockets on
/// loopback, next to a raw relay baseline. See Documentation/Performance.md.
@main
struct ChatKitBench: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        commandName: "chatkit-bench",
        abstract: "Load generator for ChatKit servers, with a raw WebSocket relay as the baseline.",
        discussion: "Every scenario stops by itself, counts lost and duplicated messages, and exits with status 1 if any was lost or duplicated (never because of speed).",
        subcommands: [Pairs.self, Fanout.self, Backlog.self, Storm.self, Idle.self, Serve.self]
    )
}
