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

import HummingbirdWSClient
import Synchronization

/// Finds a socket whose sending stopped: every period it writes a heartbeat (an unsolicited pong, which peers
/// ignore, RFC 6455 5.5.3) and reports a stall when the heartbeat waits a whole period to be taken.
///
/// Pings alone do not find this case. When the network path dies while data waits to be sent (a large send, or many,
/// then a Wi-Fi roam), the socket's send buffer stays full and every write waits, WSCore's pings too: the ping loop
/// waits on its own ping and never gets to notice the missing pong, and TCP gives up only after its retransmissions
/// (about 15 minutes with Linux's defaults). A heartbeat that cannot be written within a period means nothing left
/// the socket for that long.
struct SendStallWatch: Sendable {
    /// How often a heartbeat is written, and how long it may wait.
    let period: Duration
    let outbound: WebSocketOutboundWriter

    /// Returns true when a heartbeat waited a whole period, false when the task is cancelled first (a failed write
    /// is not a stall: the socket's end is reported elsewhere).
    func untilStalled() async -> Bool {
        while true {
            do { try await Task.sleep(for: period) } catch { return false }
            if await !heartbeatTaken() { return !Task.isCancelled }
        }
    }

    /// Writes one heartbeat; false when it waited `period` without being taken.
    private func heartbeatTaken() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            let outbound = outbound
            let period = period
            group.addTask {
                try? await outbound.write(.pong)
                return true
            }
            group.addTask {
                // Cancelled (the socket is done with): not a stall.
                (try? await Task.sleep(for: period)) == nil
            }
            let taken = await group.next() ?? true
            group.cancelAll()
            return taken
        }
    }
}

/// The task of one connection attempt, cancelled from inside the attempt (the socket it opened stopped sending)
/// although the task is stored only after it started.
final class ConnectionAttempt: Sendable {
    private let state = Mutex<(task: Task<Void, any Error>?, isCancelled: Bool)>((nil, false))

    /// Stores the attempt's task, cancelling it at once if ``cancel()`` came first.
    func set(_ task: Task<Void, any Error>) {
        let cancelNow = state.withLock { state in
            state.task = task
            return state.isCancelled
        }
        if cancelNow { task.cancel() }
    }

    /// Cancels the attempt's task, which closes its socket: writes waiting on the socket end, and the socket is
    /// closed without waiting for the data it holds to be sent.
    func cancel() {
        let task = state.withLock { state in
            state.isCancelled = true
            return state.task
        }
        task?.cancel()
    }
}
