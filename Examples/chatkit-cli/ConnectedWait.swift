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

extension ChatClient {
    /// Before quitting: waits until `done` returns, the client is no longer connected, or `limit` has passed,
    /// whichever comes first.
    func waitWhileConnected(within limit: Duration, until done: @escaping @Sendable () async -> Void) async {
        let states = connectionStateUpdates()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await done() }
            group.addTask {
                for await state in states where state != .connected { return }
            }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }
}
