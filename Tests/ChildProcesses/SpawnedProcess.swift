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


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A child process the tests start with `posix_spawn`, its standard streams piped or sent to `/dev/null`.
///
/// Not Foundation's `Process`: on Linux its `run()` reads `/proc/self/fd` with a bulk copy of each directory
/// entry's 256-byte name, which now and then reads past the end of glibc's buffer and crashes the whole test
/// process (swift-corelibs-foundation pull request 5472; the more descriptors are open, the likelier).
public final class SpawnedProcess: Sendable {
    /// Where a child's output goes.
    public enum Output: Sendable {
        /// To a pipe this process reads.
        case pipe
        /// To `/dev/null`.
        case discarded
    }

    /// The child's process ID.
    public let pid: Int32
    /// The write end of the child's standard input, or `nil` when it reads `/dev/null`.
    public let input: Int32?
    /// The read end of the child's standard output (with its standard error when they are merged), or `nil`.
    public let output: Int32?
    /// The read end of the child's standard error, or `nil` (discarded, or merged into ``output``).
    public let errors: Int32?
    /// The wait status once the child was reaped.
    private let status = Mutex<Int32?>(nil)

    /// Set once, before the first child starts: a write to a child that has exited (or was killed) fails with
    /// `EPIPE` instead of the signal ending the whole test process.
    private static let brokenPipesIgnored: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Starts `executable` with `arguments` and this process's environment. Descriptors other than the three
    /// standard ones are not inherited.
    ///
    /// - Parameters:
    ///   - writesInput: Whether the child's standard input is a pipe (``input``) rather than `/dev/null`.
    ///   - output: Where its standard output goes.
    ///   - errors: Where its standard error goes; `nil` merges it into the output.
    public init(
        _ executable: String, _ arguments: [String], writesInput: Bool = false, output: Output = .pipe,
        errors: Output? = .pipe
    ) throws {
        _ = Self.brokenPipesIgnored
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        defer { for descriptor in childEnds { close(descriptor) } }

        func pipeEnds() throws -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw SpawnError(what: "pipe", code: errno) }
            // Not inherited by children started meanwhile elsewhere (each of ours closes all but 0, 1 and 2 too).
            // Glibc's module does not offer `pipe2`: a child spawned by another thread between these two calls can
            // still inherit an end.
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            return (ends[0], ends[1])
        }
        var inputEnd: Int32?
        if writesInput {
            let ends = try pipeEnds()
            childEnds.append(ends.read)
            inputEnd = ends.write
            posix_spawn_file_actions_adddup2(&actions, ends.read, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        var outputEnd: Int32?
        switch output {
        case .pipe:
            let ends = try pipeEnds()
            childEnds.append(ends.write)
            outputEnd = ends.read
            posix_spawn_file_actions_adddup2(&actions, ends.write, 1)
        case .discarded:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        var errorsEnd: Int32?
        switch errors {
        case .pipe?:
            let ends = try pipeEnds()
            childEnds.append(ends.write)
            errorsEnd = ends.read
            posix_spawn_file_actions_adddup2(&actions, ends.write, 2)
        case .discarded?:
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        case nil:
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // Nothing else of this process's (sockets, database files, other tests' pipes) reaches the child.
        for descriptor in Self.openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        // The child starts with SIGPIPE's default action, not the ignoring this process set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            for descriptor in [inputEnd, outputEnd, errorsEnd].compactMap({ $0 }) { close(descriptor) }
            throw SpawnError(what: "posix_spawn \(executable)", code: result)
        }
        self.pid = pid
        input = inputEnd
        self.output = outputEnd
        self.errors = errorsEnd
    }

    /// This process's open descriptors, from `/proc/self/fd`. Each entry's name is read where it lies: copying the
    /// whole 256-byte `d_name` field (as Foundation's `Process` does) can read past the end of glibc's buffer.
    private static func openDescriptors() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var descriptors: [Int32] = []
        while let entry = readdir(directory) {
            let name = UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            if let descriptor = Int32(String(cString: name)) { descriptors.append(descriptor) }
        }
        return descriptors
    }

    /// Writes `text` to the child's standard input.
    public func write(_ text: String) {
        guard let input else { return }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(input, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Closes the child's standard input (it reads the end of input).
    public func closeInput() {
        if let input { close(input) }
    }

    /// Reads `descriptor` (``output`` or ``errors``) to its end, blocking; closes it.
    public static func readAll(_ descriptor: Int32) -> [UInt8] {
        var all: [UInt8] = []
        readChunks(descriptor) { all.append(contentsOf: $0) }
        return all
    }

    /// Calls `body` with each chunk read from `descriptor` until its end, blocking; closes it.
    public static func readChunks(_ descriptor: Int32, _ body: ([UInt8]) -> Void) {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            body(Array(chunk[0..<count]))
        }
        close(descriptor)
    }

    /// Whether the child has exited (and was reaped).
    public var hasExited: Bool { reap(blocking: false) != nil }

    /// Waits for the child to exit; returns its exit code (128 + the signal's number when a signal ended it).
    @discardableResult
    public func waitForExit() -> Int32 {
        reap(blocking: true)!
    }

    /// The exit code once the child has exited, or `nil`.
    public var exitCode: Int32? { reap(blocking: false) }

    /// Sends `signal` to the child unless it was reaped.
    public func send(_ signal: Int32) {
        status.withLock { status in
            if status == nil { _ = kill(pid, signal) }
        }
    }

    private func reap(blocking: Bool) -> Int32? {
        while true {
            let reaped = status.withLock { status -> Int32? in
                if let status { return status }
                var raw: Int32 = 0
                guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
                status = raw
                return raw
            }
            if let reaped { return Self.exitCode(of: reaped) }
            if !blocking { return nil }
            usleep(1_000)  // polled under the lock's short holds: a blocking waitpid would hold `send` off
        }
    }

    private static func exitCode(of status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// A system call that failed while starting a child process.
public struct SpawnError: Error, CustomStringConvertible {
    public let what: String
    public let code: Int32
    public var description: String { "\(what) failed: \(String(cString: strerror(code)))" }
}
