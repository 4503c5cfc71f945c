import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process whose standard output is read line by line.
final class ChildProcess: Sendable {
    private let process: Process
    private let pipe = Pipe()
    private let buffer = LineBuffer()
    private let exited = AsyncStream<Void>.makeStream()
    /// The child's output lines, finished at end of file.
    let lines: AsyncStream<String>

    init(executable: URL, arguments: [String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = pipe
        self.process = process
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        let exited = exited.continuation
        process.terminationHandler = { _ in
            exited.yield()
            exited.finish()
        }
        pipe.fileHandleForReading.readabilityHandler = { [buffer] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete = buffer.data.withLock { buffer -> [String] in
                buffer.append(data)
                guard let end = buffer.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
                let text = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...end)
                return text.split(separator: "\n").map(String.init)
            }
            for line in complete { continuation.yield(line) }
        }
        try process.run()
    }

    /// Kills the child with SIGKILL and waits until it is gone; its output lines written before then stay
    /// readable from ``lines``.
    func kill() async throws {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        for await _ in exited.stream { break }
        try pipe.fileHandleForWriting.close()
    }
}

/// Bytes read but not yet split into lines.
final class LineBuffer: Sendable {
    let data = Mutex(Data())
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
