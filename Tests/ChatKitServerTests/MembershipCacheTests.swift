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
import Testing

@testable import ChatKitServer

/// The router's cache of conversations' members.
@Suite("Routing's membership cache")
struct MembershipCacheTests {
    static func users(_ count: Int, _ prefix: String) -> Set<UserID> {
        Set((0..<count).map { UserID(rawValue: "\(prefix)-\($0)") })
    }

    @Test("the members it holds stay within their bound: large conversations do not pile up")
    func membersAreBounded() {
        var cache = MembershipCache(capacity: 100, memberCapacity: 1_000)
        for number in 0..<50 {
            cache.store(Self.users(300, "u\(number)"), for: ConversationID(rawValue: "c-\(number)"))
            #expect(cache.memberCount <= 1_000)
        }
        #expect(cache.memberCount > 0)
    }

    @Test("replacing a conversation's members counts them once; the conversation bound holds too")
    func replacingAndConversationBound() {
        var cache = MembershipCache(capacity: 3, memberCapacity: 1_000)
        let chat = ConversationID(rawValue: "c")
        cache.store(Self.users(10, "a"), for: chat)
        cache.store(Self.users(20, "b"), for: chat)
        #expect(cache.memberCount == 20)
        for number in 0..<5 { cache.store(Self.users(1, "\(number)"), for: ConversationID(rawValue: "c-\(number)")) }
        #expect(cache.memberCount <= 3 * 20)
    }
}
