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

/// One client's connection as the server engine (or the client) sees it: text frames in, text frames out.
///
/// Transports (WebSocket, in-process) adapt their sockets to this shape, so the engine never sees a socket.
public struct Connection: Sendable {
    /// Frames from the peer, in order. The stream finishes when the peer closes, and throws when the transport
    /// fails. On a client's connection it throws ``ConnectionClosedError`` with the server's reason when the server
    /// closed for a reason other than ``CloseReason/normal``; on a server's, a client that closes with a reason may
    /// end it normally (the engine takes every client's leaving alike, and the WebSocket stack ChatKit builds on
    /// does not show a client's close frame before the connection is over).
    public let inbound: AsyncThrowingStream<String, any Error>
    /// Sends frames to the peer and closes the connection.
    public let outbound: OutboundWriter
    /// A description of the peer for logs (such as its address); never a secret.
    public let peer: String

    /// Creates a connection.
    public init(inbound: AsyncThrowingStream<String, any Error>, outbound: OutboundWriter, peer: String) {
        self.inbound = inbound
        self.outbound = outbound
        self.peer = peer
    }
}

/// Writes frames to one connection's peer.
///
/// A struct of closures, so any transport can provide one. Writes on one writer must not be called
/// concurrently; the engine writes from one task per connection.
public struct OutboundWriter: Sendable {
    private let writeFrame: @Sendable (String) async throws -> Void
    private let closeConnection: @Sendable (CloseReason) async -> Void

    /// Creates a writer from a transport's write and close operations.
    public init(
        write: @escaping @Sendable (String) async throws -> Void,
        close: @escaping @Sendable (CloseReason) async -> Void
    ) {
        self.writeFrame = write
        self.closeConnection = close
    }

    /// Sends one text frame; throws when the connection is gone.
    ///
    /// A server transport's writer throws ``ConnectionClosedError`` then (whatever its socket's own error was):
    /// the engine tells a peer that left from other failures by it, and still answers the requests the peer sent
    /// before it left. `TransportConformance` checks it.
    public func write(_ frame: String) async throws { try await writeFrame(frame) }

    /// Closes the connection; the peer's inbound stream then finishes. Closing twice does nothing.
    public func close(_ reason: CloseReason) async { await closeConnection(reason) }
}

/// Why a connection is closed.
public struct CloseReason: Sendable, Hashable, CustomStringConvertible {
    /// A stable code (`normal`, `shutdown`, `slowConsumer`, `protocolError`, `unauthenticated`, `idle`, `resync`; a
    /// client closing a connection it could not write to: `writeFailed`; one whose server did not answer a request in
    /// time: `requestTimeout`).
    public var code: String
    /// A sentence for developers.
    public var message: String

    /// Creates a reason.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The peer is done.
    public static let normal = CloseReason(code: "normal", message: "Closed normally.")

    public var description: String { "\(code): \(message)" }
}

/// Accepts connections for a server until cancelled.
public protocol ServerTransport: Sendable {
    /// Accepts connections and calls `onConnection` for each, concurrently, until the calling task is cancelled.
    /// The connection is closed when `onConnection` returns.
    func serve(_ onConnection: @escaping @Sendable (Connection) async -> Void) async throws
}

/// Opens connections from a client to a server.
public protocol ClientTransport: Sendable {
    /// Opens a new connection, runs `body` with it, and closes the connection when `body` returns or throws.
    ///
    /// The connection lives exactly as long as `body`, so no socket outlives its owner.
    ///
    /// - Returns: What `body` returns.
    /// - Throws: An error when the server cannot be reached, or what `body` throws.
    func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result) async throws
        -> Result
}

/// Thrown by a write to a connection that is already closed, and by a client connection's inbound stream when the
/// server closed it for a reason other than ``CloseReason/normal`` (see ``Connection/inbound``).
public struct ConnectionClosedError: Error, Sendable, CustomStringConvertible {
    /// Why the connection was closed, when known.
    public var reason: CloseReason?
    /// Creates the error.
    public init(reason: CloseReason? = nil) { self.reason = reason }
    public var description: String { "The connection is closed" + (reason.map { " (\($0))" } ?? "") + "." }
}
