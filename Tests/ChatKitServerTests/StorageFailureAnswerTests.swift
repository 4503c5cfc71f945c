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

import ChatKitClient
import ChatKitCore
@testable import ChatKitServer
import Foundation
import Testing

/// A storage failure's reason is written for the server's operator: clients get the code and a general sentence.
@Suite struct StorageFailureAnswerTests {
    /// The in-memory store, whose searches fail with an operator's reason.
    final class FailingSearchStore: ChatStoreDecorator {
        static let operatorReason = "The search index at /var/lib/chatkit/secret.sqlite is corrupt; restore it"
        let base: any ChatStore

        init(_ base: any ChatStore) { self.base = base }

        func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
            -> [SearchHit]
        {
            throw ChatError(.storageFailure, Self.operatorReason)
        }
    }

    /// An underlying error whose description quotes stored data, as GRDB's row-decoding errors do.
    struct RowError: Error, CustomStringConvertible {
        var description: String { "could not decode row [body:\"a private message\"]" }
    }

    @Test func logsNameTheUnderlyingErrorByItsTypeOnly() {
        let error = ChatError(.storageFailure, "Unexpected storage error.", underlying: RowError())
        #expect(error.loggable == "ChatError.storageFailure: Unexpected storage error. (underlying: RowError)")
        #expect(!loggableDescription(of: RowError()).contains("private"))
        #expect(error.toldToClients.reason == ChatError.storageFailureToldToClients)
    }

    @Test func aStorageFailureReachesClientsWithoutItsReason() async throws {
        let inMemory = InMemoryChatStore()
        try await LiveServer.run(store: inMemory, serverStore: FailingSearchStore(inMemory)) { live in
            let alice = try await live.signUp("alice")
            let client = try await live.connect(alice.accessToken)

            let overWebSocket = try await #require(throws: ChatError.self) { try await client.client.search("hello") }
            #expect(overWebSocket.code == .storageFailure)
            #expect(overWebSocket.reason?.contains("/var/lib") == false, "\(overWebSocket)")
            #expect(overWebSocket.reason?.contains("try again later") == true, "\(overWebSocket)")

            let overHTTP = try await live.http("GET", "/v1/search?q=hello", bearer: alice.accessToken)
            #expect(overHTTP.status == 500)
            #expect(overHTTP.code == "storageFailure")
            #expect(!String(decoding: overHTTP.data, as: UTF8.self).contains("/var/lib"))
        }
    }

    /// The in-memory store, whose searches are cancelled under them (as SQLite's are when the server stops).
    final class CancelledSearchStore: ChatStoreDecorator {
        let base: any ChatStore
        init(_ base: any ChatStore) { self.base = base }

        func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
            -> [SearchHit]
        {
            throw CancellationError()
        }
    }

    @Test func aCancelledStoreCallIsAnsweredUnavailableNotAsAStorageFailure() async throws {
        let inMemory = InMemoryChatStore()
        try await LiveServer.run(store: inMemory, serverStore: CancelledSearchStore(inMemory)) { live in
            let alice = try await live.signUp("alice")
            let client = try await live.connect(alice.accessToken)

            let overWebSocket = try await #require(throws: ChatError.self) { try await client.client.search("hello") }
            #expect(overWebSocket.code == .unavailable, "\(overWebSocket)")

            let overHTTP = try await live.http("GET", "/v1/search?q=hello", bearer: alice.accessToken)
            #expect(overHTTP.status == 503)
            #expect(overHTTP.code == "unavailable")
        }
    }
}
