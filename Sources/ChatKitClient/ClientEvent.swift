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
    /// A user came online or went offline.
    case presence(PresenceUpdate)
    /// A user started or stopped typing.
    case typing(TypingUpdate)
    /// Catch-up after connecting is complete; later events are live.
    case synced(StreamPosition)
    /// The server said why it is closing the connection.
    case goodbye(Goodbye)
}

/// Where a ``ChatClient``'s connection stands.
public struct ConnectionState: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable {
        case disconnected, connecting, connected
    }

    private let base: Base

    /// No connection.
    public static let disconnected = ConnectionState(base: .disconnected)
    /// Connecting or waiting for the server's `welcome`.
    public static let connecting = ConnectionState(base: .connecting)
    /// The session is open.
    public static let connected = ConnectionState(base: .connected)

    public var description: String { base.rawValue }
}
