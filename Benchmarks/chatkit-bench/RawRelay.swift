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

import ChatKitServer
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The baseline: a minimal WebSocket relay on the same stack as ChatKit's edge (SwiftNIO with NIOWebSocket's
/// upgrade, frame decoder and encoder, each socket served by a handler on its event loop with no task; the same
/// read allocator), with no auth, no storage and no JSON. The relay sends `ready` once a socket is registered,
/// then:
/// - `/raw?pair=N&side=a` is paired with `side=b` of the same N: every text frame is forwarded unchanged to the peer;
/// - `/raw?group=G&role=member` joins group G and `/raw?group=G&role=sender` broadcasts every text frame it sends to
///   every member of G, written to each member's channel (on the member's event loop, as ChatKit writes a
///   member's outbox);
/// - a member that never sends anything is an idle connection.
///
/// Text frames are written framed, past NIO's frame encoder, by the same `FramedTextWriter` as ChatKit's edge
/// uses (since the twelfth session; before, both wrote each frame's header as a buffer of its own). The frames of
/// one read go to their peer (or to each member) together, in one hand-over and one flush, as ChatKit's edge
/// writes a connection's waiting frames (since the fourteenth session; before, a hand-over and a flush per frame).
///
/// Before the eighth session the relay ran on HummingbirdWebSocket, with a reader and a writer task per socket,
/// as ChatKit's edge then did.
enum RawRelay {
    /// A socket the relay writes text frames to, from any thread: the write runs on the socket's event loop.
    private final class Sink: Sendable {
        let channel: any Channel
        private let writer: NIOLoopBound<(FramedTextWriter, ChannelHandlerContext)>

        init(context: ChannelHandlerContext) {
            channel = context.channel
            writer = NIOLoopBound((FramedTextWriter(context: context), context), eventLoop: context.eventLoop)
        }

        /// Writes `payloads` as text frames and flushes once: one hand-over to the socket's event loop and one
        /// system call for the frames of one read, as ChatKit's edge writes a connection's waiting frames.
        func send(_ payloads: [ByteBuffer]) {
            if channel.eventLoop.inEventLoop { return write(payloads) }
            channel.eventLoop.execute { self.write(payloads) }
        }

        private func write(_ payloads: [ByteBuffer]) {
            let (writer, context) = self.writer.value
            for payload in payloads { writer.write(textPayload: payload, context: context, promise: nil) }
            writer.flush(context: context)
        }
    }

    private final class Registry: Sendable {
        private struct State {
            var sides: [String: Sink] = [:]
            var groups: [String: [ObjectIdentifier: Sink]] = [:]
        }

        private let state = Mutex(State())

        func register(_ key: String, _ sink: Sink) {
            state.withLock { $0.sides[key] = sink }
        }

        func remove(_ key: String) {
            state.withLock { _ = $0.sides.removeValue(forKey: key) }
        }

        func sink(_ key: String) -> Sink? {
            state.withLock { $0.sides[key] }
        }

        func join(_ group: String, _ sink: Sink) {
            state.withLock { $0.groups[group, default: [:]][ObjectIdentifier(sink.channel)] = sink }
        }

        func leave(_ group: String, _ channel: any Channel) {
            state.withLock { _ = $0.groups[group]?.removeValue(forKey: ObjectIdentifier(channel)) }
        }

        func members(of group: String) -> [Sink] {
            state.withLock { $0.groups[group].map { Array($0.values) } ?? [] }
        }
    }

    /// What a socket is to the relay, from its URL's query.
    private enum Role {
        case side(me: String, peer: String)
        case member(group: String)
        case sender(group: String)

        init?(uri: String) {
            var query: [String: String] = [:]
            for item in uri.split(separator: "?", maxSplits: 1).dropFirst().first?.split(separator: "&") ?? [] {
                let parts = item.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { query[String(parts[0])] = String(parts[1]) }
            }
            if let group = query["group"] {
                self = query["role"] == "sender" ? .sender(group: group) : .member(group: group)
            } else if let pair = query["pair"], let side = query["side"] {
                self = .side(me: pair + "/" + side, peer: pair + "/" + (side == "a" ? "b" : "a"))
            } else {
                return nil
            }
        }
    }

    /// One socket: registers it, answers pings and closes, and relays its text frames.
    private final class RelayHandler: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        private let role: Role
        private let registry: Registry
        private var peer: Sink?
        /// The text frames of the read under way, relayed together when it completes.
        private var pending: [ByteBuffer] = []

        init(role: Role, registry: Registry) {
            self.role = role
            self.registry = registry
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let sink = Sink(context: context)
            switch role {
            case .side(let me, _): registry.register(me, sink)
            case .member(let group): registry.join(group, sink)
            case .sender: break
            }
            sink.send([context.channel.allocator.buffer(string: "ready")])
        }

        func channelInactive(context: ChannelHandlerContext) {
            switch role {
            case .side(let me, _): registry.remove(me)
            case .member(let group): registry.leave(group, context.channel)
            case .sender: break
            }
            // The peer's sink holds the peer's context and so its handler, whose sink holds this one's: let go.
            peer = nil
            context.fireChannelInactive()
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if !pending.isEmpty {
                let frames = pending
                pending = []
                switch role {
                case .side(_, let peerKey):
                    if peer == nil { peer = registry.sink(peerKey) }
                    peer?.send(frames)
                case .sender(let group):
                    for member in registry.members(of: group) { member.send(frames) }
                case .member:
                    break
                }
            }
            context.fireChannelReadComplete()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text:
                switch role {
                case .side, .sender: pending.append(frame.unmaskedData)
                case .member: break
                }
            case .ping:
                let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            case .connectionClose:
                let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(close)).whenComplete { _ in channel.close(promise: nil) }
            default:
                break
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// Runs the relay on 127.0.0.1 with a free port until the calling task is cancelled; `onListening` gets the port.
    static func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let registry = Registry()
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 22,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(Role(uri: head.uri) == nil ? nil : HTTPHeaders())
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    guard let role = Role(uri: head.uri) else { throw BenchError("No role in \(head.uri).") }
                    try channel.pipeline.syncOperations.addHandler(RelayHandler(role: role, registry: registry))
                }
            }
        )
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        await onListening(server.localAddress?.port ?? 0)
        await withTaskCancellationHandler {
            try? await server.closeFuture.get()
        } onCancel: {
            server.close(promise: nil)
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
                // A relay that fails to start ends the wait for its port instead of leaving it hanging.
                defer { continuation.finish() }
                try await RawRelay.run { continuation.yield($0) }
                return nil
            }
            defer { group.cancelAll() }
            guard let port = await ports.first(where: { _ in true }) else {
                while let _ = try await group.next() {}
                throw BenchError("The relay did not start.")
            }
            return try await body(RawTarget(url: "ws://127.0.0.1:\(port)/raw", serverPID: getpid(), label: "raw"))
        }
    }
}
