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


public import ChatKitCore
import Synchronization

/// The conformance suite of ``ChatKitCore/ServerTransport`` and ``ChatKitCore/ClientTransport``: what the engine
/// and ``ChatKitCore/Connection``'s users rely on from a pair of transports, checked over real connections.
///
/// Describe your transports as a ``Subject``: the server transport, and how to get a client transport that reaches
/// it once it serves (a transport that listens on port 0 learns its port only then).
///
/// ```swift
/// @Test(arguments: TransportConformance.cases)
/// func conformance(_ check: TransportConformance.Case) async throws {
///     try await check.run { MyTransport.makeTestSubject() }
/// }
/// ```
///
/// Each case serves its own handler on the subject's server transport, opens connections with its client
/// transport, and stops serving (by cancelling the task that serves) when it is done. As in ChatKit's protocol
/// (`hello` first), the client writes first on every connection: a server does not write before it has read the
/// client's first frame. (The WebSocket client the package builds on, swift-websocket's `WebSocketClient`, can lose
/// frames that reach it in the same read as the upgrade's answer.) A case that waits longer
/// than ``Subject/timeout`` for a frame or an end fails instead of hanging.
public enum TransportConformance {
    /// A server transport, and the means to reach it.
    public struct Subject: Sendable {
        /// The transport under test on the server's side. Each case calls its `serve` once.
        public var server: any ServerTransport
        /// A client transport that reaches `server`, called once `serve` has started; it may wait until the
        /// server listens.
        public var client: @Sendable () async throws -> any ClientTransport
        /// The largest frame, in UTF-8 bytes, the pair is configured to carry both ways (a case sends one this
        /// large). Default 64 KiB, the largest message body.
        public var largestFrame: Int
        /// How long a case waits for something the transports must do before it fails. Default 60 seconds.
        public var timeout: Duration

        /// Creates a subject.
        ///
        /// - Parameters:
        ///   - server: The server transport under test; each case serves it once (use a fresh one per subject).
        ///   - client: Returns a client transport that reaches `server`, once `serve` has started (it may wait
        ///     until the server listens, as a transport on port 0 must).
        ///   - largestFrame: The largest frame, in UTF-8 bytes, to send both ways.
        ///   - timeout: How long a case waits for the transports before it fails.
        public init(
            server: any ServerTransport,
            client: @escaping @Sendable () async throws -> any ClientTransport,
            largestFrame: Int = 64 * 1024,
            timeout: Duration = .seconds(60)
        ) {
            self.server = server
            self.client = client
            self.largestFrame = largestFrame
            self.timeout = timeout
        }
    }

    /// One named check, run against a fresh subject.
    public typealias Case = ConformanceCase<Subject>

    /// Every case of the suite.
    public static var cases: [Case] {
        [
            Case("transport", "frames arrive in order, both ways") { subject in
                try await serving(subject, echo) { client in
                    let sent = (0..<500).map { "frame \($0)" }
                    let echoed = try await client.withConnection { connection in
                        try await writing(sent, to: connection) { try await read(500, from: connection, subject) }
                    }
                    try checkEqual(echoed, sent, "the frames echoed")
                }
            },
            Case("transport", "text arrives unchanged: empty, non-ASCII, NUL, and a frame of the largest size") {
                subject in
                let texts = [
                    "", "héllo wörld", "東京 🎉 👩‍👩‍👧", "a\u{0}b", "\"quoted\" \\ {json}", "line\nbreak\r\n",
                    String(repeating: "x", count: subject.largestFrame),
                    String(repeating: "é", count: subject.largestFrame / 2),
                ]
                try await serving(subject, echo) { client in
                    let echoed = try await client.withConnection { connection in
                        try await writing(texts, to: connection) {
                            try await read(texts.count, from: connection, subject)
                        }
                    }
                    try checkEqual(echoed.count, texts.count, "the number of frames echoed")
                    for (index, (sent, received)) in zip(texts, echoed).enumerated() {
                        // Byte for byte: `==` on strings would let a transport change the Unicode form.
                        try check(
                            Array(sent.utf8) == Array(received.utf8),
                            "frame \(index) (\(sent.utf8.count) bytes) came back as \(received.utf8.count) bytes: "
                                + String(received.prefix(40))
                        )
                    }
                }
            },
            Case("transport", "connections at once are independent of each other") { subject in
                try await serving(subject, echo) { client in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for connectionNumber in 0..<8 {
                            group.addTask {
                                let sent = (0..<50).map { "\(connectionNumber)-\($0)" }
                                let echoed = try await client.withConnection { connection in
                                    try await writing(sent, to: connection) {
                                        try await read(50, from: connection, subject)
                                    }
                                }
                                try checkEqual(
                                    echoed, (0..<50).map { "\(connectionNumber)-\($0)" },
                                    "the frames connection \(connectionNumber) got back"
                                )
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            },
            Case("transport", "a client's connection ends when its body returns: the server's inbound finishes") {
                subject in
                let ends = Ends()
                try await serving(subject, { connection in await ends.record(connection.inbound) }) { client in
                    try await client.withConnection { connection in try await connection.outbound.write("hello") }
                    let end = try await ends.first(within: subject.timeout)
                    try checkEqual(end.frames, ["hello"], "the frames the server read")
                    try check(end.error == nil, "the server's inbound threw \(String(describing: end.error))")
                }
            },
            Case("transport", "a body that throws closes the connection, and withConnection throws its error") {
                subject in
                let ends = Ends()
                try await serving(subject, { connection in await ends.record(connection.inbound) }) { client in
                    do {
                        try await client.withConnection { connection in
                            try await connection.outbound.write("before the error")
                            throw BodyError()
                        }
                        throw ConformanceFailure("withConnection returned although its body threw")
                    } catch is BodyError {}
                    let end = try await ends.first(within: subject.timeout)
                    try checkEqual(end.frames, ["before the error"], "the frames the server read")
                }
            },
            Case("transport", "a client that closes its connection sees its own inbound end, and so does the server") {
                subject in
                // As a client closes a connection it can no longer write to, then waits for its reading to stop.
                let ends = Ends()
                try await serving(subject, { connection in await ends.record(connection.inbound) }) { client in
                    let own = try await client.withConnection { connection in
                        try await connection.outbound.write("hello")
                        await connection.outbound.close(CloseReason(code: "writeFailed", message: "A test closes."))
                        return try await Ends.read(connection.inbound, within: subject.timeout)
                    }
                    try checkEqual(own.frames, [], "the frames the client read after closing")
                    let end = try await ends.first(within: subject.timeout)
                    try checkEqual(end.frames, ["hello"], "the frames the server read")
                }
            },
            Case("transport", "frames written before the server ends a connection all arrive, then the inbound ends") {
                subject in
                let writeError = Mutex<String?>(nil)
                let handler: @Sendable (Connection) async -> Void = { connection in
                    do {
                        _ = try await firstFrame(of: connection)
                        for number in 0..<100 { try await connection.outbound.write("last words \(number)") }
                    } catch {
                        writeError.withLock { $0 = "\(error)" }
                    }
                }
                try await serving(subject, handler) { client in
                    let end = try await client.withConnection { connection in
                        try await connection.outbound.write("hello")
                        return try await Ends.read(connection.inbound, within: subject.timeout)
                    }
                    let failure = writeError.withLock { $0 }
                    try check(failure == nil, "a write of the server failed: \(failure ?? "")")
                    try checkEqual(end.frames, (0..<100).map { "last words \($0)" }, "the frames the client read")
                    try checkNormalEnd(end, "the end of a connection the server's handler returned from")
                }
            },
            Case("transport", "a close with a reason reaches the client as ConnectionClosedError with its code") {
                subject in
                let handler: @Sendable (Connection) async -> Void = { connection in
                    _ = try? await firstFrame(of: connection)
                    try? await connection.outbound.write("closing")
                    await connection.outbound.close(
                        CloseReason(code: "slowConsumer", message: "The connection fell too far behind.")
                    )
                }
                try await serving(subject, handler) { client in
                    let end = try await client.withConnection { connection in
                        try await connection.outbound.write("hello")
                        return try await Ends.read(connection.inbound, within: subject.timeout)
                    }
                    try checkEqual(end.frames, ["closing"], "the frames the client read")
                    let error = try checkNotNil(end.error as? ConnectionClosedError, "the error ending the inbound")
                    try checkEqual(error.reason?.code, "slowConsumer", "the reason's code")
                }
            },
            Case(
                "transport",
                "writing to a closed connection throws ConnectionClosedError, and closing twice does nothing"
            ) { subject in
                let outcome = Mutex<(writeError: String?, done: Bool)>((nil, false))
                let handler: @Sendable (Connection) async -> Void = { connection in
                    _ = try? await firstFrame(of: connection)
                    await connection.outbound.close(.normal)
                    await connection.outbound.close(.normal)
                    var writeError: String? = "nothing: the write succeeded"
                    do {
                        try await connection.outbound.write("after the close")
                    } catch is ConnectionClosedError {
                        writeError = nil
                    } catch {
                        writeError = "\(type(of: error)): \(error)"
                    }
                    outcome.withLock { $0 = (writeError, true) }
                }
                try await serving(subject, handler) { client in
                    let end = try await client.withConnection { connection in
                        try await connection.outbound.write("hello")
                        return try await Ends.read(connection.inbound, within: subject.timeout)
                    }
                    try checkEqual(end.frames, [], "frames after the close")
                    try checkNormalEnd(end, "the end of a connection the server closed normally")
                    try await waitUntil(within: subject.timeout, "the server's handler to finish") {
                        outcome.withLock { $0.done }
                    }
                    if let writeError = outcome.withLock({ $0.writeError }) {
                        try check(false, "a write after the close threw \(writeError), not ConnectionClosedError")
                    }
                }
            },
            Case("transport", "a write to a connection whose client has left throws ConnectionClosedError") { subject in
                let outcome = Mutex<(writeError: String?, done: Bool)>((nil, false))
                let handler: @Sendable (Connection) async -> Void = { connection in
                    // The client's frame, then the end of its inbound: the client has left.
                    _ = try? await Ends.read(connection.inbound, within: subject.timeout)
                    // A socket (or a transport's queue) may take writes for a while before it finds the peer gone.
                    var writeError: String? = "nothing: every write succeeded for \(subject.timeout)"
                    let deadline = ContinuousClock.now + subject.timeout
                    var number = 0
                    while ContinuousClock.now < deadline {
                        do {
                            try await connection.outbound.write("after the client left \(number)")
                        } catch is ConnectionClosedError {
                            writeError = nil
                            break
                        } catch {
                            writeError = "\(type(of: error)): \(error)"
                            break
                        }
                        number += 1
                        if number.isMultiple(of: 100) { try? await Task.sleep(for: .milliseconds(1)) }
                    }
                    outcome.withLock { $0 = (writeError, true) }
                }
                try await serving(subject, handler) { client in
                    try await client.withConnection { connection in try await connection.outbound.write("bye") }
                    try await waitUntil(within: subject.timeout, "the server's handler to finish") {
                        outcome.withLock { $0.done }
                    }
                    if let writeError = outcome.withLock({ $0.writeError }) {
                        try check(
                            false,
                            "a write after the client left threw \(writeError), not ConnectionClosedError (the engine "
                                + "tells a peer that left from a failure by it)"
                        )
                    }
                }
            },
            Case("transport", "serve runs its connections at once: a second is served while the first is open") {
                subject in
                try await serving(subject, echo) { client in
                    try await client.withConnection { first in
                        try await first.outbound.write("first")
                        try checkEqual(try await read(1, from: first, subject), ["first"], "the first's echo")
                        // The first connection's handler still runs (it echoes until its client leaves).
                        let second = try await client.withConnection { second in
                            try await second.outbound.write("second")
                            return try await read(1, from: second, subject)
                        }
                        try checkEqual(second, ["second"], "the second's echo while the first is open")
                    }
                }
            },
            Case("transport", "serve returns when its task is cancelled, and the connections it served end") {
                subject in
                let accepted = Ends()
                let serving = Task {
                    try await subject.server.serve { connection in await accepted.record(connection.inbound) }
                }
                defer { serving.cancel() }
                let client = try await clientTransport(subject, servedBy: serving)
                let clientEnd = Task {
                    try await client.withConnection { connection in
                        try await connection.outbound.write("waiting")
                        return try await Ends.read(connection.inbound, within: subject.timeout)
                    }
                }
                defer { clientEnd.cancel() }
                try await waitUntil(within: subject.timeout, "the server to read the client's frame") {
                    accepted.frames.contains("waiting")
                }
                serving.cancel()
                _ = try await result(of: serving, within: subject.timeout, "serve to return once cancelled")
                let end = try await result(of: clientEnd, within: subject.timeout, "the client's connection to end")
                _ = try end.get()
            },
        ]
    }

    // MARK: Helpers

    private struct BodyError: Error {}

    /// Writes back every frame it reads.
    private static let echo: @Sendable (Connection) async -> Void = { connection in
        do {
            for try await frame in connection.inbound { try await connection.outbound.write(frame) }
        } catch {}
    }

    /// The connection's first inbound frame (`nil` if it ended first).
    private static func firstFrame(of connection: Connection) async throws -> String? {
        var frames = connection.inbound.makeAsyncIterator()
        return try await frames.next()
    }

    /// Serves `handler` on the subject's server while `body` runs with a client transport (all of it within the
    /// subject's timeout), then stops serving and waits for `serve` to return.
    private static func serving(
        _ subject: Subject,
        _ handler: @escaping @Sendable (Connection) async -> Void,
        _ body: @escaping @Sendable (any ClientTransport) async throws -> Void
    ) async throws {
        let server = Task { try await subject.server.serve(handler) }
        defer { server.cancel() }
        let client = try await clientTransport(subject, servedBy: server)
        try await withDeadline(subject.timeout, "the case's connections") { try await body(client) }
        server.cancel()
        _ = try await result(of: server, within: subject.timeout, "serve to return after its task was cancelled")
    }

    /// The subject's client transport, failing at once if `server`'s `serve` ends first (it could not listen, say)
    /// and after the timeout if neither comes.
    private static func clientTransport(_ subject: Subject, servedBy server: Task<Void, any Error>) async throws
        -> any ClientTransport
    {
        let client = Task { try await subject.client() }
        let stopped = Task<any ClientTransport, any Error> {
            if case .failure(let error) = await server.result {
                throw ConformanceFailure("serve failed before a client could connect: \(error)")
            }
            throw ConformanceFailure("serve returned before a client could connect")
        }
        defer {
            client.cancel()
            stopped.cancel()
        }
        return try await result(of: [client, stopped], within: subject.timeout, "a client transport").get()
    }

    /// Writes `frames` to `connection` while `reading` runs, and returns what `reading` returns: a transport that
    /// applies back-pressure must not deadlock a case that echoes more than its buffers hold.
    private static func writing<T: Sendable>(
        _ frames: [String], to connection: Connection, _ reading: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let writer = Task { for frame in frames { try await connection.outbound.write(frame) } }
        defer { writer.cancel() }
        let result = try await reading()
        try await writer.value
        return result
    }

    /// Checks that a connection ended without an error, or with a ``ChatKitCore/ConnectionClosedError`` whose reason
    /// is normal.
    private static func checkNormalEnd(_ end: Ends.End, _ what: String) throws {
        guard let error = end.error else { return }
        let closed = try checkNotNil(error as? ConnectionClosedError, "\(what): an error \(error)")
        try check(
            closed.reason == nil || closed.reason?.code == CloseReason.normal.code,
            "\(what): closed with \(closed)"
        )
    }

    /// The result of `task`, or a ``ConformanceFailure`` naming `what` after `timeout` (without waiting for a task
    /// that ignores its cancellation).
    private static func result<T: Sendable>(
        of task: Task<T, any Error>, within timeout: Duration, _ what: String
    ) async throws -> Result<T, any Error> {
        try await result(of: [task], within: timeout, what)
    }

    /// The result of whichever of `tasks` ends first, or a ``ConformanceFailure`` naming `what` after `timeout`.
    private static func result<T: Sendable>(
        of tasks: [Task<T, any Error>], within timeout: Duration, _ what: String
    ) async throws -> Result<T, any Error> {
        let racers = Racers()
        defer { racers.cancel() }
        let value = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>?, Never>) in
            let once = Once(continuation)
            for task in tasks { racers.add(Task { once.resume(await task.result) }) }
            racers.add(
                Task {
                    try? await Task.sleep(for: timeout)
                    once.resume(nil)
                }
            )
        }
        guard let value else { throw ConformanceFailure("timed out after \(timeout) waiting for \(what)") }
        return value
    }

    /// A continuation resumed by the first of several racers.
    private final class Once<Value: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<Value, Never>?>

        init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = Mutex(continuation) }

        func resume(_ value: Value) {
            continuation.withLock { continuation in
                continuation?.resume(returning: value)
                continuation = nil
            }
        }
    }

    /// The tasks of a race, cancelled once it is decided.
    private final class Racers: Sendable {
        private let tasks = Mutex<[Task<Void, Never>]>([])

        func add(_ task: Task<Void, Never>) { tasks.withLock { $0.append(task) } }

        func cancel() {
            for task in tasks.withLock({ $0 }) { task.cancel() }
        }
    }

    /// Reads `count` frames from `connection`.
    private static func read(_ count: Int, from connection: Connection, _ subject: Subject) async throws -> [String] {
        try await withDeadline(subject.timeout, "\(count) frames") {
            var frames: [String] = []
            for try await frame in connection.inbound {
                frames.append(frame)
                if frames.count == count { break }
            }
            return frames
        }
    }

    /// `body`'s result, or a ``ConformanceFailure`` naming `what` after `timeout` (`body` is then cancelled, and not
    /// waited for).
    @discardableResult
    private static func withDeadline<T: Sendable>(
        _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let task = Task { try await body() }
        defer { task.cancel() }
        return try await result(of: task, within: timeout, what).get()
    }

    /// Waits until `condition` holds, checking every millisecond, or fails after `timeout`.
    private static func waitUntil(
        within timeout: Duration, _ what: String, _ condition: @Sendable () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                throw ConformanceFailure("timed out after \(timeout) waiting for \(what)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// How the inbound streams of the server's connections ended: the frames read, and the error if one was thrown.
    private final class Ends: Sendable {
        struct End: Sendable {
            var frames: [String]
            var error: (any Error)?
        }

        private let state = Mutex<(reading: [String], ends: [End])>(([], []))

        /// Every frame read so far, from all connections.
        var frames: [String] { state.withLock { $0.reading } }

        /// Reads `inbound` to its end and records how it ended.
        func record(_ inbound: AsyncThrowingStream<String, any Error>) async {
            var end = End(frames: [], error: nil)
            do {
                for try await frame in inbound {
                    end.frames.append(frame)
                    state.withLock { $0.reading.append(frame) }
                }
            } catch {
                end.error = error
            }
            state.withLock { $0.ends.append(end) }
        }

        /// The first recorded end, waiting for one up to `timeout`.
        func first(within timeout: Duration) async throws -> End {
            try await TransportConformance.waitUntil(within: timeout, "a connection's inbound to end at the server") {
                self.state.withLock { !$0.ends.isEmpty }
            }
            return state.withLock { $0.ends[0] }
        }

        /// Reads `inbound` to its end, failing after `timeout`.
        static func read(_ inbound: AsyncThrowingStream<String, any Error>, within timeout: Duration) async throws
            -> End
        {
            try await TransportConformance.withDeadline(timeout, "the connection's inbound to end") {
                var end = End(frames: [], error: nil)
                do {
                    for try await frame in inbound { end.frames.append(frame) }
                } catch {
                    end.error = error
                }
                return end
            }
        }
    }
}
