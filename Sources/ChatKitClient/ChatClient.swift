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

/// A ChatKit client: opens a session over any ``ChatKitCore/ClientTransport``, sends requests, and delivers
/// what the server pushes as ``events``.
///
/// Run it in a task you own; requests made from other tasks wait for their answers:
///
/// ```swift
/// let client = ChatClient(transport: transport, token: token)
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     group.addTask { try await client.run() }
///     try await client.connected()
///     let chat = try await client.createDirectConversation(with: bob)
///     let message = try await client.send("Hi Bob", to: chat.id)
///     for await event in client.events { ... }
/// }
/// ```
///
/// Errors are ``ChatKitCore/ChatError``s carrying the server's error code; `.unavailable` means the connection
/// is not open (or dropped before the answer came).
public final class ChatClient: Sendable {
    private struct State {
        var connectionState = ConnectionState.disconnected
        var outgoing: AsyncStream<String>.Continuation?
        var pending: [String: CheckedContinuation<RequestResult, any Error>] = [:]
        var welcome: Welcome?
        var welcomeWaiters: [CheckedContinuation<Welcome, any Error>] = []
        var refusal: ChatError?
        /// Why the last connection ended, until the next one starts.
        var lastFailure: ChatError?
        var cursor: StreamPosition?
        var nextRequestID = 0
    }

    private let transport: any ClientTransport
    private let token: String
    private let codec = WireCodec()
    private let state: Mutex<State>
    private let eventContinuation: AsyncStream<ClientEvent>.Continuation

    /// Everything the server pushes, in the order it arrived. The stream buffers without limit: consume it.
    public let events: AsyncStream<ClientEvent>

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - transport: How to reach the server.
    ///   - token: The bearer token sent in `hello`.
    ///   - cursor: The position of the last event this client processed before, to catch up from; `nil` to
    ///     start from now.
    public init(transport: any ClientTransport, token: String, cursor: StreamPosition? = nil) {
        self.transport = transport
        self.token = token
        self.state = Mutex(State(cursor: cursor))
        (events, eventContinuation) = AsyncStream.makeStream(of: ClientEvent.self)
    }

    /// Where the connection stands.
    public var connectionState: ConnectionState { state.withLock { $0.connectionState } }

    /// The position of the last stored event received: pass it to a new client to resume where this one was.
    public var cursor: StreamPosition? { state.withLock { $0.cursor } }

    /// Connects, opens the session and processes what the server sends until the connection closes or the task
    /// is cancelled.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` when the server refuses the session (for example `.unauthenticated`),
    ///   or the transport's error when it cannot connect.
    public func run() async throws {
        let connected = ManagedFlag()
        do {
            try await transport.withConnection { connection in
                connected.set()
                try await self.serve(connection)
            }
        } catch let error as ChatError where connected.isSet {
            throw error
        } catch {
            let failure =
                connected.isSet
                ? ChatError(.unavailable, "The connection failed.", underlying: error)
                : ChatError(.unavailable, "Could not connect to the server.", underlying: error)
            finish(with: failure)
            throw failure
        }
    }

    /// Runs one session over an open connection until it closes.
    private func serve(_ connection: Connection) async throws {
        let (outgoing, outgoingContinuation) = AsyncStream.makeStream(of: String.self)
        let helloID = state.withLock { state -> String in
            state.connectionState = .connecting
            state.outgoing = outgoingContinuation
            state.refusal = nil
            state.lastFailure = nil
            state.nextRequestID += 1
            return "hello-\(state.nextRequestID)"
        }
        let hello = ClientRequest.Hello(token: token, cursor: cursor)
        outgoingContinuation.yield(try codec.encode(ClientFrame(id: helloID, .hello(hello))))

        var closeError: (any Error)?
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await text in outgoing {
                    do { try await connection.outbound.write(text) } catch { break }
                }
            }
            do {
                for try await text in connection.inbound { receive(text, helloID: helloID) }
            } catch {
                closeError = error
            }
            outgoingContinuation.finish()
        }
        let refusal = state.withLock { $0.refusal }
        let reason = (closeError as? ConnectionClosedError)?.reason.map { " (\($0))" } ?? ""
        finish(with: refusal ?? ChatError(.unavailable, "The connection closed\(reason).", underlying: closeError))
        if let refusal { throw refusal }
    }

    /// Waits until the session is open and returns the server's welcome.
    ///
    /// - Throws: The refusal when the server refused the session, `.unavailable` when the connection closed
    ///   first.
    @discardableResult
    public func connected() async throws -> Welcome {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { state -> Result<Welcome, ChatError>? in
                if let welcome = state.welcome, state.connectionState == .connected { return .success(welcome) }
                if let failure = state.lastFailure { return .failure(failure) }
                state.welcomeWaiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Sends a request and waits for its result.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` with the server's code when refused; `.unavailable` when not connected
    ///   or when the connection closes before the answer.
    public func request(_ request: ClientRequest) async throws -> RequestResult {
        let id = state.withLock { state -> String in
            state.nextRequestID += 1
            return "\(state.nextRequestID)"
        }
        let text = try codec.encode(ClientFrame(id: id, request))
        if let limit = state.withLock({ $0.welcome?.limits.maxFrameBytes }), text.utf8.count > limit {
            throw ChatError(.limitExceeded, "The request has \(text.utf8.count) bytes; the server accepts \(limit).")
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let failure = state.withLock { state -> ChatError? in
                    guard state.connectionState == .connected, let outgoing = state.outgoing else {
                        return ChatError(.unavailable, "The client is not connected.")
                    }
                    state.pending[id] = continuation
                    outgoing.yield(text)
                    return nil
                }
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            let continuation = state.withLock { $0.pending.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    // MARK: Receiving

    private func receive(_ text: String, helloID: String) {
        let frame: ServerFrame
        do {
            frame = try codec.decodeServerFrame(text)
        } catch {
            return
        }
        switch frame {
        case .welcome(let welcome):
            let waiters = state.withLock { state in
                state.welcome = welcome
                state.connectionState = .connected
                if state.cursor == nil { state.cursor = welcome.position }
                defer { state.welcomeWaiters = [] }
                return state.welcomeWaiters
            }
            for waiter in waiters { waiter.resume(returning: welcome) }
        case .result(let id, let result):
            state.withLock { $0.pending.removeValue(forKey: id) }?.resume(returning: result)
        case .error(let error):
            let failure = Self.chatError(error)
            if error.id == helloID {
                state.withLock { $0.refusal = failure }
            } else if let id = error.id {
                state.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: failure)
            }
        case .event(let event):
            state.withLock { state in state.cursor = max(state.cursor ?? .start, event.position) }
            eventContinuation.yield(.stored(event))
        case .synced(let synced):
            state.withLock { state in state.cursor = max(state.cursor ?? .start, synced.cursor) }
            eventContinuation.yield(.synced(synced.cursor))
        case .presence(let update):
            eventContinuation.yield(.presence(update))
        case .typing(let update):
            eventContinuation.yield(.typing(update))
        case .goodbye(let goodbye):
            eventContinuation.yield(.goodbye(goodbye))
        }
    }

    /// Fails every waiter once the connection is gone.
    private func finish(with error: ChatError) {
        let (pending, waiters) = state.withLock { state in
            state.connectionState = .disconnected
            state.outgoing = nil
            state.welcome = nil
            state.lastFailure = error
            defer {
                state.pending = [:]
                state.welcomeWaiters = []
            }
            return (Array(state.pending.values), state.welcomeWaiters)
        }
        let dropped = ChatError(.unavailable, "The connection closed before the answer arrived.")
        for continuation in pending { continuation.resume(throwing: dropped) }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    static func chatError(_ frame: ErrorFrame) -> ChatError {
        var error = ChatError(ChatError.Code(wireValue: frame.code) ?? .storageFailure, frame.message)
        error.retryAfter = frame.retryAfterMilliseconds.map { .milliseconds($0) }
        return error
    }
}

/// A flag set once, read from any task.
final class ManagedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
