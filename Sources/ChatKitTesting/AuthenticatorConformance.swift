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

public import ChatKitCore

/// The conformance suite of ``ChatKitCore/Authenticator``: what the server relies on from any authenticator.
///
/// Describe your authenticator as a ``Subject``: how to create a user, issue a valid token and revoke it.
///
/// ```swift
/// @Test(arguments: AuthenticatorConformance.cases)
/// func conformance(_ check: AuthenticatorConformance.Case) async throws {
///     try await check.run { try await MyAuthenticator.makeTestSubject() }
/// }
/// ```
public enum AuthenticatorConformance {
    /// An authenticator with the means to exercise it.
    public struct Subject: Sendable {
        /// The authenticator under test.
        public var authenticator: any Authenticator
        /// Creates a user with the given username and returns their ID.
        public var makeUser: @Sendable (String) async throws -> UserID
        /// Issues a valid token for a user created with ``makeUser``.
        public var issueToken: @Sendable (UserID) async throws -> String
        /// Revokes a token issued with ``issueToken``.
        public var revokeToken: @Sendable (String) async throws -> Void
        /// Issues a token for a user that has expired by now (for example issued with a clock set back past the
        /// token's lifetime); `nil` for an authenticator whose tokens do not expire, which skips that case.
        public var issueExpiredToken: (@Sendable (UserID) async throws -> String)?
        /// A token of another kind than the authenticator's (another scheme's, which the authenticator must answer
        /// `nil` for, so that the server asks the next authenticator); `nil` for an authenticator that takes every
        /// token as its own, which skips that case.
        public var foreignToken: String?

        /// Creates a subject.
        ///
        /// - Parameters:
        ///   - authenticator: The authenticator under test.
        ///   - makeUser: Creates a user with the given username and returns their ID.
        ///   - issueToken: Issues a valid token for a user.
        ///   - revokeToken: Revokes an issued token.
        ///   - issueExpiredToken: Issues a token that has expired by now; `nil` if tokens do not expire.
        ///   - foreignToken: A token of another kind, which the authenticator must not take as its own; `nil` if it
        ///     takes every token as its own.
        public init(
            authenticator: any Authenticator,
            makeUser: @escaping @Sendable (String) async throws -> UserID,
            issueToken: @escaping @Sendable (UserID) async throws -> String,
            revokeToken: @escaping @Sendable (String) async throws -> Void,
            issueExpiredToken: (@Sendable (UserID) async throws -> String)? = nil,
            foreignToken: String? = nil
        ) {
            self.authenticator = authenticator
            self.makeUser = makeUser
            self.issueToken = issueToken
            self.revokeToken = revokeToken
            self.issueExpiredToken = issueExpiredToken
            self.foreignToken = foreignToken
        }
    }

    /// One named check, run against a fresh subject.
    public typealias Case = ConformanceCase<Subject>

    /// Every case of the suite.
    public static var cases: [Case] {
        [
            Case("authenticator", "an issued token proves its user") { subject in
                let alice = try await subject.makeUser("alice")
                let token = try await subject.issueToken(alice)
                let user = try await subject.authenticator.authenticate(token: token)
                try checkEqual(user?.userID, alice, "the user of an issued token")
            },
            Case("authenticator", "tokens of two users are not confused") { subject in
                let alice = try await subject.makeUser("alice")
                let bob = try await subject.makeUser("bob")
                let aliceToken = try await subject.issueToken(alice)
                let bobToken = try await subject.issueToken(bob)
                try checkEqual(try await subject.authenticator.authenticate(token: bobToken)?.userID, bob, "bob")
                try checkEqual(try await subject.authenticator.authenticate(token: aliceToken)?.userID, alice, "alice")
            },
            Case("authenticator", "a revoked token is rejected as unauthenticated") { subject in
                let alice = try await subject.makeUser("alice")
                let token = try await subject.issueToken(alice)
                try await subject.revokeToken(token)
                try await checkThrows(.unauthenticated, "authenticating a revoked token") {
                    try await subject.authenticator.authenticate(token: token)
                }
            },
            Case("authenticator", "an expired token is rejected as unauthenticated") { subject in
                // Only for a subject that can issue one (its tokens expire).
                guard let issueExpiredToken = subject.issueExpiredToken else { return }
                let alice = try await subject.makeUser("alice")
                let token = try await issueExpiredToken(alice)
                try await checkThrows(.unauthenticated, "authenticating an expired token") {
                    try await subject.authenticator.authenticate(token: token)
                }
                // A token issued now still works: the expired one was refused for its time, not its user.
                let fresh = try await subject.authenticator.authenticate(token: try await subject.issueToken(alice))
                try checkEqual(fresh?.userID, alice, "the user of a token issued now")
            },
            Case("authenticator", "a token it never issued proves nobody") { subject in
                let alice = try await subject.makeUser("alice")
                let token = try await subject.issueToken(alice)
                for forged in ["", "garbage", token + "x", String(token.dropLast()), String(token.reversed())] {
                    do {
                        let user = try await subject.authenticator.authenticate(token: forged)
                        try check(user == nil, "a forged token proved \(String(describing: user))")
                    } catch let error as ChatError {
                        try checkEqual(error.code, .unauthenticated, "the error for a forged token")
                    }
                }
            },
            Case("authenticator", "a token of another kind is not its own: nil, so that the next one is asked") {
                subject in
                // Only for a subject with such a token (an authenticator that takes every token as its own has none).
                guard let foreignToken = subject.foreignToken else { return }
                let user = try await subject.authenticator.authenticate(token: foreignToken)
                try check(
                    user == nil,
                    "a token of another kind proved \(String(describing: user)): the next authenticator is never asked"
                )
            },
            Case("authenticator", "revoking one user's token leaves another's working") { subject in
                let alice = try await subject.makeUser("alice")
                let bob = try await subject.makeUser("bob")
                let aliceToken = try await subject.issueToken(alice)
                let bobToken = try await subject.issueToken(bob)
                try await subject.revokeToken(aliceToken)
                try checkEqual(
                    try await subject.authenticator.authenticate(token: bobToken)?.userID, bob,
                    "bob's token after alice's was revoked"
                )
            },
            Case("authenticator", "50 concurrent authentications all succeed") { subject in
                let alice = try await subject.makeUser("alice")
                let token = try await subject.issueToken(alice)
                let users = try await withThrowingTaskGroup(of: UserID?.self) { group in
                    for _ in 0..<50 {
                        group.addTask { try await subject.authenticator.authenticate(token: token)?.userID }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                try checkEqual(users, Array(repeating: alice, count: 50), "users of 50 concurrent authentications")
            },
        ]
    }
}
