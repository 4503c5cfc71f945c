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

extension ChatStoreConformance {
    /// Concurrent calls outside the message path (accounts, roles, contacts) and appends from cancelled tasks: the
    /// read-then-write races an adapter without one transaction per call would lose.
    static var raceCases: [Case] {
        [
            Case("concurrency", "20 concurrent password changes each get their own credentials version") { store in
                let alice = try await StoreFixture(store).user("alice")
                let before = try checkNotNil(try await store.credentials(of: alice), "alice's credentials").version
                let changes = try await withThrowingTaskGroup(of: (version: Int64, hash: String).self) { tasks in
                    for change in 1...20 {
                        tasks.addTask {
                            (try await store.setPasswordHash("hash-\(change)", of: alice).version, "hash-\(change)")
                        }
                    }
                    return try await tasks.reduce(into: [(version: Int64, hash: String)]()) { $0.append($1) }
                }
                try checkEqual(
                    changes.map(\.version).sorted(), Array((before + 1)...(before + 20)),
                    "the versions 20 concurrent changes returned (two alike would let a session opened with one "
                        + "password survive the other change)"
                )
                let last = try checkNotNil(changes.max { $0.version < $1.version }, "the last change")
                let stored = try checkNotNil(try await store.credentials(of: alice), "alice's credentials after")
                try checkEqual(stored.version, before + 20, "the version stored")
                try checkEqual(stored.passwordHash, last.hash, "the hash stored: the one of the highest version")
            },

            Case("concurrency", "20 concurrent sign-ups with one username make one user; the others are conflicts") {
                store in
                let outcomes = await withTaskGroup(of: (hash: String, result: Result<User, any Error>).self) { tasks in
                    for attempt in 1...20 {
                        tasks.addTask {
                            let hash = "hash-\(attempt)"
                            do {
                                return (
                                    hash,
                                    .success(try await store.createUser(NewUser(username: "alice"), passwordHash: hash))
                                )
                            } catch {
                                return (hash, .failure(error))
                            }
                        }
                    }
                    return await tasks.reduce(into: [(hash: String, result: Result<User, any Error>)]()) {
                        $0.append($1)
                    }
                }
                var winners: [(hash: String, user: User)] = []
                for outcome in outcomes {
                    switch outcome.result {
                    case .success(let user): winners.append((outcome.hash, user))
                    case .failure(let error):
                        try check(
                            (error as? ChatError)?.code == .conflict,
                            "a losing sign-up failed with \(error), not conflict"
                        )
                    }
                }
                try checkEqual(winners.count, 1, "sign-ups that succeeded")
                let winner = winners[0]
                try checkEqual(try await store.user(username: "alice")?.id, winner.user.id, "the user named alice")
                try checkEqual(
                    try await store.credentials(of: winner.user.id)?.passwordHash, winner.hash,
                    "the winner's password hash"
                )
            },

            Case("concurrency", "two owners demoting themselves at once: one is demoted, the other stays the owner") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("first", "second", "member")
                let (first, second, member) = (ids[0], ids[1], ids[2])
                for round in 1...5 {
                    let group = try await fixture.group(first, [second, member], title: "Round \(round)")
                    _ = try await store.setRole(.owner, of: second, in: group, by: first)
                    let outcomes = try await roleChangesAtOnce(store, group, [(first, first), (second, second)])
                    try checkEqual(outcomes.filter { $0 == nil }.count, 1, "round \(round): demotions that succeeded")
                    try checkEqual(
                        outcomes.compactMap { $0 }, [.conflict], "round \(round): the last owner's demotion's error"
                    )
                    let members = try await store.members(of: group, as: member)
                    try checkEqual(members.filter { $0.role == .owner }.count, 1, "round \(round): owners left")
                }
            },

            Case("concurrency", "two owners demoting each other at once: one is demoted, the other stays the owner") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("first", "second", "member")
                let (first, second, member) = (ids[0], ids[1], ids[2])
                for round in 1...5 {
                    let group = try await fixture.group(first, [second, member], title: "Round \(round)")
                    _ = try await store.setRole(.owner, of: second, in: group, by: first)
                    let outcomes = try await roleChangesAtOnce(store, group, [(second, first), (first, second)])
                    try checkEqual(outcomes.filter { $0 == nil }.count, 1, "round \(round): demotions that succeeded")
                    // The loser's call runs after its actor was demoted (only owners change roles) and would demote
                    // the last owner: either refusal will do.
                    let refusals = outcomes.compactMap { $0 }
                    try check(
                        refusals == [.forbidden] || refusals == [.conflict],
                        "round \(round): the refused demotion's errors: \(refusals)"
                    )
                    let members = try await store.members(of: group, as: member)
                    try checkEqual(members.filter { $0.role == .owner }.count, 1, "round \(round): owners left")
                }
            },

            Case("concurrency", "two users asking each other at once end as contacts, never both waiting") { store in
                let fixture = StoreFixture(store)
                for round in 1...10 {
                    let ids = try await fixture.users("asker\(round)", "other\(round)")
                    let (asker, other) = (ids[0], ids[1])
                    async let asked = store.requestContact(from: asker, to: other)
                    async let askedBack = store.requestContact(from: other, to: asker)
                    _ = try await (asked, askedBack)
                    let mine = try await store.contacts(of: asker).map(\.state)
                    let theirs = try await store.contacts(of: other).map(\.state)
                    // Whichever came second found the first's request and accepted it.
                    try checkEqual(mine, [.accepted], "round \(round): the asker's list")
                    try checkEqual(theirs, [.accepted], "round \(round): the other's list")
                }
            },

            Case("concurrency", "appends from cancelled tasks leave no seq unused and nothing half-stored") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                let outcomes = await withTaskGroup(of: (key: String, result: Result<Message, any Error>).self) {
                    tasks in
                    for number in 1...40 {
                        let key = "key-\(number)"
                        let append = Task {
                            try await fixture.send(
                                "m\(number)", from: alice, to: group, clientMessageID: .init(rawValue: key))
                        }
                        if number.isMultiple(of: 2) { append.cancel() }
                        tasks.addTask { (key, await append.result) }
                    }
                    return await tasks.reduce(into: [(key: String, result: Result<Message, any Error>)]()) {
                        $0.append($1)
                    }
                }
                let history = try await store.messages(in: group, .after(0, limit: 100), as: bob)
                try checkEqual(history.map(\.seq), Array(1...Int64(history.count)), "the seqs stored (no gap)")
                let stored = Dictionary(history.map { ($0.clientMessageID.rawValue, $0) }, uniquingKeysWith: { $1 })
                try checkEqual(stored.count, history.count, "messages per client message ID")
                for outcome in outcomes {
                    switch outcome.result {
                    case .success(let message):
                        try checkEqual(stored[outcome.key], message, "\(outcome.key): the message returned, in history")
                    case .failure(let error):
                        try check(error is CancellationError, "\(outcome.key): failed with \(error), not cancellation")
                        try check(stored[outcome.key] == nil, "\(outcome.key): stored although its append threw")
                    }
                }
            },
        ]
    }
}

/// Runs the demotions to member (user, actor) of a conversation's members at once; see
/// `errorCodesOfCallsAtOnce(_:)`.
private func roleChangesAtOnce(
    _ store: any ChatStore,
    _ conversation: ConversationID,
    _ changes: [(UserID, UserID)]
) async throws -> [ChatError.Code?] {
    try await errorCodesOfCallsAtOnce(
        changes.map { user, actor in { _ = try await store.setRole(.member, of: user, in: conversation, by: actor) } }
    )
}
