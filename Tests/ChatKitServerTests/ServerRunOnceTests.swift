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
import ChatKitServer
import ChatKitTesting
import Testing

/// A second `run()` of one server returned at once without an error: its router's wake-ups had ended with the
/// first run, so sessions opened then got their catch-up and never a live event. It now says so.
@Suite(.timeLimit(.minutes(2)))
struct ServerRunOnceTests {
    @Test func aServerRunsOnceAndASecondRunIsRefusedWithAConflict() async throws {
        let server = ChatServer(
            store: InMemoryChatStore(), transports: [InProcessTransport()], authenticators: [InMemoryAuthenticator()]
        )
        // Two at once: one runs, the other is refused (whichever reads the store first runs).
        let ended = Locked<[(any Error)?]>([])
        let runs = (0..<2).map { _ in
            Task {
                do {
                    try await server.run()
                    ended.withLock { $0.append(nil) }
                } catch {
                    ended.withLock { $0.append(error) }
                }
            }
        }
        defer { for run in runs { run.cancel() } }
        try await waitUntil("one of two runs to end", timeout: .seconds(60)) { !ended.value.isEmpty }
        let refused = ended.value.first ?? nil
        #expect((refused as? ChatError)?.code == .conflict)
        for run in runs { run.cancel() }
        for run in runs { await run.value }

        // After the run ended, too.
        let error = await #expect(throws: ChatError.self) { try await server.run() }
        #expect(error?.code == .conflict)
    }
}
