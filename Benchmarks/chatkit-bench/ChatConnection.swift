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
import Synchronization

/// A lightweight ChatKit client: one `WireSocket` speaking the protocol with `WireCodec`, without ChatClient's
/// state. Requests that wait for their answer (setup) are decoded fully; while none waits, inbound frames are
/// only scanned and handed to `onFrame` as text, so that streaming stays cheap. Error frames nobody waits for are
/// counted.
final class ChatConnection: Sendable {
    private static let codec = WireCodec()

    private let socket: WireSocket
    private let inbox: Inbox
    /// The stream position the server's welcome gave: where a client without a cursor starts.
    let welcomePosition: StreamPosition

    /// Pending requests and unanswered errors, shared with the reading side.
    private final class Inbox: Sendable {
        let pending = Mutex<[String: CheckedContinuation<RequestResult, any Error>]>([:])
        let hasPending = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
        let lastError = Mutex<String?>(nil)
        let onFrame: @Sendable (String) -> Void

        init(onFrame: @escaping @Sendable (String) -> Void) { self.onFrame = onFrame }

        func handle(_ text: String) {
            if hasPending.load(ordering: .acquiring) > 0, FrameScan.type(of: text) != .event,
                let frame = try? ChatConnection.codec.decodeServerFrame(text)
            {
                switch frame {
                case .result(let id, let result):
                    if let continuation = take(id) {
                        continuation.resume(returning: result)
                        return
                    }
                case .error(let error):
                    if let id = error.id, let continuation = take(id) {
                        continuation.resume(throwing: BenchError("\(error.code): \(error.message)"))
                        return
                    }
                default: break
                }
            }
            if FrameScan.type(of: text) == .error {
                errors.add(1, ordering: .relaxed)
                lastError.withLock { $0 = String(text.prefix(300)) }
            }
            onFrame(text)
        }

        func take(_ id: String) -> CheckedContinuation<RequestResult, any Error>? {
            let continuation = pending.withLock { $0.removeValue(forKey: id) }
            if continuation != nil { hasPending.subtract(1, ordering: .releasing) }
            return continuation
        }

        func failAll() {
            let all = pending.withLock { pending in
                defer { pending.removeAll() }
                return Array(pending.values)
            }
            for continuation in all { continuation.resume(throwing: BenchError("The connection closed.")) }
        }
    }

    private init(socket: WireSocket, inbox: Inbox, welcomePosition: StreamPosition) {
        self.socket = socket
        self.inbox = inbox
        self.welcomePosition = welcomePosition
    }

    /// Connects and says hello; returns after the welcome. `onFrame` gets every later frame's text (including
    /// `synced`, events, and results of `send(_:)`).
    static func open(
        url: String,
        token: String,
        cursor: StreamPosition? = nil,
        onFrame: @escaping @Sendable (String) -> Void = { _ in },
        onClose: @escaping @Sendable () -> Void = {}
    ) async throws -> ChatConnection {
        let inbox = Inbox(onFrame: onFrame)
        let hello = try Self.hello(token: token, cursor: cursor)
        let socket = try await WireSocket.open(
            url: url, firstFrame: hello, onText: { inbox.handle($0) },
            onClose: {
                inbox.failAll()
                onClose()
            }
        )
        guard let position = FrameScan.welcomePosition(of: socket.firstFrame) else {
            await socket.close()
            throw BenchError("hello was refused: \(socket.firstFrame.prefix(300))")
        }
        return ChatConnection(socket: socket, inbox: inbox, welcomePosition: position)
    }

    /// Hellos without a cursor, by token: in the idle scenario a thousand users' tokens are shared by 19,000
    /// connections, and encoding each hello anew took 3 % of the generator's CPU.
    private static let hellos = Mutex<[String: String]>([:])

    private static func hello(token: String, cursor: StreamPosition?) throws -> String {
        if cursor == nil, let cached = hellos.withLock({ $0[token] }) { return cached }
        let hello = try codec.encode(ClientFrame(id: "hello", .hello(.init(token: token, cursor: cursor))))
        if cursor == nil { hellos.withLock { $0[token] = hello } }
        return hello
    }

    private let nextID = Atomic<Int>(0)

    /// How long a request's answer may take before the scenario gives up on the server.
    static let requestTimeout = Duration.seconds(60)

    /// Sends a request and waits for its result (at most ``requestTimeout``).
    func request(_ request: ClientRequest) async throws -> RequestResult {
        let id = "r\(nextID.add(1, ordering: .relaxed).newValue)"
        let text = try Self.codec.encode(ClientFrame(id: id, request))
        let inbox = inbox
        let deadline = Task {
            try await Task.sleep(for: Self.requestTimeout)
            if let continuation = inbox.pending.withLock({ $0.removeValue(forKey: id) }) {
                inbox.hasPending.subtract(1, ordering: .releasing)
                let failure = BenchError("No answer to '\(request.type)' within \(Self.requestTimeout).")
                continuation.resume(throwing: failure)
            }
        }
        defer { deadline.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            inbox.pending.withLock { $0[id] = continuation }
            inbox.hasPending.add(1, ordering: .releasing)
            Task {
                do { try await socket.write(text) } catch {
                    if let continuation = inbox.pending.withLock({ $0.removeValue(forKey: id) }) {
                        inbox.hasPending.subtract(1, ordering: .releasing)
                        continuation.resume(throwing: error)
                    }
                }
            }
        }
    }

    /// Sends a request without waiting for its answer (the answer goes to `onFrame`).
    func send(_ request: ClientRequest) async throws {
        let id = "s\(nextID.add(1, ordering: .relaxed).newValue)"
        try await socket.write(try Self.codec.encode(ClientFrame(id: id, request)))
    }

    /// Sends a message with `body` to `conversation` without waiting for the answer, with a new time-ordered client
    /// message ID, as ChatKit's clients make them.
    func sendMessage(_ body: String, to conversation: ConversationID) async throws {
        try await send(.send(.init(conversationID: conversation, clientMessageID: .timeOrdered(), body: body)))
    }

    /// Error frames no request waited for (rate limits, refused sends).
    var unansweredErrors: Int { inbox.errors.load(ordering: .relaxed) }
    var lastError: String? { inbox.lastError.withLock { $0 } }

    func close() async { await socket.close() }
    func closed() async { await socket.closed() }
    func cancel() { socket.cancel() }
}
