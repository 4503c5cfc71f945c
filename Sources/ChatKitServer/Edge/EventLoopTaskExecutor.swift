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

import NIOCore

/// Runs a task's jobs on one SwiftNIO event loop (a Swift task executor, SE-0417).
///
/// A socket's session prefers the event loop its channel lives on: reading a frame, answering it and writing the
/// answer then happen on one thread, instead of each frame crossing from the event loop to Swift's global
/// executor and back (two thread wake-ups per frame, about a third of the server's time in chatkit-bench's
/// pairs). Code on such a task must not block: it holds up every socket of the loop.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
