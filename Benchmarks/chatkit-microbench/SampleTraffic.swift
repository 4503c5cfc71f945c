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
import ChatKitSQLite
import Foundation

/// Realistic data for the benchmarks: a 100-byte message in a direct conversation.
struct SampleTraffic {
    let body: String
    let event: StoredEvent

    static func make() async throws -> SampleTraffic {
        let store = InMemoryChatStore()
        let conversation = try await conversation(in: store)
        let body = String(repeating: "Benchmark body, ", count: 7).prefix(100)
        _ = try await store.append(conversation.message(0, body: String(body)))
        let events = try await store.allEvents(after: .start, limit: 10)
        return SampleTraffic(body: String(body), event: events.last!)
    }

    /// A direct conversation between two new users.
    static func conversation(in store: any ChatStore) async throws -> SampleConversation {
        let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil)
        let bob = try await store.createUser(NewUser(username: "bob"), passwordHash: nil)
        let conversation = try await store.createConversation(.direct(between: alice.id, and: bob.id))
        return SampleConversation(id: conversation.id, sender: alice.id)
    }

    /// Appends `count` messages, one at a time, to a SQLite store on a new file, removed afterwards, and returns
    /// how long the appends took (opening the file, creating the schema and closing the store are not counted).
    static func appendToNewSQLiteFile(_ count: Int, body: String) async throws -> Duration {
        let path = NSTemporaryDirectory() + "chatkit-microbench-\(UUID().uuidString).sqlite"
        defer {
            // The database, its log, and the search index's file with its log.
            for suffix in ["", "-wal", "-shm", "-search", "-search-wal", "-search-shm"] {
                try? FileManager.default.removeItem(atPath: path + suffix)
            }
        }
        let store = try SQLiteChatStore(path: path)
        defer { try? store.close() }
        let conversation = try await conversation(in: store)
        let start = ContinuousClock.now
        for index in 0..<count {
            _ = try await store.append(conversation.message(index, body: body))
        }
        return ContinuousClock.now - start
    }
}

/// Where sample messages go.
struct SampleConversation {
    let id: ConversationID
    let sender: UserID

    func message(_ index: Int, body: String) -> NewMessage {
        NewMessage(conversationID: id, senderID: sender, clientMessageID: ClientMessageID(rawValue: "k-\(index)"), body: body)
    }
}
