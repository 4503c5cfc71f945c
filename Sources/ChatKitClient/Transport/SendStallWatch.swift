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

/// Finds a socket whose sending stopped: while the app writes, it writes a heartbeat (an unsolicited pong, which
/// peers ignore, RFC 6455 5.5.3) every quarter of ``timeout`` and reports a stall when one waits ``timeout`` to be
/// taken (so a stall is found within 1.25 times ``timeout``).
///
/// Pings alone do not find this case. When the network path dies while data waits to be sent (a large send, or many,
/// then a Wi-Fi roam), the socket's send buffer stays full and every write waits, WSCore's pings too: the ping loop
/// waits on its own ping and never gets to notice the missing pong, and TCP gives up only after its retransmissions
/// (about 15 minutes with Linux's defaults).
///
/// A heartbeat is taken once the bytes waiting in the socket's channel fall below NIO's low watermark (32 KiB), so
/// on a slow uplink it waits for the frames before it to drain: ``timeout`` must leave room for the largest frame at
/// the slowest uplink served (a 256 KiB frame at 2 KiB/s takes two minutes). Only the app's writes can fill the
/// buffer (pings, pongs and close frames are tiny), so an idle connection writes no heartbeat and wakes no radio:
/// one is written at each look while an app write is in flight or ended since the last look, and at one look more
/// (waiting writes resume in no set order, so a heartbeat taken while the last write waited may have gone ahead of
/// it; the next one goes after it).
struct SendStallWatch: Sendable {
    /// How long a heartbeat may wait to be taken.
    let timeout: Duration
    /// The app's writes in flight and ended since the last look.
    let activity: SendActivity
    /// What the watch waits on (a manual clock in tests).
    let clock: ClientClock
    /// Writes one heartbeat; returns once it is taken or failed.
    let writeHeartbeat: @Sendable () async -> Void
    /// Told after each look whether it wrote a heartbeat (for tests).
    let onLook: (@Sendable (_ wroteHeartbeat: Bool) -> Void)?

    /// A watch of the socket that `outbound` writes to, on the system's clock.
    init(timeout: Duration, outbound: WebSocketOutboundWriter, activity: SendActivity) {
        self.init(
            timeout: timeout, activity: activity, clock: ClientClock(ContinuousClock()),
            writeHeartbeat: { try? await outbound.write(.pong) }
        )
    }

    init(
        timeout: Duration, activity: SendActivity, clock: ClientClock,
        writeHeartbeat: @escaping @Sendable () async -> Void, onLook: (@Sendable (Bool) -> Void)? = nil
    ) {
        self.timeout = timeout
        self.activity = activity
        self.clock = clock
        self.writeHeartbeat = writeHeartbeat
        self.onLook = onLook
    }

    /// Returns true when a heartbeat waited ``timeout``, false when the task is cancelled first (a failed write is
    /// not a stall: the socket's end is reported elsewhere).
    func untilStalled() async -> Bool {
        var wroteLastLook = false
        while true {
            do { try await clock.sleep(timeout / 4) } catch { return false }
            let wrote = activity.takeWhetherWriting()
            defer { wroteLastLook = wrote }
            guard wrote || wroteLastLook else {
                onLook?(false)
                continue
            }
            if await !heartbeatTaken() { return !Task.isCancelled }
            onLook?(true)
        }
    }

    /// Writes one heartbeat; false when it waited ``timeout`` without being taken.
    private func heartbeatTaken() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            let (writeHeartbeat, clock, timeout) = (writeHeartbeat, clock, timeout)
            group.addTask {
                await writeHeartbeat()
                return true
            }
            group.addTask {
                // Cancelled (the socket is done with): not a stall.
                (try? await clock.sleep(timeout)) == nil
            }
            let taken = await group.next() ?? true
            group.cancelAll()
            return taken
        }
    }
}

/// The app's writes on a socket: how many are in flight, and how many ended since the stall watch last looked.
final class SendActivity: Sendable {
    private let inFlight = Atomic<Int>(0)
    private let ended = Atomic<Int>(0)

    /// Runs one write of the app's, counted while it runs and once it ended.
    func counting<T>(_ write: () async throws -> T) async throws -> T {
        inFlight.add(1, ordering: .relaxed)
        defer {
            inFlight.subtract(1, ordering: .relaxed)
            ended.add(1, ordering: .relaxed)
        }
        return try await write()
    }

    /// Whether a write is in flight or ended since the last call.
    func takeWhetherWriting() -> Bool {
        let ended = ended.exchange(0, ordering: .relaxed)
        return ended > 0 || inFlight.load(ordering: .relaxed) > 0
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
