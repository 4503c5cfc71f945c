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
import NIOCore
import NIOWebSocket
import Synchronization

/// One upgraded WebSocket served from its channel's event loop, with no task of its own.
///
/// NIO's frame decoder and encoder sit before it. Inbound text (or UTF-8 binary) messages, fragmented or not, go
/// to a ``PushedSession``; pings are answered, pongs noted, and a close frame answered before the socket closes.
/// Outbound, the handler writes the session's outbox whenever it has frames and the socket is writable, so a
/// slow peer leaves frames in the outbox, where its capacity bounds them, not in the socket's buffer. While the
/// session has many frames waiting to be answered, the handler stops reading from the socket.
///
/// Other threads reach it through the ``OutboundWriter`` it makes (``makeWriter(context:)``), whose calls hop to
/// its event loop.
final class ChatSocketHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// The socket's limits and timings.
    struct Settings: Sendable {
        /// The largest inbound message, all fragments together; a larger one closes the socket with code 1009.
        var maxMessageSize: Int
        /// How often to ping; a peer that sent nothing since the last ping (not even the pong) is disconnected.
        var pingInterval: TimeAmount?
        /// How long to wait for the peer's close frame after sending ours.
        var closeTimeout: TimeAmount
        /// How long the socket may stay unwritable (the peer reads nothing of what waits for it) before it is
        /// closed outright; `nil` waits for as long as the peer stays.
        var writeStallTimeout: TimeAmount? = nil
    }

    /// What the sockets of one run of a transport share: its settings and what to do when one stalls (tied to that
    /// run's server). One object for all of them: each idle connection holds a reference instead of a copy of the
    /// settings and a closure of its own (about 110 bytes per connection).
    final class Shared: Sendable {
        let settings: Settings
        /// Called with the socket's ``ChatSocketHandler/id`` when it is closed for staying unwritable
        /// (``Settings/writeStallTimeout``), before it closes (the transport logs it).
        let onWriteStalled: @Sendable (_ id: Int) -> Void

        init(settings: Settings, onWriteStalled: @escaping @Sendable (_ id: Int) -> Void = { _ in }) {
            self.settings = settings
            self.onWriteStalled = onWriteStalled
        }
    }

    /// Makes the session a socket serves, given the writer to the socket and the socket's callbacks; `nil` when
    /// the server no longer takes sockets (shutting down): the socket is then closed with the reason `shutdown`.
    typealias SessionMaker = @Sendable (
        _ writer: OutboundWriter, _ onOpened: @escaping @Sendable (Outbox) -> Void,
        _ onRoom: @escaping @Sendable () -> Void
    ) -> PushedSession?

    /// Why a socket that arrives while the server is shutting down is closed.
    static let shutdown = CloseReason(code: "shutdown", message: "The server is shutting down; reconnect later.")

    /// Writes handed to the event loop and not yet run, above which a session's write waits for the loop.
    static let maximumWritesInFlight = 256
    /// Bytes of frames handed to the event loop and not yet run, above which a session's write waits for the loop.
    static let maximumBytesInFlight = 256 * 1024

    /// The most bytes of frames taken from the outbox at a time; more are taken only while the socket stays
    /// writable, so that what a slow peer has not read stays in the outbox, under its byte bound.
    static let writeChunkBytes = 256 * 1024

    /// What the session's writer reads without hopping to the event loop.
    private final class Flags: Sendable {
        /// The socket takes more writes without queueing them (NIO's writability).
        let isWritable = Atomic<Bool>(true)
        /// A close frame was sent, or the socket closed: writes fail.
        let isClosing = Atomic<Bool>(false)
        /// Writes handed to the event loop without waiting, not yet run.
        let inFlight = WriteBudget(
            maximumWrites: ChatSocketHandler.maximumWritesInFlight, maximumBytes: ChatSocketHandler.maximumBytesInFlight
        )
    }

    private let shared: Shared
    /// The socket's number in its transport, for the transport's callbacks.
    let id: Int
    private let flags = Flags()
    private let makeSession: SessionMaker
    private let onClosed: @Sendable () -> Void
    private let onFreed: @Sendable () -> Void
    private var settings: Settings { shared.settings }
    private var context: ChannelHandlerContext?
    /// Writes text frames framed, past NIO's encoder.
    private var textWriter: FramedTextWriter?
    private var session: PushedSession?
    private var outbox: Outbox?
    /// The fragments of a message still arriving.
    private var fragments: ByteBuffer?
    /// Whether the message arriving in fragments is text (else binary).
    private var fragmentsAreText = false
    /// The session has too many frames to answer: reads wait.
    private var isReadingPaused = false
    private var hasPendingRead = false
    private var isFlushScheduled = false
    /// The payload of the latest ping not answered yet, kept while the socket is not writable.
    private var pendingPong: ByteBuffer?
    /// A close frame was sent: nothing more is written.
    private var isCloseSent = false
    private var isClosed = false
    private var closeTimeout: Scheduled<Void>?
    /// Closes the socket if it stays unwritable for ``Settings/writeStallTimeout``.
    private var writeStall: Scheduled<Void>?
    /// Session writes made while the socket was not writable, waiting until it is again (``writeForSession(_:)``).
    private var writabilityWaiters: [EventLoopPromise<Void>] = []
    private var pinger: RepeatedTask?
    /// Nothing arrived since the last ping.
    private var isAwaitingPeer = false
    /// Reads were paused at some time since the last ping: the peer's answer may have waited unread.
    private var wasPausedSinceLastPing = false

    /// - Parameters:
    ///   - shared: Limits, timings and the stall callback, shared by the transport's sockets.
    ///   - id: The socket's number in its transport (passed to `shared`'s callback).
    ///   - makeSession: Makes the session, once the handler is in the pipeline.
    ///   - onClosed: Called once when the socket has closed.
    ///   - onFreed: Called when the handler is freed (a transport counts its handlers, to show none leaks).
    init(
        shared: Shared,
        id: Int,
        makeSession: @escaping SessionMaker,
        onClosed: @escaping @Sendable () -> Void,
        onFreed: @escaping @Sendable () -> Void = {}
    ) {
        self.shared = shared
        self.id = id
        self.makeSession = makeSession
        self.onClosed = onClosed
        self.onFreed = onFreed
    }

    deinit { onFreed() }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        textWriter = FramedTextWriter(context: context)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        session = makeSession(
            makeWriter(context: context),
            { outbox in eventLoop.execute { handler.value.attach(outbox) } },
            { eventLoop.execute { handler.value.resumeReading() } }
        )
        guard session != nil else {
            return closeForSession(Self.shutdown)
        }
        flags.isWritable.store(context.channel.isWritable, ordering: .relaxed)
        if !context.channel.isWritable { startWriteStallTimer(context: context) }
        if let interval = settings.pingInterval {
            pinger = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                handler.value.ping()
            }
        }
        if !context.channel.isActive { closed() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closed()
        self.context = nil
        textWriter = nil
    }

    /// The socket is gone: the session finishes and the timers stop.
    private func closed() {
        guard !isClosed else { return }
        isClosed = true
        flags.isClosing.store(true, ordering: .relaxed)
        pinger?.cancel()
        pinger = nil
        closeTimeout?.cancel()
        closeTimeout = nil
        writeStall?.cancel()
        writeStall = nil
        endWritabilityWaits { $0.fail(ConnectionClosedError()) }
        fragments = nil
        pendingPong = nil
        // The session (and the outbox, through the session's writer) hold this handler until the session
        // finishes; let go of both here, or neither would ever be freed.
        session?.inboundEnded()
        session = nil
        outbox = nil
        onClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Protocol errors were answered with a close frame by NIO's handler before this one; anything else is the
        // connection failing.
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The peer will send nothing more.
            session?.inboundEnded()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        isAwaitingPeer = false
        guard !isClosed else { return }
        guard frame.maskKey != nil else {
            return fail(code: .protocolError, "Frames from a client must be masked.")
        }
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            return fail(code: .protocolError, "No extension was negotiated; the reserved bits must be clear.")
        }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else {
                return fail(code: .protocolError, "A new message began before the last one ended.")
            }
            if frame.fin, frame.opcode == .text, let maskKey = frame.maskKey {
                // The common case, a whole text message in one frame: unmasked straight into its text.
                guard checkMessageSize(frame.data.readableBytes), !isCloseSent, session != nil else { return }
                guard let text = MaskedText.string(frame.data, maskKey: maskKey) else {
                    return fail(code: .dataInconsistentWithMessage, "A text message must be UTF-8.")
                }
                deliver(text)
            } else if frame.fin {
                deliver(frame.unmaskedData, isText: frame.opcode == .text)
            } else {
                fragments = frame.unmaskedData
                fragmentsAreText = frame.opcode == .text
                checkMessageSize(fragments?.readableBytes ?? 0)
            }
        case .continuation:
            guard var buffer = fragments else {
                return fail(code: .protocolError, "A continuation frame arrived without a message to continue.")
            }
            fragments = nil
            var data = frame.unmaskedData
            buffer.writeBuffer(&data)
            guard checkMessageSize(buffer.readableBytes) else { return }
            if frame.fin { deliver(buffer, isText: fragmentsAreText) } else { fragments = buffer }
        case .ping:
            guard !isCloseSent else { return }
            // A peer may be answered for the latest of several pings only (RFC 6455 5.5.3). While the peer does not
            // read (the socket is not writable), only the latest one waits for its answer: a flood of pings from a
            // peer that reads nothing must not pile up pongs in memory.
            pendingPong = frame.unmaskedData
            if context.channel.isWritable { writePendingPong(context: context) }
        case .pong:
            break
        case .connectionClose:
            session?.inboundEnded()
            if isCloseSent {
                context.close(promise: nil)
            } else {
                // Answer with the peer's own code when it is one a peer may send (RFC 6455 7.4), then close.
                var payload = frame.unmaskedData
                switch (payload.readableBytes, payload.readInteger(as: UInt16.self)) {
                case (0, _):
                    sendClose(code: .normalClosure, text: "", isAnswer: true)
                case (_, let code?) where Self.isSendable(closeCode: code):
                    sendClose(code: WebSocketErrorCode(codeNumber: Int(code)), text: "", isAnswer: true)
                default:
                    sendClose(code: .protocolError, text: "Invalid close frame.", isAnswer: true)
                }
            }
        default:
            fail(code: .protocolError, "Unknown frame type.")
        }
    }

    /// Closes with code 1009 when a message is over ``Settings/maxMessageSize``; `false` if it was.
    @discardableResult
    private func checkMessageSize(_ size: Int) -> Bool {
        guard size > settings.maxMessageSize else { return true }
        fragments = nil
        fail(code: .messageTooLarge, "The message is larger than \(settings.maxMessageSize) bytes.")
        return false
    }

    /// Hands a whole message to the session. A text message must be UTF-8 (RFC 6455 8.1); a binary one is read
    /// as UTF-8 text, invalid bytes replaced, so that it fails to decode and is answered in-band.
    private func deliver(_ buffer: ByteBuffer, isText: Bool) {
        guard checkMessageSize(buffer.readableBytes), !isCloseSent, session != nil else { return }
        let text: String
        if isText {
            guard
                let valid = buffer.withUnsafeReadableBytes({ ValidUTF8.string($0.assumingMemoryBound(to: UInt8.self)) })
            else {
                return fail(code: .dataInconsistentWithMessage, "A text message must be UTF-8.")
            }
            text = valid
        } else {
            text = String(buffer: buffer)
        }
        deliver(text)
    }

    /// Hands a whole text message to the session; stops reading while the session has too many waiting.
    private func deliver(_ text: String) {
        guard !isCloseSent, let session else { return }
        if !session.received(text) {
            isReadingPaused = true
            wasPausedSinceLastPing = true
        }
    }

    /// Whether a peer may send `code` in a close frame (RFC 6455 7.4.1 and 7.4.2).
    private static func isSendable(closeCode code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// Closes the socket after a protocol error of the peer's.
    private func fail(code: WebSocketErrorCode, _ text: String) {
        session?.inboundEnded()
        sendClose(code: code, text: text)
    }

    func read(context: ChannelHandlerContext) {
        if isReadingPaused {
            hasPendingRead = true
        } else {
            context.read()
        }
    }

    /// The session caught up: reads go on.
    private func resumeReading() {
        isReadingPaused = false
        guard hasPendingRead, let context else { return }
        hasPendingRead = false
        context.read()
    }

    // MARK: Writing

    /// Writes the session's outbox from now on.
    private func attach(_ outbox: Outbox) {
        // Once closed, holding the outbox would keep the handler alive through it (see `closed()`).
        guard !isClosed else { return }
        self.outbox = outbox
        writeOutbox()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        flags.isWritable.store(context.channel.isWritable, ordering: .relaxed)
        if context.channel.isWritable {
            writeStall?.cancel()
            writeStall = nil
            endWritabilityWaits { $0.succeed() }
            writePendingPong(context: context)
            writeOutbox()
        } else {
            startWriteStallTimer(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Ends the waits of the session's writes for writability (``writeForSession(_:)``) with `end`.
    private func endWritabilityWaits(_ end: (EventLoopPromise<Void>) -> Void) {
        let waiters = writabilityWaiters
        writabilityWaiters = []
        for waiter in waiters { end(waiter) }
    }

    /// Starts the timer that closes the socket if it stays unwritable for ``Settings/writeStallTimeout``.
    ///
    /// Pings do not find such a peer: one that sends its own pings, or pongs, without reading what the server
    /// writes, looks alive. What it has not read is bounded (the outbox's bytes, a catch-up's page), but a
    /// catch-up waits for it, holding that page, for as long as the socket stays open.
    private func startWriteStallTimer(context: ChannelHandlerContext) {
        guard writeStall == nil, !isClosed, let timeout = settings.writeStallTimeout else { return }
        let channel = context.channel
        let (shared, id) = (shared, id)
        // Closed outright: a close frame would wait behind the data the peer does not read.
        writeStall = context.eventLoop.scheduleTask(in: timeout) {
            shared.onWriteStalled(id)
            channel.close(promise: nil)
        }
    }

    /// Writes what the outbox holds while the socket is writable, then asks the outbox to call back when it has
    /// more; while the socket is not writable, its writability change calls this again.
    private func writeOutbox() {
        guard let context, let outbox, !isCloseSent else { return }
        var wrote = false
        while context.channel.isWritable {
            guard let frames = outbox.take(upToBytes: Self.writeChunkBytes) else { break }
            guard !frames.isEmpty else {
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let eventLoop = context.eventLoop
                outbox.whenReady { eventLoop.execute { handler.value.writeOutbox() } }
                break
            }
            textWriter?.write(frames, context: context)
            wrote = true
        }
        if wrote { context.flush() }
    }

    /// Answers the latest ping not answered yet, if any.
    private func writePendingPong(context: ChannelHandlerContext) {
        guard let payload = pendingPong, !isCloseSent else { return }
        pendingPong = nil
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        scheduleFlush(context: context)
    }

    private func write(_ text: String, context: ChannelHandlerContext) {
        // Set with the context in `handlerAdded` and cleared with it in `handlerRemoved`.
        textWriter?.write(text, context: context, promise: nil)
    }

    /// Flushes once the event loop has run what is queued on it, so frames written meanwhile share a system call.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !isFlushScheduled else { return }
        isFlushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = handler.value
            handler.isFlushScheduled = false
            handler.context?.flush()
        }
    }

    /// Writes one frame for the session (handshake, catch-up, refusals). The returned future succeeds at once if
    /// the socket is writable, and once it is writable again if not, so a writer that awaits it waits for a slow
    /// peer; `nil` once the socket is closing.
    ///
    /// It does not wait for the frame itself to be written: the socket turns writable again when what waits in it
    /// falls below its low watermark, which can be with part of this frame still unwritten. Had the writer waited
    /// for that part, while nothing else was written to turn the socket unwritable again, a peer that reads
    /// nothing more would have held the catch-up for good, with no write-stall timer running to close it.
    private func writeForSession(_ text: String) -> EventLoopFuture<Void>? {
        guard let context, !isCloseSent, !isClosed else { return nil }
        let isWritable = context.channel.isWritable
        write(text, context: context)
        scheduleFlush(context: context)
        guard !isWritable else { return context.eventLoop.makeSucceededVoidFuture() }
        let writable = context.eventLoop.makePromise(of: Void.self)
        writabilityWaiters.append(writable)
        return writable.futureResult
    }

    /// Writes what the outbox still holds, then the close frame; the socket closes when the peer answers it or
    /// after ``Settings/closeTimeout``.
    private func closeForSession(_ reason: CloseReason) {
        guard let context, !isCloseSent, !isClosed else { return }
        if let outbox {
            while let frames = outbox.take(), !frames.isEmpty { textWriter?.write(frames, context: context) }
        }
        sendClose(code: WebSocketCloseCodes.code(for: reason), text: WebSocketCloseCodes.text(for: reason))
    }

    /// Sends a close frame. The socket closes when the peer answers it, or once it is written if it is the answer
    /// (`isAnswer`) to the peer's, and after ``Settings/closeTimeout`` in any case. Reads go on, to see the answer.
    private func sendClose(code: WebSocketErrorCode, text: String, isAnswer: Bool = false) {
        guard let context, !isCloseSent, !isClosed else { return }
        isCloseSent = true
        flags.isClosing.store(true, ordering: .relaxed)
        var data = context.channel.allocator.buffer(capacity: 2 + text.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(text)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)))
            .whenComplete { result in
                if case .failure = result {
                    channel.close(promise: nil)
                } else if isAnswer {
                    channel.close(promise: nil)
                }
            }
        closeTimeout = context.eventLoop.scheduleTask(in: settings.closeTimeout) { channel.close(promise: nil) }
        resumeReading()
    }

    /// Pings the peer, or closes the socket if nothing arrived since the last ping (unless this server paused the
    /// reads meanwhile: the peer's answer may have waited unread).
    private func ping() {
        guard let context, !isCloseSent else { return }
        let wasPaused = isReadingPaused || wasPausedSinceLastPing
        wasPausedSinceLastPing = false
        if isAwaitingPeer, !wasPaused {
            let reason = CloseReason(code: "idle", message: "No answer to the server's pings; reconnect.")
            session?.inboundEnded()
            sendClose(code: WebSocketCloseCodes.code(for: reason), text: WebSocketCloseCodes.text(for: reason))
            return
        }
        isAwaitingPeer = true
        var data = context.channel.allocator.buffer(capacity: 4)
        data.writeString("ping")
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: data)), promise: nil)
        scheduleFlush(context: context)
    }

    /// The writer the session uses for the handshake and catch-up. While the socket is writable a write is handed
    /// to the event loop without waiting for it (frames keep their order: the loop runs what it is given in
    /// order); while it is not, the write waits until it is writable again, so a catch-up to a slow peer waits
    /// for it. Waiting for every frame made a backlog of 10,000 take four times as long.
    private func makeWriter(context: ChannelHandlerContext) -> OutboundWriter {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let flags = flags
        return OutboundWriter(
            write: { text in
                guard !flags.isClosing.load(ordering: .relaxed) else { throw ConnectionClosedError() }
                let size = text.utf8.count
                guard flags.isWritable.load(ordering: .relaxed), flags.inFlight.admit(size: size) else {
                    // Waits for the writes handed over before this one, and for the peer if it is slow.
                    do {
                        return try await eventLoop.flatSubmit {
                            handler.value.writeForSession(text) ?? eventLoop.makeFailedFuture(ConnectionClosedError())
                        }.get()
                    } catch {
                        throw ConnectionClosedError()
                    }
                }
                eventLoop.execute {
                    flags.inFlight.release(size: size)
                    _ = handler.value.writeForSession(text)
                }
            },
            close: { reason in
                try? await eventLoop.submit { handler.value.closeForSession(reason) }.get()
            }
        )
    }
}
