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

/// Runs a request again after the wait the server asks for when it refuses it for its rate limit (`limitExceeded`
/// with a retry-after), up to `attempts` times in all; any other error, or the last refusal, is thrown.
///
/// For the look-ups the chat makes to show what arrives (names, titles): a busy moment delays them instead of
/// printing an error in place of a message.
func retryingRateLimits<Result: Sendable>(
    attempts: Int = 5, _ request: @Sendable () async throws -> Result
) async throws -> Result {
    var attempt = 1
    while true {
        do {
            return try await request()
        } catch let error as ChatError where error.code == .limitExceeded && attempt < attempts {
            guard let delay = error.retryAfter else { throw error }
            try await Task.sleep(for: delay)
            attempt += 1
        }
    }
}
