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

import ChildProcesses
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process whose standard output is read line by line.
///
/// The output is read with blocking reads on a thread of its own. `FileHandle.readabilityHandler` (used before)
/// now and then never reported the end of the output on Linux, and the crash-durability test then waited for it
/// until its timeout, with the child long gone. Started with ``SpawnedProcess``, not Foundation's `Process`, whose
/// `run()` now and then crashes the test process on Linux.
final class ChildProcess: Sendable {
    private let process: SpawnedProcess
    /// The child's output lines, finished once the output ended and the child is gone (reaped: its descriptors,
    /// and with them its locks on the database, are all closed; the end of the output alone closes only its
    /// standard output).
    let lines: AsyncStream<String>

    init(executable: URL, arguments: [String]) throws {
        let process = try SpawnedProcess(executable.path, arguments, errors: .discarded)
        self.process = process
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        let output = process.output
        Thread.detachNewThread {
            var buffer: [UInt8] = []
            if let output {
                SpawnedProcess.readChunks(output) { chunk in
                    buffer.append(contentsOf: chunk)
                    guard let end = buffer.lastIndex(of: UInt8(ascii: "\n")) else { return }
                    let text = String(decoding: buffer[..<end], as: UTF8.self)
                    buffer.removeSubrange(...end)
                    for line in text.split(separator: "\n") { continuation.yield(String(line)) }
                }
            }
            process.waitForExit()
            continuation.finish()
        }
    }

    /// Kills the child with SIGKILL (if it still runs). Its output lines written before then stay readable from
    /// ``lines``, which ends once the child is gone.
    func kill() {
        process.send(SIGKILL)
    }
}

/// The first value of `body`, or a failure after `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask { try await body() }
        tasks.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { tasks.cancelAll() }
        guard case .some(.some(let value)) = try await tasks.next() else { throw TimeoutError(timeout: timeout) }
        return value
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "timed out after \(timeout)" }
}
