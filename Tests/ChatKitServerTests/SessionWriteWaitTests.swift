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

@testable import ChatKitServer
import ChatKitCore
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// What a session's writer (handshake, catch-up) waits for while the socket is not writable, on a channel whose
/// writability and clock the test sets.
@Suite("A session's writes to a socket that is not writable")
struct SessionWriteWaitTests {
    /// Takes every write and never completes it: a kernel that takes nothing more of what the socket writes.
    final class HeldWrites: ChannelOutboundHandler {
        typealias OutboundIn = Any

        let record: Record
        private var promises: [EventLoopPromise<Void>] = []

        init(record: Record) { self.record = record }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if let promise { promises.append(promise) }
            record.writes.add(1, ordering: .relaxed)
        }

        func flush(context: ChannelHandlerContext) {}

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            for held in promises { held.fail(ChannelError.ioOnClosedChannel) }
            promises = []
            context.close(mode: mode, promise: promise)
        }
    }

    /// What the test sees of the socket.
    final class Record: Sendable {
        let writes = Atomic<Int>(0)
        let stalls = Atomic<Int>(0)
        let closes = Atomic<Int>(0)
        let writer = Mutex<OutboundWriter?>(nil)
        /// How the session's writes ended, by frame.
        let outcomes = Mutex<[String: Result<Void, any Error>]>([:])

        func outcome(_ frame: String) -> Result<Void, any Error>? { outcomes.withLock { $0[frame] } }
    }

    /// A catch-up to a peer that stopped reading waited for its last frame to be written. The socket turns writable
    /// again once what waits in it falls below its low watermark, with part of that frame possibly unwritten: the
    /// catch-up then waited for good on a writable socket, and the write-stall timer, which runs only while the
    /// socket is unwritable, never closed it (StalledPeerTests saw it in about half of the whole suite's runs).
    /// The write now waits for the socket to be writable again, and the catch-up goes on until the socket stays
    /// unwritable, which the timer ends.
    @Test func aWriteWaitsForWritabilityNotForItsFrameAndTheStallTimerEndsTheWait() async throws {
        let record = Record()
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(HeldWrites(record: record))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        let server = ChatServer(store: InMemoryChatStore(), authenticators: [], configuration: .loadTolerant)
        let settings = ChatSocketHandler.Settings(
            maxMessageSize: 1 << 20, pingInterval: nil, closeTimeout: .seconds(5), writeStallTimeout: .seconds(1)
        )
        try await channel.testingEventLoop.submit {
            let handler = ChatSocketHandler(
                shared: ChatSocketHandler.Shared(settings: settings) { id in
                    // The stall is told with the socket's number (its log names the peer by it).
                    if id == 7 { record.stalls.add(1, ordering: .relaxed) }
                },
                id: 7,
                makeSession: { writer, onOpened, onRoom in
                    record.writer.withLock { $0 = writer }
                    return PushedSession(
                        server: server, outbound: writer, peer: "test", onOpened: onOpened, onRoom: onRoom,
                        spawn: { work in server.background.start(work) }
                    )
                },
                onClosed: { record.closes.add(1, ordering: .relaxed) }
            )
            try channel.pipeline.syncOperations.addHandler(handler)
        }.get()
        let writer = try #require(record.writer.withLock { $0 })

        /// Sets the socket's writability as NIO does, telling the pipeline.
        func setWritable(_ isWritable: Bool) async throws {
            channel.isWritable = isWritable
            try await channel.testingEventLoop.submit { channel.pipeline.fireChannelWritabilityChanged() }.get()
        }
        /// Writes `frame` as the session does, in a task of its own, noting how the write ends.
        func startWriting(_ frame: String) {
            Task {
                let outcome: Result<Void, any Error>
                do {
                    try await writer.write(frame)
                    outcome = .success(())
                } catch {
                    outcome = .failure(error)
                }
                record.outcomes.withLock { $0[frame] = outcome }
            }
        }

        // The peer's buffers are full: the catch-up's next frame waits.
        try await setWritable(false)
        startWriting("catch-up frame 1")
        try await waitUntil("the first frame to reach the socket") { record.writes.load(ordering: .relaxed) == 1 }
        // Most of what waited was written, not all of the first frame: the socket is writable again.
        try await setWritable(true)
        try await waitUntil("the first write to return once the socket is writable") {
            record.outcome("catch-up frame 1") != nil
        }
        #expect(throws: Never.self) { try record.outcome("catch-up frame 1")?.get() }

        // The next frame fills the socket again, and the peer reads nothing more.
        try await setWritable(false)
        startWriting("catch-up frame 2")
        try await waitUntil("the second frame to reach the socket") { record.writes.load(ordering: .relaxed) == 2 }
        await channel.testingEventLoop.advanceTime(by: .milliseconds(999))
        #expect(record.stalls.load(ordering: .relaxed) == 0, "closed before the write-stall timeout")
        await channel.testingEventLoop.advanceTime(by: .milliseconds(1))
        #expect(record.stalls.load(ordering: .relaxed) == 1)
        #expect(record.closes.load(ordering: .relaxed) == 1)
        // The waiting write ends with the socket, and later ones fail at once.
        try await waitUntil("the second write to end with the socket") { record.outcome("catch-up frame 2") != nil }
        #expect(throws: ConnectionClosedError.self) { try record.outcome("catch-up frame 2")?.get() }
        await #expect(throws: ConnectionClosedError.self) { try await writer.write("after the close") }
        #expect(record.writes.load(ordering: .relaxed) == 2)
    }
}
