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

/// How a ``ChatClient`` reconnects after its connection ends: exponential backoff with full jitter.
///
/// The *n*th consecutive failed attempt (counting from 0) waits a random duration between zero and
/// `min(maximumDelay, initialDelay × multiplierⁿ)` ("full jitter", so a crowd of clients cut off at once does not
/// come back at once). A server's retry-after hint raises the wait to at least the hint. A session that stayed
/// open for ``resetAfter`` or longer resets the count, so the next drop retries quickly again.
///
/// ```swift
/// var configuration = ChatClient.Configuration()
/// configuration.reconnection = .exponentialBackoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(10))
/// ```
public struct ReconnectionPolicy: Sendable, Hashable {
    /// Whether the client reconnects at all; `false` for ``disabled``.
    public var isEnabled: Bool
    /// The ceiling of the first wait. Default 250 ms.
    public var initialDelay: Duration
    /// The largest ceiling any wait may have. Default 30 s.
    public var maximumDelay: Duration
    /// How much the ceiling grows after each failed attempt. Default 2.
    public var multiplier: Double
    /// How long a session must have stayed open for the backoff to start over. Default 30 s.
    public var resetAfter: Duration

    /// Reconnects with backoff from 250 ms doubling to 30 s, reset after a session of 30 s.
    public static let `default` = ReconnectionPolicy.exponentialBackoff()

    /// Never reconnects: ``ChatClient/run()`` returns (or throws) when its first session ends, as a client that
    /// manages connections itself expects.
    public static let disabled = ReconnectionPolicy(
        isEnabled: false, initialDelay: .zero, maximumDelay: .zero, multiplier: 1, resetAfter: .zero
    )

    /// Reconnects with exponential backoff and full jitter.
    ///
    /// - Parameters:
    ///   - initialDelay: The ceiling of the first wait. Zero retries at once after every failure, never backing
    ///     off (the ceilings grow from it by multiplying): against a server that refuses connections at once, a
    ///     loop as fast as the machine. Give at least a few milliseconds.
    ///   - maximumDelay: The largest ceiling of any wait.
    ///   - multiplier: How much the ceiling grows per failed attempt (at least 1).
    ///   - resetAfter: How long a session must stay open for the backoff to start over.
    /// - Returns: The policy.
    public static func exponentialBackoff(
        initialDelay: Duration = .milliseconds(250),
        maximumDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        resetAfter: Duration = .seconds(30)
    ) -> ReconnectionPolicy {
        ReconnectionPolicy(
            isEnabled: true,
            initialDelay: max(initialDelay, .zero),
            maximumDelay: max(maximumDelay, .zero),
            multiplier: max(multiplier, 1),
            resetAfter: resetAfter
        )
    }

    private init(
        isEnabled: Bool, initialDelay: Duration, maximumDelay: Duration, multiplier: Double, resetAfter: Duration
    ) {
        self.isEnabled = isEnabled
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.resetAfter = resetAfter
    }

    /// The longest wait after the failed attempt numbered `attempt` (0 for the first):
    /// `min(maximumDelay, initialDelay × multiplier^attempt)`.
    ///
    /// - Parameter attempt: How many attempts failed before this one, in a row.
    /// - Returns: The ceiling of the wait.
    public func ceiling(forAttempt attempt: Int) -> Duration {
        let initial = initialDelay / .seconds(1)
        let maximum = maximumDelay / .seconds(1)
        var grown = initial
        var step = 0
        // Stops once the cap is reached, so the loop is short whatever `attempt` is.
        while step < attempt, grown < maximum, multiplier > 1 {
            grown *= multiplier
            step += 1
        }
        return .seconds(min(grown, maximum))
    }

    /// A random wait between zero and ``ceiling(forAttempt:)``, at least `retryAfter` when the server gave one.
    ///
    /// - Parameters:
    ///   - attempt: How many attempts failed before this one, in a row.
    ///   - retryAfter: The server's hint, if any; the result is never shorter.
    ///   - generator: The source of randomness (tests pass a seeded one).
    /// - Returns: How long to wait before the next attempt.
    public func delay(
        forAttempt attempt: Int,
        retryAfter: Duration? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        let ceiling = ceiling(forAttempt: attempt) / .seconds(1)
        let jittered = Duration.seconds(ceiling > 0 ? Double.random(in: 0...ceiling, using: &generator) : 0)
        return max(jittered, retryAfter ?? .zero)
    }
}
