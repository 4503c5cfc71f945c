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
import ChatKitCore
import ChatKitSQLite
import ChatKitServer
import Foundation
import Synchronization
import Testing

/// A value behind a lock, shareable with escaping closures (a `Mutex` itself cannot be captured).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }
}

/// Records what an asynchronous sequence (an `AsyncStream`, `ChatClient.events`) yields, and lets one task at a time
/// wait for a condition on the recording.
final class Recorder<Element: Sendable>: Sendable {
    private let values = Locked<[Element]>([])
    private let arrivals: AsyncStream<Void>
    private let task: Task<Void, Never>

    init<Stream: AsyncSequence & Sendable>(_ stream: Stream) where Stream.Element == Element, Stream.Failure == Never {
        let (arrivals, arrived) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.arrivals = arrivals
        let values = values
        task = Task {
            for await value in stream {
                values.withLock { $0.append(value) }
                arrived.yield()
            }
            arrived.finish()
        }
    }

    deinit { task.cancel() }

    /// Everything recorded so far.
    var recorded: [Element] { values.value }

    /// Waits until `condition` holds for the recording (real time, at most `timeout`).
    func waitFor(
        _ what: String,
        timeout: Duration = failsafeTimeout,
        _ condition: @escaping @Sendable ([Element]) -> Bool
    ) async throws {
        try await withTimeout(what, timeout) { [self] in
            var iterator = arrivals.makeAsyncIterator()
            while !condition(recorded) {
                guard await iterator.next() != nil else {
                    if condition(recorded) { return }
                    throw TimeoutError(what: what + " (stream ended)", events: recorded.count)
                }
            }
        }
    }
}

/// A WebSocket client transport whose URL can change between connections, as a server restarted on another port.
struct MovableWebSocketTransport: ClientTransport {
    let url = Locked("ws://127.0.0.1:1/v1/ws")

    func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result) async throws
        -> Result
    {
        try await WebSocketClientTransport.loadTolerant(url: url.value).withConnection(body)
    }
}

/// A clock that records every sleep. By default sleeps return at once (time jumps ahead), so backoff runs without
/// real waiting; with `realTime` they really wait.
final class RecordingClock: Clock, Sendable {
    typealias Instant = ManualInstant
    private let state = Mutex<(now: ManualInstant, sleeps: [Duration])>((ManualInstant(offset: .zero), []))
    private let realTime: Bool
    private let onSleep: (@Sendable (Duration) -> Void)?

    /// - Parameters:
    ///   - realTime: Whether sleeps really wait.
    ///   - onSleep: Called with each sleep's duration, for example to move a server's manual clock along, so that
    ///     client and server share one virtual time.
    init(realTime: Bool = false, onSleep: (@Sendable (Duration) -> Void)? = nil) {
        self.realTime = realTime
        self.onSleep = onSleep
    }

    var now: ManualInstant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }
    /// How long each sleep asked to wait, in order.
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func sleep(until deadline: ManualInstant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        let duration = state.withLock { state in
            let duration = state.now.duration(to: deadline)
            state.sleeps.append(duration)
            state.now = max(state.now, deadline)
            return duration
        }
        onSleep?(duration)
        if realTime { try await Task.sleep(for: duration) } else { await Task.yield() }
    }
}

/// An instant of a test clock: time since the clock started.
struct ManualInstant: InstantProtocol {
    var offset: Duration
    func advanced(by duration: Duration) -> ManualInstant { ManualInstant(offset: offset + duration) }
    func duration(to other: ManualInstant) -> Duration { other.offset - offset }
    static func < (lhs: ManualInstant, rhs: ManualInstant) -> Bool { lhs.offset < rhs.offset }
}

/// An in-process server played by a script: each frame the client sends is handed to the script with the
/// connection's number (0 for the first), and the script answers through a `ScriptedPeer`.
struct ScriptedTransport: ClientTransport {
    typealias Script = @Sendable (_ connection: Int, _ frame: ClientFrame, _ peer: ScriptedPeer) async -> Void

    private let connections = Locked(0)
    private let script: Script
    private let closeGate: TestGate?

    /// - Parameters:
    ///   - closeGate: When given, a connection the client closes stays open until the gate opens (a socket whose
    ///     close takes a while); the client's inbound ends only then.
    ///   - script: Answers each frame the client sends.
    init(closeGate: TestGate? = nil, _ script: @escaping Script) {
        self.closeGate = closeGate
        self.script = script
    }

    /// How many connections were opened.
    var connectionCount: Int { connections.value }

    func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result) async throws
        -> Result
    {
        let number = connections.withLock { count in
            defer { count += 1 }
            return count
        }
        let (toClient, toClientContinuation) = AsyncThrowingStream.makeStream(
            of: String.self, throwing: (any Error).self)
        let (fromClient, fromClientContinuation) = AsyncStream.makeStream(of: String.self)
        let closeGate = closeGate
        let connection = Connection(
            inbound: toClient,
            outbound: OutboundWriter(
                write: { text in fromClientContinuation.yield(text) },
                close: { _ in
                    await closeGate?.waitUntilOpen()
                    fromClientContinuation.finish()
                    toClientContinuation.finish()
                }
            ),
            peer: "script"
        )
        let peer = ScriptedPeer(continuation: toClientContinuation)
        let script = script
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask {
                let codec = WireCodec()
                for await text in fromClient {
                    guard case .success(let frame) = codec.decodeClientFrame(text) else { continue }
                    await script(number, frame, peer)
                }
            }
            defer { group.cancelAll() }
            let result = try await body(connection)
            fromClientContinuation.finish()
            return result
        }
    }
}

/// The server side of a scripted connection.
struct ScriptedPeer: Sendable {
    let continuation: AsyncThrowingStream<String, any Error>.Continuation

    func send(_ frame: ServerFrame) {
        continuation.yield(try! WireCodec().encode(frame))
    }

    /// Closes the connection: the client sees its inbound stream end.
    func close() { continuation.finish() }

    /// Closes the connection with a reason, as a server's close frame gives one: the client's inbound stream throws
    /// a `ConnectionClosedError` with it.
    func close(_ reason: CloseReason) { continuation.finish(throwing: ConnectionClosedError(reason: reason)) }

    static let user = User(id: UserID(rawValue: "u-script"), username: "script", displayName: "", createdAt: Date())
    static let limits = ServerLimits(
        maxFrameBytes: 1 << 20, maxBodyBytes: 1 << 16, maxMembers: 100, maxPageSize: 100, requestsPerSecond: 1000,
        typingTimeoutMilliseconds: 5000
    )

    /// Opens the session: `welcome` at `position`, the given catch-up events, then `synced`.
    func open(_ hello: ClientFrame, position: StreamPosition, catchUp: [StoredEvent] = []) {
        send(.welcome(Welcome(id: hello.id, version: 1, user: Self.user, limits: Self.limits, position: position)))
        for event in catchUp { send(.event(event)) }
        send(.synced(Synced(cursor: catchUp.last?.position ?? position)))
    }

    /// The message a scripted server stores for `send`, at seq 1.
    static func stored(_ send: ClientRequest.Send, id: String = "m-1") -> Message {
        Message(
            id: MessageID(rawValue: id), conversationID: send.conversationID, seq: 1, senderID: user.id,
            clientMessageID: send.clientMessageID, body: send.body, createdAt: Date()
        )
    }

    static func event(_ position: Int64) -> StoredEvent {
        StoredEvent(
            position: StreamPosition(position), kind: .markerUpdated, conversationID: ConversationID(rawValue: "c"),
            actorID: user.id, createdAt: Date()
        )
    }
}

/// A ChatServer on a real socket over a SQLite file, with ChatKit's accounts signed with `LiveServer.secret`, so
/// tokens stay valid across restarts on the same file.
enum SQLiteLiveServer {
    /// Opens the store at `path`, serves on a free port while `body` runs, then stops the server and closes the
    /// store. `body` gets the server's WebSocket URL and base HTTP URL.
    static func run(path: String, _ body: @Sendable (_ webSocketURL: String, _ auth: AuthService) async throws -> Void)
        async throws
    {
        let store = try SQLiteChatStore(path: path)
        let auth = AuthService(store: store, secret: LiveServer.secret, configuration: .init(bcryptCost: 4))
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let transport = WebSocketServerTransport(
            configuration: WebSocketServerTransport.Configuration(host: "127.0.0.1", port: 0)
                .withLoadTolerantHandshakeDeadline,
            httpRoutes: HTTPRoutes(auth: auth, store: store, configuration: .init(signUpBurst: 100)),
            onListening: { _, port in portContinuation.yield(port) }
        )
        let server = ChatServer(
            store: store, transports: [transport], authenticators: [auth.authenticator], configuration: .loadTolerant
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await withTimeout("the server to listen") { await ports.first { _ in true } }
            do {
                try await body("ws://127.0.0.1:\(try #require(port))/v1/ws", auth)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
            try? await group.waitForAll()
        }
        try store.close()
    }
}
