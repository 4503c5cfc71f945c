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

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process whose standard output is read line by line.
///
/// The output is read with blocking reads on a thread of its own. `FileHandle.readabilityHandler` (used before)
/// now and then never reported the end of the output on Linux, and the crash-durability test then waited for it
/// until its timeout, with the child long gone.
final class ChildProcess: Sendable {
    private let process: Process
    /// The child's output lines, finished once the output ended and the child is gone (a zombie or reaped: its
    /// descriptors, and with them its locks on the database, are all closed; the end of the output alone closes
    /// only its standard output).
    let lines: AsyncStream<String>

    init(executable: URL, arguments: [String]) throws {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = pipe
        self.process = process
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        try process.run()
        // The end of file comes only once no process holds the write end: close ours (Foundation may have already).
        try? pipe.fileHandleForWriting.close()
        let output = pipe.fileHandleForReading
        let pid = process.processIdentifier
        Thread.detachNewThread {
            // read(2) itself: it returns what has arrived, where FileHandle.read(upToCount:) waits for the count.
            let descriptor = output.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            var buffer = Data()
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                buffer.append(contentsOf: chunk[0..<count])
                guard let end = buffer.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let text = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...end)
                for line in text.split(separator: "\n") { continuation.yield(String(line)) }
            }
            try? output.close()
            Self.waitUntilGone(pid)
            continuation.finish()
        }
    }

    /// Returns once process `pid` has exited (`/proc` shows it as a zombie, or not at all), or after 10 seconds.
    private static func waitUntilGone(_ pid: Int32) {
        for _ in 0..<10_000 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let state = stat.split(separator: ")").last?.split(separator: " ").first
            else { return }
            if state == "Z" || state == "X" { return }
            usleep(1_000)  // bounded polling of the kernel's process table; no event announces the exit
        }
    }

    /// Kills the child with SIGKILL (if it still runs). Its output lines written before then stay readable from
    /// ``lines``, which ends once the child is gone.
    func kill() {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
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
