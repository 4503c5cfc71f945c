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

/// `chatkit-cli`: a terminal client for a ChatKit server. Accounts go over HTTP, chatting over the WebSocket.
@main
struct ChatKitCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatkit-cli",
        abstract: "Chat with a ChatKit server from the terminal.",
        discussion: """
            Start with 'signup' or 'login'; the tokens are kept in --home (default ~/.chatkit-cli, mode 0600) and
            refreshed when they expire. Then 'conversations', 'send', 'history', or 'chat' for a live session.
            """,
        subcommands: [
            SignUp.self, LogIn.self, ChangePassword.self, LogOut.self, Conversations.self, Send.self, History.self,
            Chat.self,
        ]
    )
}
