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
import Foundation

extension ChatStoreConformance {
    static var sessionCases: [Case] {
        [
            Case("sessions", "a created session is stored as given") { store in
                let alice = try await StoreFixture(store).user("alice")
                var session = makeSession(for: alice)
                session.credentialsVersion = 3
                try await store.createSession(session)
                let stored = try checkNotNil(try await store.session(session.id), "the stored session")
                try checkEqual(stored.userID, alice, "user")
                try checkEqual(stored.refreshTokenHash, "hash-1", "refresh token hash")
                try check(stored.revokedAt == nil, "a new session is revoked")
                try check(stored.refreshedAt == nil, "a new session was refreshed")
                // The refresh check reads `expiresAt`.
                try check(isSameTime(stored.expiresAt, session.expiresAt), "expiresAt read back as \(stored.expiresAt)")
                try check(isSameTime(stored.createdAt, session.createdAt), "createdAt read back as \(stored.createdAt)")
                // Kept, or not at all (`nil`: the refresh check of a password changed since is then off).
                try check(
                    stored.credentialsVersion == 3 || stored.credentialsVersion == nil,
                    "credentials version \(String(describing: stored.credentialsVersion)) read back for 3"
                )
                try checkEqual(try await store.session("no-such-session"), nil, "an unknown session")
            },
            Case("sessions", "sessions need an existing user and a fresh ID") { store in
                let alice = try await StoreFixture(store).user("alice")
                try await checkThrows(.notFound, "a session of an unknown user") {
                    try await store.createSession(makeSession(for: "nobody"))
                }
                let session = makeSession(for: alice)
                try await store.createSession(session)
                try await checkThrows(.conflict, "a second session with the same ID") {
                    try await store.createSession(session)
                }
            },
            Case("sessions", "rotation replaces the refresh token only from the current one") { store in
                let alice = try await StoreFixture(store).user("alice")
                let session = makeSession(for: alice)
                try await store.createSession(session)
                let later = session.expiresAt.addingTimeInterval(3600)
                let before = Date()
                let rotated = try await store.rotateRefreshToken(of: session.id, from: "hash-1", to: "hash-2", expiresAt: later)
                // Kept or not (`nil`); kept, it is the store's time of the rotation (this suite's stores keep the
                // system clock).
                if let refreshedAt = rotated.refreshedAt {
                    try check(abs(refreshedAt.timeIntervalSince(before)) < 60, "refreshedAt is not the rotation's time")
                    let read = try await store.session(session.id)?.refreshedAt
                    let isSame = read.map { abs($0.timeIntervalSince(refreshedAt)) < 0.002 } ?? false
                    try check(isSame, "refreshedAt as read")
                }
                try checkEqual(rotated.refreshTokenHash, "hash-2", "hash after rotation")
                try check(abs(rotated.expiresAt.timeIntervalSince(later)) < 0.002, "expiry after rotation")
                let again = try await store.rotateRefreshToken(of: session.id, from: "hash-2", to: "hash-3", expiresAt: later)
                try checkEqual(again.refreshTokenHash, "hash-3", "hash after a second rotation")
            },
            Case("sessions", "reusing a rotated refresh token revokes the session") { store in
                let alice = try await StoreFixture(store).user("alice")
                let session = makeSession(for: alice)
                try await store.createSession(session)
                _ = try await store.rotateRefreshToken(of: session.id, from: "hash-1", to: "hash-2", expiresAt: session.expiresAt)
                try await checkThrows(.conflict, "rotation from an already rotated token") {
                    try await store.rotateRefreshToken(of: session.id, from: "hash-1", to: "evil", expiresAt: session.expiresAt)
                }
                try check(try await store.session(session.id)?.revokedAt != nil, "the session is not revoked after reuse")
                try await checkThrows(.notFound, "rotation of a revoked session, even with the current token") {
                    try await store.rotateRefreshToken(of: session.id, from: "hash-2", to: "hash-3", expiresAt: session.expiresAt)
                }
            },
            Case("sessions", "the same rotation repeated returns the session as it was, not revoked") { store in
                let alice = try await StoreFixture(store).user("alice")
                let session = makeSession(for: alice)
                try await store.createSession(session)
                let later = session.expiresAt.addingTimeInterval(3600)
                _ = try await store.rotateRefreshToken(of: session.id, from: "hash-1", to: "hash-2", expiresAt: later)
                let first = try await store.session(session.id)
                let repeated = try await store.rotateRefreshToken(
                    of: session.id, from: "hash-1", to: "hash-2", expiresAt: later.addingTimeInterval(60)
                )
                try checkEqual(repeated.refreshedAt, first?.refreshedAt, "the repeat changed the refresh time")
                try checkEqual(repeated.refreshTokenHash, "hash-2", "hash after the repeated rotation")
                try check(abs(repeated.expiresAt.timeIntervalSince(later)) < 0.002, "the repeat changed the expiry")
                try check(repeated.revokedAt == nil, "the repeat revoked the session")
                try check(try await store.session(session.id)?.revokedAt == nil, "the repeat revoked the session")
                let next = try await store.rotateRefreshToken(
                    of: session.id, from: "hash-2", to: "hash-3", expiresAt: later
                )
                try checkEqual(next.refreshTokenHash, "hash-3", "hash after rotating on from the repeated one")
                try await checkThrows(.conflict, "the first rotation repeated after the next one") {
                    try await store.rotateRefreshToken(of: session.id, from: "hash-1", to: "hash-2", expiresAt: later)
                }
                try check(try await store.session(session.id)?.revokedAt != nil, "not revoked after a reuse")
            },
            Case("sessions", "logout revokes one session and a password change all of a user's") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let phone = makeSession(for: alice, id: "phone")
                let laptop = makeSession(for: alice, id: "laptop")
                let bobs = makeSession(for: bob, id: "bobs")
                for session in [phone, laptop, bobs] { try await store.createSession(session) }
                try await store.revokeSession(phone.id)
                try check(try await store.session(phone.id)?.revokedAt != nil, "the logged-out session is active")
                try check(try await store.session(laptop.id)?.revokedAt == nil, "another session was revoked")
                try await store.revokeSession(phone.id)
                try await store.revokeSession("no-such-session")
                try await store.revokeSessions(of: alice)
                try check(try await store.session(laptop.id)?.revokedAt != nil, "a session survived revoking all")
                try check(try await store.session(bobs.id)?.revokedAt == nil, "another user's session was revoked")
            },

            Case("sessions", "ended sessions may be deleted, every one of them; an active one never is") { store in
                let alice = try await StoreFixture(store).user("alice")
                let date = Date(timeIntervalSince1970: 1_800_000_000)
                let active = makeSession(for: alice, id: "active")
                var expired = makeSession(for: alice, id: "expired")
                expired.expiresAt = date.addingTimeInterval(-86_400)
                let revoked = makeSession(for: alice, id: "revoked")
                for session in [active, expired, revoked] { try await store.createSession(session) }
                try await store.revokeSession(revoked.id)
                // Revoked at the store's time, which a store's injected clock may put after `date`.
                let revokedBefore = (try await store.session(revoked.id)?.revokedAt).map { $0 < date } ?? false
                try await checkThrows(.invalidArgument, "a negative limit") {
                    try await store.deleteSessions(endedBefore: date, limit: -1)
                }
                // One at a time first: a limit is kept.
                let first = try await store.deleteSessions(endedBefore: date, limit: 1)
                try check(first <= 1, "a deletion limited to 1 deleted \(first)")
                let deleted = try await store.deleteSessions(endedBefore: date, limit: 100) + first
                try check(try await store.session(active.id) != nil, "an active session was deleted")
                var left: [SessionID] = []
                for id in [expired.id, revoked.id] where try await store.session(id) != nil { left.append(id) }
                try checkEqual(deleted, 2 - left.count, "the count returned, against the sessions gone")
                // A store that deletes (the default implementation deletes none) deletes every ended session.
                if deleted > 0 {
                    try checkEqual(left, revokedBefore ? [] : [revoked.id], "ended sessions left")
                }
            },

            Case("sessions", "the same rotation sent 10 times at once succeeds every time and revokes nothing") {
                store in
                let alice = try await StoreFixture(store).user("alice")
                let session = makeSession(for: alice)
                try await store.createSession(session)
                let later = session.expiresAt.addingTimeInterval(3600)
                let outcomes = try await withThrowingTaskGroup(of: Result<AuthSession, ChatError>.self) { tasks in
                    for _ in 0..<10 {
                        tasks.addTask {
                            do {
                                return .success(
                                    try await store.rotateRefreshToken(
                                        of: session.id, from: "hash-1", to: "hash-2", expiresAt: later
                                    )
                                )
                            } catch let error as ChatError {
                                return .failure(error)
                            }
                        }
                    }
                    return try await tasks.reduce(into: [Result<AuthSession, ChatError>]()) { $0.append($1) }
                }
                let refusals = outcomes.compactMap { outcome -> ChatError.Code? in
                    guard case .failure(let error) = outcome else { return nil }
                    return error.code
                }
                try checkEqual(refusals, [], "errors of the same rotation sent at once")
                let stored = try checkNotNil(try await store.session(session.id), "the session after the rotations")
                try check(stored.revokedAt == nil, "the same rotation sent at once revoked the session")
                try checkEqual(stored.refreshTokenHash, "hash-2", "the stored hash")
                for outcome in outcomes {
                    let rotated = try outcome.get()
                    try checkEqual(rotated.id, session.id, "the session a rotation returned")
                    try checkEqual(rotated.refreshTokenHash, "hash-2", "the hash a rotation returned")
                    try check(rotated.revokedAt == nil, "a rotation returned the session revoked")
                    try check(abs(rotated.expiresAt.timeIntervalSince(later)) < 0.002, "the expiry a rotation returned")
                    try check(
                        isSameTime(rotated.refreshedAt, stored.refreshedAt),
                        "a rotation returned refreshedAt \(String(describing: rotated.refreshedAt)), the store holds "
                            + String(describing: stored.refreshedAt)
                    )
                }
                let next = try await store.rotateRefreshToken(
                    of: session.id, from: "hash-2", to: "hash-3", expiresAt: later
                )
                try checkEqual(next.refreshTokenHash, "hash-3", "the hash after rotating on")
            },

            Case("sessions", "a reuse revokes the session also when the reusing call's task is cancelled") { store in
                let alice = try await StoreFixture(store).user("alice")
                for round in 0..<20 {
                    let session = makeSession(for: alice, id: SessionID(rawValue: "session-\(round)"))
                    try await store.createSession(session)
                    _ = try await store.rotateRefreshToken(
                        of: session.id, from: "hash-1", to: "hash-2", expiresAt: session.expiresAt
                    )
                    let reuse = Task {
                        try await store.rotateRefreshToken(
                            of: session.id, from: "hash-1", to: "stolen", expiresAt: session.expiresAt
                        )
                    }
                    // Cancelled at different moments of the call: at once, or after a few turns of the scheduler.
                    for _ in 0..<(round % 5) { await Task.yield() }
                    reuse.cancel()
                    let result = await reuse.result
                    let stored = try checkNotNil(try await store.session(session.id), "round \(round): the session")
                    try check(stored.refreshTokenHash != "stolen", "round \(round): the reuse rotated the session")
                    switch result {
                    case .success:
                        throw ConformanceFailure("round \(round): a reused token was rotated")
                    case .failure(let error as ChatError):
                        try checkEqual(error.code, .conflict, "round \(round): the reuse's error")
                        try check(
                            stored.revokedAt != nil,
                            "round \(round): the reuse was refused as a conflict but the session is not revoked (a "
                                + "cancelled task must not undo the revocation)"
                        )
                    case .failure(let error):
                        // Stopped before it reached the store: it changed nothing.
                        try check(error is CancellationError, "round \(round): failed with \(error)")
                        try check(
                            stored.revokedAt != nil || stored.refreshTokenHash == "hash-2",
                            "round \(round): a cancelled reuse changed the session without revoking it"
                        )
                    }
                }
            },

            Case("sessions", "rotating an unknown session is not found and creates nothing") { store in
                try await checkThrows(.notFound, "rotation of a session that does not exist") {
                    try await store.rotateRefreshToken(
                        of: "no-such-session", from: "hash-1", to: "hash-2", expiresAt: Date().addingTimeInterval(60)
                    )
                }
                try checkEqual(try await store.session("no-such-session"), nil, "the unknown session after a rotation")
            },

            Case("sessions", "a session revoked or expiring after the date given is not deleted") { store in
                let alice = try await StoreFixture(store).user("alice")
                let revoked = makeSession(for: alice, id: "revoked")
                let active = makeSession(for: alice, id: "active")
                for session in [revoked, active] { try await store.createSession(session) }
                try await store.revokeSession(revoked.id)
                // Both ended, or end, long after this date.
                let longAgo = Date(timeIntervalSince1970: 1_000_000_000)
                // Revoked at the store's time, which an injected clock may put before even this date.
                let revokedAfter = (try await store.session(revoked.id)?.revokedAt).map { $0 >= longAgo } ?? true
                let deleted = try await store.deleteSessions(endedBefore: longAgo, limit: 100)
                // Before it, the store may delete the revoked one (the default implementation deletes none).
                try check(revokedAfter ? deleted == 0 : deleted <= 1, "\(deleted) sessions deleted")
                if revokedAfter {
                    let kept = try await store.session(revoked.id) != nil
                    try check(kept, "a session revoked after the date was deleted")
                }
                try check(try await store.session(active.id) != nil, "an active session was deleted")
            },
        ]
    }

    static func makeSession(for user: UserID, id: SessionID = "session-1") -> AuthSession {
        let created = Date(timeIntervalSince1970: 1_800_000_000)
        return AuthSession(
            id: id, userID: user, refreshTokenHash: "hash-1", createdAt: created,
            expiresAt: created.addingTimeInterval(30 * 86_400)
        )
    }
}

/// Whether two times a store returned are the same, to the millisecond it keeps (or both absent).
private func isSameTime(_ lhs: Date?, _ rhs: Date?) -> Bool {
    guard let lhs, let rhs else { return lhs == nil && rhs == nil }
    return abs(lhs.timeIntervalSince(rhs)) < 0.002
}
