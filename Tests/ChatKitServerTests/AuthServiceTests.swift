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
import ChatKitServer
import ChatKitSQLite
import ChatKitTesting
import Foundation
import HummingbirdBcrypt
import Synchronization
import Testing

/// A settable wall clock for token times.
private final class TestTime: Sendable {
    private let date = Mutex(Date(timeIntervalSince1970: 1_700_000_000))

    var now: @Sendable () -> Date { { self.date.withLock { $0 } } }

    func advance(by seconds: TimeInterval) {
        date.withLock { $0 += seconds }
    }
}

/// An AuthService on an in-memory store, with bcrypt cost 4 and injected time.
private struct AuthFixture {
    static let secret = Array("test-secret-0123456789-abcdefghijklmnop".utf8)

    let time = TestTime()
    let clock = ManualClock()
    let store: InMemoryChatStore
    let auth: AuthService

    init(
        limits: AuthService.Configuration.Limits = .init(), secret: [UInt8] = Self.secret,
        refreshRetryWindow: Duration = .seconds(30)
    ) {
        let time = time
        store = InMemoryChatStore(configuration: .init(now: time.now))
        auth = AuthService(
            store: store,
            secret: secret,
            configuration: .init(refreshRetryWindow: refreshRetryWindow, bcryptCost: 4, limits: limits),
            now: time.now,
            clock: clock
        )
    }

    /// An AuthService on an in-memory SQLite store (close the store when done), with `time`'s clock.
    static func onSQLite(_ time: TestTime) throws -> (SQLiteChatStore, AuthService) {
        let store = try SQLiteChatStore(configuration: .init(location: .inMemory, now: time.now))
        let auth = AuthService(
            store: store, secret: secret, configuration: .init(bcryptCost: 4), now: time.now, clock: ManualClock()
        )
        return (store, auth)
    }

    /// The error `body` throws, as a ChatError (nil if it does not throw).
    func error(_ body: () async throws -> Void) async -> ChatError? {
        do {
            try await body()
            return nil
        } catch let error as ChatError {
            return error
        } catch {
            Issue.record("Unexpected error \(error)")
            return nil
        }
    }
}

@Suite struct AuthServiceTests {
    private let password = "correct horse battery"

    @Test func signUpThenLogIn() async throws {
        let fixture = AuthFixture()
        let signedUp = try await fixture.auth.signUp(username: "Alice", password: password, displayName: "Alice A.")
        #expect(signedUp.user.username == "alice")
        #expect(signedUp.user.displayName == "Alice A.")
        let start = fixture.time.now()
        #expect(signedUp.accessTokenExpiresAt == start.addingTimeInterval(15 * 60))
        #expect(signedUp.refreshTokenExpiresAt == start.addingTimeInterval(30 * 24 * 60 * 60))

        let authenticated = try #require(try await fixture.auth.authenticator.authenticate(token: signedUp.accessToken))
        #expect(authenticated.userID == signedUp.user.id)
        let sessionID = try #require(authenticated.sessionID)
        #expect(signedUp.refreshToken.hasPrefix(sessionID + "."))
        #expect(signedUp.refreshToken.split(separator: ".").count == 2)

        let loggedIn = try await fixture.auth.logIn(username: "ALICE", password: password)
        #expect(loggedIn.user == signedUp.user)
        let second = try #require(try await fixture.auth.authenticator.authenticate(token: loggedIn.accessToken))
        #expect(second.userID == signedUp.user.id)
        #expect(second.sessionID != authenticated.sessionID)

        // Only a hash of the refresh token is stored, and no plain password.
        let session = try #require(try await fixture.store.session(SessionID(rawValue: second.sessionID!)))
        #expect(session.refreshTokenHash.count == 64)
        #expect(session.refreshTokenHash != loggedIn.refreshToken)
        let credentials = try #require(try await fixture.store.credentials(of: signedUp.user.id))
        #expect(credentials.passwordHash.hasPrefix("$2"))
        #expect(!credentials.passwordHash.contains(password))
    }

    @Test func aBlankDisplayNameBecomesTheUsername() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "bob.b_c-d", password: password, displayName: "   ")
        #expect(tokens.user.displayName == "bob.b_c-d")
    }

    @Test(arguments: [
        ("ab", "too short"),
        (String(repeating: "a", count: 33), "too long"),
        ("", "too short"),
        ("1alice", "start with a letter"),
        ("_alice", "start with a letter"),
        ("al ice", "not allowed"),
        ("al@ice", "not allowed"),
        ("alïce", "not allowed"),
        ("\u{212A}ate", "not allowed"),  // the Kelvin sign is not a "k"
    ])
    func usernameRules(username: String, problem: String) async throws {
        let fixture = AuthFixture()
        let error = await fixture.error { _ = try await fixture.auth.signUp(username: username, password: password) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.reason?.contains(problem) == true)
        #expect(error?.reason?.contains("3 to 32 characters of a-z, 0-9") == true)
    }

    @Test func usernamesAtTheLimitsAreAccepted() async throws {
        let fixture = AuthFixture()
        _ = try await fixture.auth.signUp(username: "abc", password: password)
        let long = try await fixture.auth.signUp(username: "Z" + String(repeating: "9", count: 31), password: password)
        #expect(long.user.username == "z" + String(repeating: "9", count: 31))
    }

    @Test(arguments: [
        ("seven77", "too short"),
        (String(repeating: "é", count: 37), "72 bytes"),  // 74 bytes in UTF-8
        ("         ", "only whitespace"),
        ("\t\n  \t\n  ", "only whitespace"),
        ("abcd\u{0}efgh", "NUL"),
    ])
    func passwordRules(password: String, problem: String) async throws {
        let fixture = AuthFixture()
        let error = await fixture.error { _ = try await fixture.auth.signUp(username: "alice", password: password) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.reason?.contains(problem) == true)
        #expect(error?.reason?.contains("bcrypt's limit") == true)
        #expect(error?.reason?.contains(password) == false)
        // Nothing was created.
        #expect(try await fixture.store.user(username: "alice") == nil)
    }

    @Test func passwordsAtTheLimitsAreAccepted() async throws {
        let fixture = AuthFixture()
        _ = try await fixture.auth.signUp(username: "alice", password: "12345678")
        let long = String(repeating: "é", count: 36)  // 72 bytes
        _ = try await fixture.auth.signUp(username: "bob", password: long)
        _ = try await fixture.auth.logIn(username: "bob", password: long)
        // A longer password with the same first 72 bytes does not match, although bcrypt would ignore the rest.
        let error = await fixture.error { _ = try await fixture.auth.logIn(username: "bob", password: long + "x") }
        #expect(error?.code == .unauthenticated)
    }

    @Test func aTakenUsernameIsAConflict() async throws {
        let fixture = AuthFixture()
        _ = try await fixture.auth.signUp(username: "alice", password: password)
        let error = await fixture.error {
            _ = try await fixture.auth.signUp(username: "ALICE", password: "another one")
        }
        #expect(error?.code == .conflict)
    }

    @Test func wrongPasswordAndUnknownUserFailAlike() async throws {
        let fixture = AuthFixture()
        _ = try await fixture.auth.signUp(username: "alice", password: password)
        let wrongPassword = await fixture.error {
            _ = try await fixture.auth.logIn(username: "alice", password: "wrong one")
        }
        let unknownUser = await fixture.error {
            _ = try await fixture.auth.logIn(username: "nobody", password: password)
        }
        let invalidName = await fixture.error { _ = try await fixture.auth.logIn(username: "1 x", password: password) }
        #expect(wrongPassword?.code == .unauthenticated)
        #expect(unknownUser?.code == .unauthenticated)
        #expect(wrongPassword?.reason == unknownUser?.reason)
        #expect(wrongPassword?.reason == invalidName?.reason)
        #expect(String(describing: wrongPassword) == String(describing: unknownUser))
    }

    @Test func refreshRotatesAndReuseRevokesTheSession() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        fixture.time.advance(by: 60)
        let second = try await fixture.auth.refresh(first.refreshToken)
        #expect(second.refreshToken != first.refreshToken)
        #expect(second.accessToken != first.accessToken)
        #expect(second.user == first.user)
        #expect(second.refreshTokenExpiresAt == fixture.time.now().addingTimeInterval(30 * 24 * 60 * 60))
        let before = try await fixture.auth.authenticator.authenticate(token: first.accessToken)
        let after = try #require(try await fixture.auth.authenticator.authenticate(token: second.accessToken))
        #expect(after.sessionID == before?.sessionID)

        let third = try await fixture.auth.refresh(second.refreshToken)

        // Presenting an already used token revokes the session: the newest tokens stop working too.
        let reuse = await fixture.error { _ = try await fixture.auth.refresh(first.refreshToken) }
        #expect(reuse?.code == .unauthenticated)
        #expect(reuse?.reason?.contains("already used") == true)
        let newest = await fixture.error { _ = try await fixture.auth.refresh(third.refreshToken) }
        #expect(newest?.code == .unauthenticated)
        let access = await fixture.error {
            _ = try await fixture.auth.authenticator.authenticate(token: third.accessToken)
        }
        #expect(access?.code == .unauthenticated)

        // Another session of the same user is untouched.
        let other = try await fixture.auth.logIn(username: "alice", password: password)
        _ = try await fixture.auth.refresh(other.refreshToken)
    }

    @Test("a refresh retried within the window gets the same refresh token; once that is used, a retry revokes")
    func aRetriedRefreshIsAnsweredAgain() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        fixture.time.advance(by: 60)
        let second = try await fixture.auth.refresh(first.refreshToken)
        fixture.time.advance(by: 25)
        // The answer was lost: the client presents the same token again.
        let retried = try await fixture.auth.refresh(first.refreshToken)
        #expect(retried.refreshToken == second.refreshToken)
        #expect(retried.refreshTokenExpiresAt == second.refreshTokenExpiresAt)
        #expect(retried.accessTokenExpiresAt == fixture.time.now().addingTimeInterval(15 * 60))
        let session = try await fixture.auth.authenticator.authenticate(token: retried.accessToken)?.sessionID
        #expect(session != nil)
        #expect(try await fixture.auth.authenticator.authenticate(token: second.accessToken)?.sessionID == session)

        // The client goes on with the token it got; the one it exchanged is now an old one.
        let third = try await fixture.auth.refresh(retried.refreshToken)
        #expect(third.refreshToken != second.refreshToken)
        let reuse = await fixture.error { _ = try await fixture.auth.refresh(first.refreshToken) }
        #expect(reuse?.code == .unauthenticated)
        #expect(reuse?.reason?.contains("already used") == true)
        let newest = await fixture.error { _ = try await fixture.auth.refresh(third.refreshToken) }
        #expect(newest?.code == .unauthenticated)
    }

    @Test("a refresh token presented again after the retry window revokes the session")
    func aLateRetryRevokes() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let second = try await fixture.auth.refresh(first.refreshToken)
        fixture.time.advance(by: 31)
        let late = await fixture.error { _ = try await fixture.auth.refresh(first.refreshToken) }
        #expect(late?.code == .unauthenticated)
        #expect(late?.reason?.contains("already used") == true)
        let newest = await fixture.error { _ = try await fixture.auth.refresh(second.refreshToken) }
        #expect(newest?.code == .unauthenticated)
        let access = await fixture.error {
            _ = try await fixture.auth.authenticator.authenticate(token: second.accessToken)
        }
        #expect(access?.code == .unauthenticated)
    }

    @Test("refreshes of one token at once (two tabs) all get the same new refresh token, and the session lives")
    func concurrentRefreshesOfOneToken() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let auth = fixture.auth
        let answers = try await withThrowingTaskGroup(of: AuthTokens.self) { tasks in
            for _ in 0..<8 { tasks.addTask { try await auth.refresh(first.refreshToken) } }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 8)
        #expect(Set(answers.map(\.refreshToken)).count == 1)
        #expect(answers[0].refreshToken != first.refreshToken)
        let next = try await auth.refresh(answers[0].refreshToken)
        #expect(try await auth.authenticator.authenticate(token: next.accessToken) != nil)
    }

    @Test("a retry after a logout or a password change is refused")
    func noRetryIntoAnEndedSession() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let second = try await fixture.auth.refresh(first.refreshToken)
        try await fixture.auth.logOut(accessToken: second.accessToken)
        let afterLogout = await fixture.error { _ = try await fixture.auth.refresh(first.refreshToken) }
        #expect(afterLogout?.code == .unauthenticated)

        let other = try await fixture.auth.logIn(username: "alice", password: password)
        _ = try await fixture.auth.refresh(other.refreshToken)
        _ = try await fixture.auth.changePassword(
            userID: first.user.id, currentPassword: password, newPassword: "another good password"
        )
        let afterChange = await fixture.error { _ = try await fixture.auth.refresh(other.refreshToken) }
        #expect(afterChange?.code == .unauthenticated)
    }

    /// A password change that stored the new password but failed to revoke the other sessions (a storage error, a
    /// process stopped in between), or a password set through the store, left those sessions refreshable: their
    /// refresh signed access tokens of the new credentials version, which every server accepts.
    @Test("a session opened before the password changed cannot be refreshed, on either store")
    func aSessionFromBeforeAPasswordChangeIsNotRefreshed() async throws {
        let time = TestTime()
        let (sqlite, onSQLite) = try AuthFixture.onSQLite(time)
        defer { try? sqlite.close() }
        let fixture = AuthFixture()
        let stores: [(any ChatStore, AuthService)] = [(fixture.store, fixture.auth), (sqlite, onSQLite)]
        for (store, auth) in stores {
            let thief = try await auth.signUp(username: "alice", password: password)
            let session = try #require(try await Self.sessionID(of: thief, auth))
            #expect(try await store.session(session)?.credentialsVersion == 1)
            // The owner's change stored the new password, then stopped before revoking anything.
            _ = try await store.setPasswordHash("$2b$04$" + String(repeating: "x", count: 53), of: thief.user.id)
            let refused = await fixture.error { _ = try await auth.refresh(thief.refreshToken) }
            #expect(refused?.code == .unauthenticated)
            #expect(refused?.reason?.contains("password changed") == true, "\(String(describing: refused))")
            // And for good: the session is revoked.
            #expect(try await store.session(session)?.revokedAt != nil)
        }
    }

    /// Nothing deleted a session: every login added one for good (and the in-memory store's revocation of a
    /// user's sessions walked all of them). Opening a session deletes those that ended a day ago, once an hour.
    @Test("sessions that ended a day ago are deleted as new ones open, at most once an hour")
    func endedSessionsAreDeleted() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let firstID = try #require(try await Self.sessionID(of: first, fixture.auth))
        try await fixture.auth.logOut(accessToken: first.accessToken)
        let second = try await fixture.auth.logIn(username: "alice", password: password)
        let secondID = try #require(try await Self.sessionID(of: second, fixture.auth))
        fixture.time.advance(by: 2 * 86_400)
        // Within the hour of the last purge: nothing is deleted yet.
        _ = try await fixture.auth.logIn(username: "alice", password: password)
        #expect(try await fixture.store.session(firstID) != nil)
        fixture.clock.advance(by: .seconds(3601))
        _ = try await fixture.auth.logIn(username: "alice", password: password)
        #expect(try await fixture.store.session(firstID) == nil, "the session logged out two days ago")
        // The one still active (its refresh token lives 30 days) stays, and works.
        #expect(try await fixture.store.session(secondID) != nil)
        _ = try await fixture.auth.refresh(second.refreshToken)
        let reused = await fixture.error { _ = try await fixture.auth.refresh(first.refreshToken) }
        #expect(reused?.code == .unauthenticated)
    }

    /// Passwords were hashed as the bytes typed: "passwörd" typed with a composed "ö" at sign-up and with "o" and a
    /// combining diaeresis at login (as macOS and some keyboards give it) did not match. Passwords are composed
    /// (NFC) before they are hashed and checked; a hash made from a decomposed password before still matches.
    @Test("a password matches in either Unicode form; a hash made before passwords were composed still matches")
    func passwordsMatchInEitherUnicodeForm() async throws {
        let fixture = AuthFixture()
        let composed = "pass w\u{F6}rd 12"
        let decomposed = "pass wo\u{308}rd 12"
        _ = try await fixture.auth.signUp(username: "alice", password: composed)
        _ = try await fixture.auth.logIn(username: "alice", password: decomposed)
        _ = try await fixture.auth.logIn(username: "alice", password: composed)
        // A hash of the decomposed bytes (stored before this change) still matches them as typed.
        let bob = try await fixture.auth.signUp(username: "bob", password: "placeholder pass")
        _ = try await fixture.store.setPasswordHash(Bcrypt.hash(decomposed, cost: 4), of: bob.user.id)
        _ = try await fixture.auth.logIn(username: "bob", password: decomposed)
        // Past 72 bytes as typed, within them composed (the form signed up with): accepted.
        let long = String(repeating: "o\u{308}", count: 30)
        _ = try await fixture.auth.signUp(username: "carol", password: long)
        _ = try await fixture.auth.logIn(username: "carol", password: long)
        let wrong = await fixture.error { _ = try await fixture.auth.logIn(username: "bob", password: "pass word 12") }
        #expect(wrong?.code == .unauthenticated)
        // A password change takes the current password as the stored hash was made, and stores the new one composed.
        _ = try await fixture.auth.changePassword(
            userID: bob.user.id, currentPassword: decomposed, newPassword: decomposed
        )
        let stored = try #require(try await fixture.store.credentials(of: bob.user.id)?.passwordHash)
        #expect(Bcrypt.verify(composed, hash: stored))
    }

    /// The in-memory store, answering the first deletion of ended sessions with a full batch.
    final class BacklogStore: ChatStoreDecorator {
        let base: any ChatStore
        let deletions = Mutex(0)

        init(_ base: any ChatStore) { self.base = base }

        func deleteSessions(endedBefore date: Date, limit: Int) async throws -> Int {
            let number = deletions.withLock { count in
                count += 1
                return count
            }
            return number == 1 ? limit : try await base.deleteSessions(endedBefore: date, limit: limit)
        }
    }

    @Test("a purge that deletes a full batch purges again at the next session, then waits its hour")
    func aBacklogOfEndedSessionsIsDeletedBatchByBatch() async throws {
        let time = TestTime()
        let backlog = BacklogStore(InMemoryChatStore(configuration: .init(now: time.now)))
        let auth = AuthService(
            store: backlog, secret: AuthFixture.secret, configuration: .init(bcryptCost: 4), now: time.now,
            clock: ManualClock()
        )
        _ = try await auth.signUp(username: "alice", password: password)
        #expect(backlog.deletions.withLock { $0 } == 1)
        _ = try await auth.logIn(username: "alice", password: password)
        #expect(backlog.deletions.withLock { $0 } == 2, "a full batch: again at the next session")
        _ = try await auth.logIn(username: "alice", password: password)
        #expect(backlog.deletions.withLock { $0 } == 2, "the second found no more: the next waits an hour")
    }

    /// The in-memory store, with user look-ups that fail while told to (an outage).
    final class OutageStore: ChatStoreDecorator {
        let base: any ChatStore
        let isDown = Atomic<Bool>(false)

        init(_ base: any ChatStore) { self.base = base }

        func user(username: String) async throws -> User? {
            if isDown.load(ordering: .relaxed) { throw ChatError(.storageFailure, "The store is down.") }
            return try await base.user(username: username)
        }
    }

    @Test("logins that fail on a store error do not use up the username's attempts")
    func loginsDuringAnOutageAreNotCounted() async throws {
        let time = TestTime()
        let store = OutageStore(InMemoryChatStore(configuration: .init(now: time.now)))
        let auth = AuthService(
            store: store, secret: AuthFixture.secret,
            configuration: .init(bcryptCost: 4, limits: .init(loginAttemptBurst: 3, failedLoginBurst: 3)),
            now: time.now, clock: ManualClock()
        )
        _ = try await auth.signUp(username: "alice", password: password)
        store.isDown.store(true, ordering: .relaxed)
        for attempt in 1...6 {
            let error = await AuthFixture().error {
                _ = try await auth.logIn(username: "alice", password: password, client: "10.0.0.1")
            }
            #expect(error?.code == .storageFailure, "attempt \(attempt): \(String(describing: error))")
        }
        store.isDown.store(false, ordering: .relaxed)
        _ = try await auth.logIn(username: "alice", password: password, client: "10.0.0.1")
    }

    /// The session of `tokens`, as its access token names it.
    private static func sessionID(of tokens: AuthTokens, _ auth: AuthService) async throws -> SessionID? {
        try await auth.authenticator.authenticate(token: tokens.accessToken)?.sessionID.map(SessionID.init(rawValue:))
    }

    @Test("the retry window counts from the refresh as the store keeps it, not from a lifetime that changed since")
    func theWindowCountsFromTheRefresh() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let second = try await fixture.auth.refresh(first.refreshToken)
        // The server restarts with refresh tokens living 7 days instead of 30.
        let shorter = AuthService(
            store: fixture.store, secret: AuthFixture.secret,
            configuration: .init(refreshTokenLifetime: .seconds(7 * 24 * 3600), bcryptCost: 4),
            now: fixture.time.now, clock: fixture.clock
        )
        fixture.time.advance(by: 10)
        #expect(try await shorter.refresh(first.refreshToken).refreshToken == second.refreshToken)
        // 23 days later (where expiry less the new lifetime would put the refresh) it is a reuse.
        fixture.time.advance(by: 23 * 24 * 3600 - 10)
        let late = await fixture.error { _ = try await shorter.refresh(first.refreshToken) }
        #expect(late?.reason?.contains("already used") == true)
    }

    @Test("a clock set back a few seconds after a refresh does not turn its retry into a reuse")
    func aClockSetBack() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let second = try await fixture.auth.refresh(first.refreshToken)
        fixture.time.advance(by: -10)
        #expect(try await fixture.auth.refresh(first.refreshToken).refreshToken == second.refreshToken)
    }

    /// SQLite reads bound text up to its first NUL: "alice\0x" logged in as alice, and each such spelling had limit
    /// buckets of its own, so guesses escaped the per-username limits.
    @Test("a username holding U+0000 logs in as nobody, on the SQLite store too")
    func aUsernameWithNULLogsInAsNobody() async throws {
        let time = TestTime()
        let (store, auth) = try AuthFixture.onSQLite(time)
        defer { try? store.close() }
        _ = try await auth.signUp(username: "alice", password: password)
        let error = await AuthFixture().error { _ = try await auth.logIn(username: "alice\u{0}x", password: password) }
        #expect(error?.code == .unauthenticated)
        _ = try await auth.logIn(username: "alice", password: password)
    }

    /// A password change drew from the bucket of failures every address shares: someone guessing the password
    /// kept its owner from changing it.
    @Test func othersGuessingDoNotKeepTheOwnerFromChangingThePassword() async throws {
        let fixture = AuthFixture(limits: .init(failedLoginBurst: 3))
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"] {
            _ = await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "wrong guess!", client: client)
            }
        }
        let locked = await fixture.error {
            _ = try await fixture.auth.logIn(username: "alice", password: "wrong guess!", client: "198.51.100.5")
        }
        #expect(locked?.code == .limitExceeded)
        _ = try await fixture.auth.changePassword(
            userID: tokens.user.id, currentPassword: password, newPassword: "a new horse battery"
        )
    }

    /// An address that logged in with the password skips the username's bucket of failures; after a password
    /// change it still did, so whoever had the old password could guess the new one from each address they had
    /// logged in from, each at its own rate. A change now forgets them.
    @Test func addressesKnownFromTheOldPasswordAreForgottenWhenItChanges() async throws {
        let fixture = AuthFixture(limits: .init(loginAttemptBurst: 100, failedLoginBurst: 3))
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        let thief = "198.51.100.7"
        _ = try await fixture.auth.logIn(username: "alice", password: password, client: thief)
        // Known: more failures than the shared bucket holds, none refused for the limit.
        for _ in 0..<4 {
            let error = await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "wrong guess!", client: thief)
            }
            #expect(error?.code == .unauthenticated)
        }
        fixture.clock.advance(by: .seconds(60))  // the bucket of failures refills
        _ = try await fixture.auth.changePassword(
            userID: tokens.user.id, currentPassword: password, newPassword: "a new horse battery"
        )
        var codes: [ChatError.Code?] = []
        for _ in 0..<6 {
            let error = await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "wrong guess!", client: thief)
            }
            codes.append(error?.code)
        }
        #expect(codes.prefix(3).allSatisfy { $0 == .unauthenticated })
        #expect(codes.last == .limitExceeded)
    }

    /// Two password changes at once both checked the same current password; the one to finish first could keep a
    /// session that the other's change should have ended. They now run one after the other: the second finds the
    /// password changed.
    @Test func concurrentPasswordChangesRunOneAtATime() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        let outcomes = await withTaskGroup(of: AuthTokens?.self) { group in
            for newPassword in ["first new battery", "second new battery"] {
                group.addTask {
                    try? await fixture.auth.changePassword(
                        userID: tokens.user.id, currentPassword: self.password, newPassword: newPassword
                    )
                }
            }
            return await group.reduce(into: [AuthTokens?]()) { $0.append($1) }
        }
        let winners = outcomes.compactMap { $0 }
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        #expect(try await fixture.auth.authenticator.authenticate(token: winner.accessToken) != nil)
        let original = await fixture.error { _ = try await fixture.auth.refresh(tokens.refreshToken) }
        #expect(original?.code == .unauthenticated)
        var loggedIn = 0
        for candidate in ["first new battery", "second new battery"] {
            if (try? await fixture.auth.logIn(username: "alice", password: candidate)) != nil { loggedIn += 1 }
        }
        #expect(loggedIn == 1, "exactly one new password holds")
    }

    @Test("on the SQLite store too, a retried refresh gets the same token and a late one revokes")
    func retriesOnSQLite() async throws {
        let time = TestTime()
        let (store, auth) = try AuthFixture.onSQLite(time)
        defer { try? store.close() }
        let first = try await auth.signUp(username: "alice", password: password)
        time.advance(by: 60)
        let second = try await auth.refresh(first.refreshToken)
        let session = try #require(try await auth.authenticator.authenticate(token: second.accessToken)?.sessionID)
        let sessionID = SessionID(rawValue: session)
        let refreshedAt = try #require(try await store.session(sessionID)?.refreshedAt)
        #expect(abs(refreshedAt.timeIntervalSince(time.now())) < 0.001)
        time.advance(by: 20)
        #expect(try await auth.refresh(first.refreshToken).refreshToken == second.refreshToken)
        time.advance(by: 11)
        let late = await AuthFixture().error { _ = try await auth.refresh(first.refreshToken) }
        #expect(late?.reason?.contains("already used") == true)
        #expect(try await store.session(sessionID)?.revokedAt != nil)
    }

    @Test("without a retry window, any second use of a refresh token revokes the session")
    func noRetryWindow() async throws {
        let fixture = AuthFixture(refreshRetryWindow: .zero)
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let second = try await fixture.auth.refresh(first.refreshToken)
        let again = await fixture.error { _ = try await fixture.auth.refresh(first.refreshToken) }
        #expect(again?.code == .unauthenticated)
        let newest = await fixture.error { _ = try await fixture.auth.refresh(second.refreshToken) }
        #expect(newest?.code == .unauthenticated)
    }

    /// Two refreshes of one token at once both read the session before either rotated it, and the store answers a
    /// repeated rotation as done: both got tokens and the session lived, although a window of zero promises that
    /// every reuse revokes. Refreshes of a session now run one at a time.
    @Test("without a retry window, a token refreshed twice at once gives tokens once and revokes the session")
    func noRetryWindowAtOnce() async throws {
        let fixture = AuthFixture(limits: .init(loginAttemptBurst: 100), refreshRetryWindow: .zero)
        _ = try await fixture.auth.signUp(username: "alice", password: password)
        for round in 0..<20 {
            let tokens = try await fixture.auth.logIn(username: "alice", password: password)
            let auth = fixture.auth
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<2 { group.addTask { (try? await auth.refresh(tokens.refreshToken)) != nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1, "round \(round): \(outcomes)")
            let sessionID = try #require(tokens.refreshToken.split(separator: ".").first.map(String.init))
            #expect(try await fixture.store.session(SessionID(rawValue: sessionID))?.revokedAt != nil)
        }
    }

    @Test(arguments: ["", "garbage", "no-such-session.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a.b.c"])
    func malformedOrUnknownRefreshTokensAreRefused(token: String) async throws {
        let fixture = AuthFixture()
        let error = await fixture.error { _ = try await fixture.auth.refresh(token) }
        #expect(error?.code == .unauthenticated)
    }

    @Test func aForgedRefreshTokenForARealSessionDoesNotRevokeIt() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        let sessionID = try #require(tokens.refreshToken.split(separator: ".").first)
        let forged = "\(sessionID).\(String(repeating: "A", count: 43))"
        let error = await fixture.error { _ = try await fixture.auth.refresh(forged) }
        #expect(error?.code == .unauthenticated)
        // The owner's tokens still work: the forgery never reached the store.
        _ = try await fixture.auth.authenticator.authenticate(token: tokens.accessToken)
        _ = try await fixture.auth.refresh(tokens.refreshToken)
    }

    @Test func anExpiredRefreshTokenIsRefused() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        fixture.time.advance(by: 30 * 24 * 60 * 60 + 1)
        let error = await fixture.error { _ = try await fixture.auth.refresh(tokens.refreshToken) }
        #expect(error?.code == .unauthenticated)
        #expect(error?.reason?.contains("expired") == true)
    }

    @Test func logOutRevokesTheSession() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        let other = try await fixture.auth.logIn(username: "alice", password: password)
        try await fixture.auth.logOut(accessToken: tokens.accessToken)

        let access = await fixture.error {
            _ = try await fixture.auth.authenticator.authenticate(token: tokens.accessToken)
        }
        #expect(access?.code == .unauthenticated)
        #expect(access?.reason?.contains("revoked") == true)
        let refresh = await fixture.error { _ = try await fixture.auth.refresh(tokens.refreshToken) }
        #expect(refresh?.code == .unauthenticated)
        // Logging out again is fine; the other device stays signed in.
        try await fixture.auth.logOut(accessToken: tokens.accessToken)
        #expect(try await fixture.auth.authenticator.authenticate(token: other.accessToken) != nil)

        let forged = await fixture.error { try await fixture.auth.logOut(accessToken: "not a token") }
        #expect(forged?.code == .unauthenticated)
    }

    @Test func changingThePasswordRevokesEverySession() async throws {
        let fixture = AuthFixture()
        let phone = try await fixture.auth.signUp(username: "alice", password: password)
        let laptop = try await fixture.auth.logIn(username: "alice", password: password)
        let userID = phone.user.id

        let wrong = await fixture.error {
            _ = try await fixture.auth.changePassword(
                userID: userID, currentPassword: "not it!!", newPassword: "new password")
        }
        #expect(wrong?.code == .unauthenticated)
        let weak = await fixture.error {
            _ = try await fixture.auth.changePassword(userID: userID, currentPassword: password, newPassword: "short")
        }
        #expect(weak?.code == .invalidArgument)

        let fresh = try await fixture.auth.changePassword(
            userID: userID, currentPassword: password, newPassword: "new password"
        )
        #expect(try await fixture.store.credentials(of: userID)?.version == 2)
        for old in [phone, laptop] {
            let access = await fixture.error {
                _ = try await fixture.auth.authenticator.authenticate(token: old.accessToken)
            }
            #expect(access?.code == .unauthenticated)
            let refresh = await fixture.error { _ = try await fixture.auth.refresh(old.refreshToken) }
            #expect(refresh?.code == .unauthenticated)
        }
        #expect(try await fixture.auth.authenticator.authenticate(token: fresh.accessToken)?.userID == userID)
        _ = try await fixture.auth.refresh(fresh.refreshToken)

        let oldPassword = await fixture.error {
            _ = try await fixture.auth.logIn(username: "alice", password: password)
        }
        #expect(oldPassword?.code == .unauthenticated)
        _ = try await fixture.auth.logIn(username: "alice", password: "new password")
    }

    @Test func anAccessTokenOfAnOlderCredentialsVersionIsRefused() async throws {
        // A session that survived a password change (here: the store's hash changed behind the service's back)
        // still cannot use tokens issued for the old credentials.
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        _ = try await fixture.store.setPasswordHash("elsewhere", of: tokens.user.id)
        let error = await fixture.error {
            _ = try await fixture.auth.authenticator.authenticate(token: tokens.accessToken)
        }
        #expect(error?.code == .unauthenticated)
        #expect(error?.reason?.contains("password changed") == true)
    }

    @Test func anExpiredAccessTokenIsRefused() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        fixture.time.advance(by: 15 * 60 - 1)
        #expect(try await fixture.auth.authenticator.authenticate(token: tokens.accessToken) != nil)
        fixture.time.advance(by: 1)
        let error = await fixture.error {
            _ = try await fixture.auth.authenticator.authenticate(token: tokens.accessToken)
        }
        #expect(error?.code == .unauthenticated)
        #expect(error?.reason?.contains("expired") == true)
        // The refresh token gets a working one.
        let refreshed = try await fixture.auth.refresh(tokens.refreshToken)
        #expect(try await fixture.auth.authenticator.authenticate(token: refreshed.accessToken) != nil)
    }

    @Test func loginAttemptsAreLimitedPerUsername() async throws {
        let fixture = AuthFixture(limits: .init(loginAttemptBurst: 3, loginAttemptInterval: .seconds(6)))
        _ = try await fixture.auth.signUp(username: "alice", password: password)
        _ = try await fixture.auth.signUp(username: "bob", password: password)
        for _ in 0..<3 {
            let error = await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "guess it!")
            }
            #expect(error?.code == .unauthenticated)
        }
        // Even the right password is refused now, and the case of the name does not matter.
        let limited = await fixture.error { _ = try await fixture.auth.logIn(username: "Alice", password: password) }
        #expect(limited?.code == .limitExceeded)
        let retryAfter = try #require(limited?.retryAfter)
        #expect(retryAfter > .seconds(5) && retryAfter <= .seconds(6))
        // Other usernames are not affected.
        _ = try await fixture.auth.logIn(username: "bob", password: password)

        fixture.clock.advance(by: .seconds(6))
        _ = try await fixture.auth.logIn(username: "alice", password: password)
        let again = await fixture.error { _ = try await fixture.auth.logIn(username: "alice", password: password) }
        #expect(again?.code == .limitExceeded)
    }

    /// Logout took only an unexpired access token: a user who logged out after it had expired (an app opened again
    /// after a while) heard 401, and the session's refresh token stayed valid for its 30 days.
    @Test func logOutWithARefreshTokenAfterTheAccessTokenExpired() async throws {
        let fixture = AuthFixture()
        let first = try await fixture.auth.signUp(username: "alice", password: password)
        let other = try await fixture.auth.logIn(username: "alice", password: password)
        let rotated = try await fixture.auth.refresh(first.refreshToken)
        fixture.time.advance(by: 3600)
        let expired = await fixture.error { try await fixture.auth.logOut(accessToken: rotated.accessToken) }
        #expect(expired?.code == .unauthenticated)
        // The exchanged refresh token works as well as the newest: either proves the session.
        try await fixture.auth.logOut(refreshToken: first.refreshToken)
        let dead = await fixture.error { _ = try await fixture.auth.refresh(rotated.refreshToken) }
        #expect(dead?.code == .unauthenticated)
        try await fixture.auth.logOut(refreshToken: rotated.refreshToken)  // gone already: succeeds
        // The other session is untouched; a token for it made from another session's (its MAC does not match the
        // session ID) is refused and ends nothing.
        let renewed = try await fixture.auth.refresh(other.refreshToken)
        let otherSession = try #require(renewed.refreshToken.split(separator: ".").first)
        let stranger = try #require(first.refreshToken.split(separator: ".").last)
        let forged = await fixture.error { try await fixture.auth.logOut(refreshToken: "\(otherSession).\(stranger)") }
        #expect(forged?.code == .unauthenticated)
        _ = try await fixture.auth.refresh(renewed.refreshToken)
    }

    /// One bucket per username let anyone lock an account: a wrong login every few seconds spent it, and the
    /// owner's right password was refused. Attempts are limited per username and client; failures only, per
    /// username, over all clients.
    @Test func guessingFromElsewhereDoesNotLockTheOwnerOut() async throws {
        let fixture = AuthFixture(
            limits: .init(
                loginAttemptBurst: 3, loginAttemptInterval: .seconds(6), failedLoginBurst: 5,
                failedLoginInterval: .seconds(2)
            )
        )
        _ = try await fixture.auth.signUp(username: "alice", password: password)
        for _ in 0..<3 {
            let error = await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "guess it!", client: "203.0.113.9")
            }
            #expect(error?.code == .unauthenticated)
        }
        let guesser = await fixture.error {
            _ = try await fixture.auth.logIn(username: "alice", password: password, client: "203.0.113.9")
        }
        #expect(guesser?.code == .limitExceeded, "the guessing address is slowed down")
        // The owner, from their own address, logs in, again and again: right passwords are not failures.
        for _ in 0..<2 {
            _ = try await fixture.auth.logIn(username: "alice", password: password, client: "198.51.100.7")
        }

        // Failures from many addresses together are bounded: 5 at once, then one each 2 seconds.
        let another = await fixture.error {
            _ = try await fixture.auth.logIn(username: "alice", password: "guess it!", client: "192.0.2.1")
        }
        #expect(another?.code == .unauthenticated)
        let (first, second) = (
            await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "guess it!", client: "192.0.2.2")
            },
            await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "guess it!", client: "192.0.2.3")
            }
        )
        #expect(first?.code == .unauthenticated && second?.code == .limitExceeded, "failures past the burst")
        #expect(second?.retryAfter.map { $0 > .zero && $0 <= .seconds(2) } == true)
        // Then even the right password is refused from a new address, but not from where the owner logged in.
        let newPlace = await fixture.error {
            _ = try await fixture.auth.logIn(username: "alice", password: password, client: "192.0.2.4")
        }
        #expect(newPlace?.code == .limitExceeded)
        _ = try await fixture.auth.logIn(username: "alice", password: password, client: "198.51.100.7")
        fixture.clock.advance(by: .seconds(2))
        _ = try await fixture.auth.logIn(username: "alice", password: password, client: "192.0.2.4")
    }

    /// A login refused because the username's failures bucket was empty still took a token from the client's own
    /// bucket: an owner retrying from a new address while others guessed emptied it, and stayed locked out once the
    /// guessing stopped. A refusal before any password check takes nothing from the client now.
    @Test func refusalsWhileOthersGuessDoNotEmptyTheOwnersOwnBucket() async throws {
        let fixture = AuthFixture(
            limits: .init(
                loginAttemptBurst: 3, loginAttemptInterval: .seconds(60), failedLoginBurst: 2,
                failedLoginInterval: .seconds(2)
            )
        )
        _ = try await fixture.auth.signUp(username: "alice", password: password)
        for address in ["192.0.2.1", "192.0.2.2"] {
            let guess = await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: "guess it!", client: address)
            }
            #expect(guess?.code == .unauthenticated)
        }
        // The failures bucket is empty: the owner, from a new address, is refused five times, more than the three
        // attempts their own bucket holds.
        for _ in 0..<5 {
            let refused = await fixture.error {
                _ = try await fixture.auth.logIn(username: "alice", password: password, client: "198.51.100.7")
            }
            #expect(refused?.code == .limitExceeded)
        }
        // Once the failures bucket has a token again, the owner's own bucket still has all three.
        fixture.clock.advance(by: .seconds(2))
        for _ in 0..<3 {
            _ = try await fixture.auth.logIn(username: "alice", password: password, client: "198.51.100.7")
        }
    }

    @Test func theAuthenticatorLeavesForeignTokensToOthers() async throws {
        let fixture = AuthFixture()
        let authenticator = fixture.auth.authenticator
        #expect(try await authenticator.authenticate(token: "token-alice") == nil)
        #expect(try await authenticator.authenticate(token: "a.b.c") == nil)
        #expect(try await authenticator.authenticate(token: "") == nil)
        // A JWT under another key ID.
        let header = base64URL(#"{"alg":"HS256","kid":"someone-else","typ":"JWT"}"#)
        let payload = base64URL(#"{"sub":"x"}"#)
        #expect(try await authenticator.authenticate(token: "\(header).\(payload).c2ln") == nil)
        // A refresh token is not an access token.
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        #expect(try await authenticator.authenticate(token: tokens.refreshToken) == nil)
    }

    @Test func aKnownHeaderStillNeedsAWellFormedToken() async throws {
        let fixture = AuthFixture()
        let authenticator = fixture.auth.authenticator
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        // The header of ChatKit's tokens is known from now on ...
        #expect(try await authenticator.authenticate(token: tokens.accessToken)?.userID == tokens.user.id)
        #expect(try await authenticator.authenticate(token: tokens.accessToken)?.userID == tokens.user.id)
        // ... but a token is only taken for ChatKit's (and then refused, not passed on) if it is a JWT.
        let header = tokens.accessToken.split(separator: ".")[0]
        #expect(try await authenticator.authenticate(token: "\(header).pay+load.c2ln") == nil)
        #expect(try await authenticator.authenticate(token: "\(header).payload") == nil)
        let forged = await fixture.error { _ = try await authenticator.authenticate(token: "\(header).e30.c2ln") }
        #expect(forged?.code == .unauthenticated)
        let foreignHeader = base64URL(#"{"alg":"HS256","kid":"someone-else","typ":"JWT"}"#)
        #expect(try await authenticator.authenticate(token: "\(foreignHeader).e30.c2ln") == nil)
        #expect(try await authenticator.authenticate(token: "\(foreignHeader).e30.c2ln") == nil)
    }

    @Test func forgedAndTamperedTokensAreRejected() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        let parts = tokens.accessToken.split(separator: ".").map(String.init)
        #expect(parts.count == 3)

        // Another user's ID in the payload, with the original signature.
        let session = try await fixture.auth.authenticator.authenticate(token: tokens.accessToken)?.sessionID
        let forgedPayload = base64URL(#"{"sub":"someone-else","sid":"\#(session!)","ver":1,"exp":9999999999,"iat":1}"#)
        let tampered = "\(parts[0]).\(forgedPayload).\(parts[2])"
        let error = await fixture.error { _ = try await fixture.auth.authenticator.authenticate(token: tampered) }
        #expect(error?.code == .unauthenticated)
        #expect(error.map { String(describing: $0) }?.contains(parts[2]) == false)

        // A token from a service with another secret.
        let other = AuthService(
            store: fixture.store, secret: Array("a-different-secret-0123456789-abcdefgh".utf8),
            configuration: .init(bcryptCost: 4), now: fixture.time.now
        )
        let foreign = try await other.logIn(username: "alice", password: password)
        let signature = await fixture.error {
            _ = try await fixture.auth.authenticator.authenticate(token: foreign.accessToken)
        }
        #expect(signature?.code == .unauthenticated)
        #expect(signature?.reason?.contains("signature") == true)

        // A verifying-only authenticator with the right secret accepts the original.
        let verifier = JWTAuthenticator(store: fixture.store, secret: AuthFixture.secret, now: fixture.time.now)
        #expect(try await verifier.authenticate(token: tokens.accessToken)?.userID == tokens.user.id)
    }

    @Test func tokensAreNotPrintedAndRoundTripThroughJSON() async throws {
        let fixture = AuthFixture()
        let tokens = try await fixture.auth.signUp(username: "alice", password: password)
        let text = String(describing: tokens)
        #expect(!text.contains(tokens.accessToken))
        #expect(!text.contains(tokens.refreshToken))
        let decoded = try JSONDecoder().decode(AuthTokens.self, from: JSONEncoder().encode(tokens))
        #expect(decoded == tokens)
    }

    @Test func concurrentLoginsAllSucceed() async throws {
        let fixture = AuthFixture(limits: .init(loginAttemptBurst: 100))
        _ = try await fixture.auth.signUp(username: "alice", password: password)
        let auth = fixture.auth
        let password = password
        let sessions = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await auth.authenticator.authenticate(
                        token: auth.logIn(username: "alice", password: password).accessToken)?.sessionID
                }
            }
            return try await group.reduce(into: Set<String>()) { if let id = $1 { $0.insert(id) } }
        }
        #expect(sessions.count == 20)
    }

    @Test func aChatServerAcceptsRealTokensAndRefusesRevokedOnes() async throws {
        let fixture = AuthFixture()
        let transport = InProcessTransport()
        let server = ChatServer(
            store: fixture.store, transports: [transport], authenticators: [fixture.auth.authenticator],
            clock: ManualClock()
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }

            let tokens = try await fixture.auth.signUp(username: "alice", password: password)
            let client = TestClient(ChatClient(transport: transport, token: tokens.accessToken))
            let welcome = try await client.client.connected()
            #expect(welcome.user.id == tokens.user.id)
            await client.disconnect()

            try await fixture.auth.logOut(accessToken: tokens.accessToken)
            let refused = ChatClient(transport: transport, token: tokens.accessToken)
            await #expect {
                try await refused.run()
            } throws: { error in
                (error as? ChatError)?.code == .unauthenticated
            }
        }
    }
}

private func base64URL(_ text: String) -> String {
    Data(text.utf8).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}
