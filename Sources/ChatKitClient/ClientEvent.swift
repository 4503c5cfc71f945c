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

/// Something the server pushed to a ``ChatClient``.
public enum ClientEvent: Sendable, Hashable {
    /// A stored event (message, edit, reaction, marker, membership, contact, profile), live or from catch-up.
    case stored(StoredEvent)
    /// A user came online or went offline. Sent to the connections open at the time only: see ``synced(_:)``.
    case presence(PresenceUpdate)
    /// A user started or stopped typing. Sent to the connections open at the time only: see ``synced(_:)``.
    case typing(TypingUpdate)
    /// Catch-up after connecting is complete; later events are live.
    ///
    /// Presence and typing are not stored: a contact who went offline, or stopped typing, while this client was
    /// disconnected is not told again. At each `synced`, show everyone offline and clear typing indicators; the
    /// server then sends a ``presence(_:)`` for each contact online now (right after `synced`).
    case synced(StreamPosition)
    /// The server said why it is closing the connection.
    case goodbye(Goodbye)
    /// The server no longer has the events up to this client's cursor: its database was restored from a backup or
    /// lost its newest commits (a power loss with SQLite's `synchronous = normal`). Events this client received
    /// after the position may be gone from the server, and a conversation may give their seqs to new messages. The
    /// client goes on from the position (catch-up follows, then ``synced(_:)``); reload what the app shows from the
    /// server (conversations, history, markers) rather than trusting what it kept.
    case rewound(StreamPosition)
}

/// Where a ``ChatClient``'s connection stands.
///
/// Observe it with ``ChatClient/connectionStateUpdates()``, or read ``ChatClient/connectionState``.
public struct ConnectionState: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable {
        case disconnected, connecting, connected, waitingToReconnect
    }

    private let base: Base

    /// How long the client waits before its next attempt, for ``waitingToReconnect(after:)``; `nil` otherwise.
    public let reconnectDelay: Duration?

    private init(base: Base, reconnectDelay: Duration? = nil) {
        self.base = base
        self.reconnectDelay = reconnectDelay
    }

    /// No connection, and none under way: the client is not running, or gave up.
    public static let disconnected = ConnectionState(base: .disconnected)
    /// Connecting or waiting for the server's `welcome`.
    public static let connecting = ConnectionState(base: .connecting)
    /// The session is open.
    public static let connected = ConnectionState(base: .connected)

    /// The connection ended and the client tries again after `delay`.
    ///
    /// - Parameter delay: How long the client waits before connecting again.
    /// - Returns: The state.
    public static func waitingToReconnect(after delay: Duration) -> ConnectionState {
        ConnectionState(base: .waitingToReconnect, reconnectDelay: delay)
    }

    /// Whether this is ``waitingToReconnect(after:)``, whatever the delay.
    public var isWaitingToReconnect: Bool { base == .waitingToReconnect }

    public var description: String {
        if let reconnectDelay { return "\(base.rawValue) (\(reconnectDelay))" }
        return base.rawValue
    }
}
