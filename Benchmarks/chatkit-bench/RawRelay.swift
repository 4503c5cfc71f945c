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

import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The baseline: a minimal WebSocket relay on the same stack as ChatKit's edge (Hummingbird WebSocket), with no
/// auth, no storage and no JSON. The relay sends `ready` once a socket is registered, then:
/// - `/raw?pair=N&side=a` is paired with `side=b` of the same N: every text frame is forwarded unchanged to the peer;
/// - `/raw?group=G&role=member` joins group G and `/raw?group=G&role=sender` broadcasts every text frame it sends to
///   every member of G: the frame is queued for each member, and each member's own writer task drains its queue
///   (as ChatKit's outboxes and writers do), so members are written to concurrently (fan-out);
/// - a member that never sends anything is an idle connection.
enum RawRelay {
    private final class Registry: Sendable {
        private struct State {
            var sides: [String: WebSocketOutboundWriter] = [:]
            var groups: [String: [Int: AsyncStream<String>.Continuation]] = [:]
            var nextMember = 0
        }

        private let state = Mutex(State())

        func register(_ key: String, _ writer: WebSocketOutboundWriter) {
            state.withLock { $0.sides[key] = writer }
        }

        func remove(_ key: String) {
            state.withLock { _ = $0.sides.removeValue(forKey: key) }
        }

        func writer(_ key: String) -> WebSocketOutboundWriter? {
            state.withLock { $0.sides[key] }
        }

        /// Adds a member to `group`; returns its number for ``leave(_:member:)``.
        func join(_ group: String, _ queue: AsyncStream<String>.Continuation) -> Int {
            state.withLock { state in
                state.nextMember += 1
                state.groups[group, default: [:]][state.nextMember] = queue
                return state.nextMember
            }
        }

        func leave(_ group: String, member: Int) {
            state.withLock { _ = $0.groups[group]?.removeValue(forKey: member) }
        }

        func members(of group: String) -> [AsyncStream<String>.Continuation] {
            state.withLock { $0.groups[group].map { Array($0.values) } ?? [] }
        }
    }

    /// Runs the relay on 127.0.0.1 with a free port until the calling task is cancelled; `onListening` gets the port.
    static func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let registry = Registry()
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/raw") { inbound, outbound, context in
            let query = context.request.uri.queryParameters
            if let group = query["group"].map(String.init) {
                try await serveGroup(group, isSender: query["role"] == "sender", inbound, outbound, registry)
                return
            }
            guard let pair = query["pair"].map(String.init), let side = query["side"].map(String.init) else { return }
            let me = pair + "/" + side
            let peer = pair + "/" + (side == "a" ? "b" : "a")
            registry.register(me, outbound)
            defer { registry.remove(me) }
            try await outbound.write(.text("ready"))
            var peerWriter: WebSocketOutboundWriter?
            for try await message in inbound.messages(maxSize: 1 << 24) {
                if peerWriter == nil { peerWriter = registry.writer(peer) }
                guard case .text(let text) = message, let peerWriter else { continue }
                try? await peerWriter.write(.text(text))
            }
        }
        let app = Application(
            router: Router(context: BasicRequestContext.self),
            server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .init(maxFrameSize: 1 << 22))),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), backlog: 4096),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "chatkit-bench.raw", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await ServiceGroup(services: [app], logger: app.logger).run()
    }

    /// A member's writer task drains its queue while it reads (to see the close); the sender's frames are queued
    /// for every member.
    private static func serveGroup(
        _ group: String,
        isSender: Bool,
        _ inbound: WebSocketInboundStream,
        _ outbound: WebSocketOutboundWriter,
        _ registry: Registry
    ) async throws {
        if !isSender {
            let (frames, queue) = AsyncStream.makeStream(of: String.self)
            let member = registry.join(group, queue)
            defer { registry.leave(group, member: member) }
            try await outbound.write(.text("ready"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for await frame in frames { try await outbound.write(.text(frame)) }
                }
                for try await _ in inbound.messages(maxSize: 1 << 24) {}
                queue.finish()
                tasks.cancelAll()
            }
            return
        }
        try await outbound.write(.text("ready"))
        for try await message in inbound.messages(maxSize: 1 << 24) {
            guard case .text(let text) = message else { continue }
            for member in registry.members(of: group) { member.yield(text) }
        }
    }
}

/// A raw relay to drive: where it listens, and the process it runs in.
struct RawTarget: Sendable {
    /// `ws://127.0.0.1:PORT/raw`.
    var url: String
    /// The process the relay runs in (for its CPU time and RSS).
    var serverPID: Int32
    /// `raw`, or `raw-url` for a relay in another process.
    var label: String

    /// The URL with `query` (`pair=…&side=…`, `group=…&role=…`).
    func url(_ query: String) -> String { url + "?" + query }
}

extension RawTarget {
    /// Starts a raw relay in this process, runs `body` with it, then stops it.
    static func runInProcess<T: Sendable>(_ body: @escaping @Sendable (RawTarget) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await RawRelay.run { continuation.yield($0) }
                return nil
            }
            defer { group.cancelAll() }
            guard let port = await ports.first(where: { _ in true }) else { throw BenchError("The relay did not start.") }
            return try await body(RawTarget(url: "ws://127.0.0.1:\(port)/raw", serverPID: getpid(), label: "raw"))
        }
    }
}
