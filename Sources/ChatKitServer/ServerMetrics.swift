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
import CoreMetrics
import Metrics

/// The engine's metrics, reported through swift-metrics.
///
/// | Name | Kind | What it counts |
/// |---|---|---|
/// | `chatkit_connections` | gauge | open sessions (WebSocket or in-process), plus long polls while they wait |
/// | `chatkit_messages_total` | counter | messages accepted (`send`; an idempotent resend counts again) |
/// | `chatkit_deliveries_total` | counter | stored events queued for a connection (one per receiving connection) |
/// | `chatkit_errors_total{code}` | counter | errors answered to clients, by ``ChatKitCore/ChatError/Code`` |
/// | `chatkit_store_seconds{operation}` | timer | time the store took: `append`, `write` (other changes), `read` |
/// | `chatkit_send_ack_seconds` | timer | from a `send` frame's arrival (over HTTP: at the engine) to its result |
/// | `chatkit_routing_skips_total` | counter | times routing gave up on events it could not route (alert on any) |
/// | `chatkit_write_stall_closes_total` | counter | WebSockets closed for staying unwritable (peers reading nothing) |
///
/// Names follow Prometheus conventions; with swift-prometheus, timers become histograms of seconds.
struct ServerMetrics: Sendable {
    /// What a store call did, for `chatkit_store_seconds`.
    enum StoreOperation: String, Sendable, CaseIterable {
        case append, write, read
    }

    private let connections: Gauge
    private let messages: Counter
    private let deliveries: Counter
    private let errors: [ChatError.Code: Counter]
    private let storeTimers: [StoreOperation: Timer]
    private let sendAck: Timer
    private let routingSkips: Counter
    private let writeStallCloses: Counter

    /// Creates the metrics with `factory`, or with the process-wide `MetricsSystem` factory when `nil`.
    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        connections = Gauge(label: "chatkit_connections", factory: factory)
        messages = Counter(label: "chatkit_messages_total", factory: factory)
        deliveries = Counter(label: "chatkit_deliveries_total", factory: factory)
        errors = Dictionary(
            uniqueKeysWithValues: Self.codes.map { code in
                (code, Counter(label: "chatkit_errors_total", dimensions: [("code", "\(code)")], factory: factory))
            }
        )
        storeTimers = Dictionary(
            uniqueKeysWithValues: StoreOperation.allCases.map { operation in
                (
                    operation,
                    Timer(
                        label: "chatkit_store_seconds", dimensions: [("operation", operation.rawValue)],
                        factory: factory
                    )
                )
            }
        )
        sendAck = Timer(label: "chatkit_send_ack_seconds", factory: factory)
        routingSkips = Counter(label: "chatkit_routing_skips_total", factory: factory)
        writeStallCloses = Counter(label: "chatkit_write_stall_closes_total", factory: factory)
    }

    private static let codes: [ChatError.Code] = [
        .notFound, .conflict, .unauthenticated, .forbidden, .invalidArgument, .limitExceeded, .storageFailure,
        .unavailable,
    ]

    func connectionsChanged(to count: Int) { connections.record(count) }

    func messageAccepted() { messages.increment() }

    func delivered(_ count: Int) {
        if count > 0 { deliveries.increment(by: count) }
    }

    func errorAnswered(_ code: ChatError.Code) { errors[code]?.increment() }

    func storeTook(_ duration: Duration, _ operation: StoreOperation) {
        storeTimers[operation]?.record(duration: duration)
    }

    func sendAcknowledged(after duration: Duration) { sendAck.record(duration: duration) }

    func routingSkipped() { routingSkips.increment() }

    func writeStalled() { writeStallCloses.increment() }
}
