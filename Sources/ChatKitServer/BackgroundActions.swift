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

/// Runs actions that must not wait on whoever asks for them, each in a child task of the server's `run()`.
///
/// A connection is closed this way when its outbox overflows or its login is revoked, and when no `hello` arrived
/// in time: the session's writer may be stuck on a slow peer, and a task of the session's own that only waits
/// for such an ending would cost every connection a task (about 1.5 KB) for its whole life, to be used by few.
/// Actions pushed before ``run()`` starts wait for it; once it is cancelled they are dropped.
final class BackgroundActions: Sendable {
    typealias Action = @Sendable () async -> Void

    private let actions: AsyncStream<Action>
    private let continuation: AsyncStream<Action>.Continuation

    init() {
        (actions, continuation) = AsyncStream.makeStream(of: Action.self)
    }

    /// Runs `action` soon, in a task of its own.
    func run(_ action: @escaping Action) {
        continuation.yield(action)
    }

    /// Runs `action` soon, in a task of its own; `false` once ``run()`` has ended (`action` is then not run).
    func start(_ action: @escaping Action) -> Bool {
        if case .terminated = continuation.yield(action) { return false }
        return true
    }

    /// Runs the actions pushed with ``run(_:)`` until the task is cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await action in actions {
                group.addTask(operation: action)
            }
        }
        continuation.finish()
    }
}
