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
@testable import ChatKitServer
import Testing

/// How an HTTP route's failure that is not a ``ChatError`` is answered: only a fault of the server is a `500
/// storageFailure` (logged at error level and counted as one); a body the client did not finish sending and a
/// cancelled request were answered and counted so too, and set off storage alerts.
struct HTTPFailureAnswerTests {
    @Test func aBodyTheClientDidNotFinishSendingIsItsInvalidArgument() {
        let answer = HTTPRoutes.answer(toUnexpected: HTTPRoutes.BodyUnreadable())
        #expect(answer.code == .invalidArgument)
        #expect(answer.reason == "The body could not be read to its end.")
    }

    @Test func aCancelledRequestIsUnavailableNotAStorageFailure() {
        #expect(HTTPRoutes.answer(toUnexpected: CancellationError()).code == .unavailable)
    }

    @Test func anyOtherErrorIsTheServersFault() {
        struct Unexpected: Error {}
        let answer = HTTPRoutes.answer(toUnexpected: Unexpected())
        #expect(answer.code == .storageFailure)
        #expect(answer.reason == ChatError.storageFailureToldToClients)
    }
}
