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

/// The deadline for a connection's first frame, decided exactly once: either the frame arrived in time, or the
/// deadline passed and the connection is closed with the reason `timeout`.
///
/// Its timer (in the server's ``TimerQueue``) holds only this small object, and this object lets go of the
/// connection's writer as soon as the decision is made, so a deadline still pending in the queue keeps no socket
/// alive.
final class HelloDeadline: Sendable {
    /// The reason a connection that never said hello is closed with.
    static let reason = CloseReason(
        code: "timeout", message: "No 'hello' arrived in time; open the session with 'hello' first."
    )

    private enum State {
        case waiting(OutboundWriter)
        case arrived
        case expired
    }

    private let state: Mutex<State>

    init(writer: OutboundWriter) {
        state = Mutex(.waiting(writer))
    }

    /// Records that the wait for the first frame is over (it arrived, or the peer left or failed); returns `false`
    /// if the deadline had passed first (a frame is then too late: the connection is being closed).
    func stopWaiting() -> Bool {
        state.withLock { state in
            if case .expired = state { return false }
            state = .arrived
            return true
        }
    }

    /// Records that the deadline passed; returns the writer to close with ``reason`` if no frame arrived before.
    func expire() -> OutboundWriter? {
        state.withLock { state in
            guard case .waiting(let writer) = state else { return nil }
            state = .expired
            return writer
        }
    }

    /// Whether the deadline passed before the first frame.
    var hasExpired: Bool {
        state.withLock { if case .expired = $0 { true } else { false } }
    }

    /// The reason to close a connection whose session did not open with: the deadline's own, if it passed first
    /// (so that the peer sees one reason whichever close comes first), `normal` otherwise.
    var closeReasonWithoutSession: CloseReason {
        hasExpired ? Self.reason : .normal
    }
}
