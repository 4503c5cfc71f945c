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

/// Login sessions that were just revoked: one session, or every session of a user.
public struct SessionRevocation: Sendable, Hashable {
    /// Whose sessions.
    public var userID: UserID
    /// The revoked session, or `nil` for all of the user's sessions.
    public var sessionID: SessionID?

    /// Creates a revocation.
    public init(userID: UserID, sessionID: SessionID?) {
        self.userID = userID
        self.sessionID = sessionID
    }
}

/// The handlers ``AuthService/whenSessionsRevoked(_:)`` registered.
final class RevocationHandlers: Sendable {
    private let handlers = Mutex<[@Sendable (SessionRevocation) -> Void]>([])

    func add(_ handler: @escaping @Sendable (SessionRevocation) -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    func notify(_ revocation: SessionRevocation) {
        for handler in handlers.withLock({ $0 }) { handler(revocation) }
    }
}
