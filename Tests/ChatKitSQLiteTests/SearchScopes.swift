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
import ChatKitTesting

@testable import ChatKitSQLite

/// A store's users and conversations for comparing the ways a search finds its candidates: alice, bob, carol and
/// dave; a big group (alice, bob, dave), a small group (alice, carol) and a direct conversation (bob, carol); 400
/// messages of ``ScopeScanTests/words`` interleaved among them, so that each scope's rows lie among the others';
/// one message edited and one deleted; the search index up to date.
struct SearchScopes {
    let alice: UserID, bob: UserID, carol: UserID, dave: UserID
    let big: ConversationID, small: ConversationID, direct: ConversationID

    /// The configuration of a store at `path` whose searches take none of the ways a scope makes cheaper: the
    /// plain walk, as the reference.
    static func plainWalk(_ path: String) -> SQLiteChatStore.Configuration {
        var configuration = SQLiteChatStore.Configuration(path: path)
        configuration.searchWays.scopeFilter.isEnabled = false
        configuration.searchWays.scopedWalk = .neverWalk
        configuration.searchWays.scopeScan.messageLimit = 0
        return configuration
    }

    init(_ store: SQLiteChatStore) async throws {
        let fixture = StoreFixture(store)
        (alice, bob, carol, dave) = (
            try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol"),
            try await fixture.user("dave")
        )
        big = try await fixture.group(alice, [bob, dave], title: "Big")
        small = try await fixture.group(alice, [carol], title: "Small")
        direct = try await fixture.direct(bob, carol)
        for index in 0..<400 {
            let (sender, conversation) =
                switch index % 8 {
                case 0: (carol, small)
                case 1: (bob, direct)
                default: (index % 2 == 0 ? alice : bob, big)
                }
            try await fixture.send(ScopeScanTests.body(index, count: 2 + index % 5), from: sender, to: conversation)
        }
        let edited = try await fixture.send("apple to be edited", from: carol, to: small)
        _ = try await store.editMessage(edited.id, body: "grape after the edit", by: carol)
        let deleted = try await fixture.send("apple to be deleted", from: carol, to: small)
        _ = try await store.deleteMessage(deleted.id, by: carol)
        try await store.searchIndex.catchUp()
    }
}
