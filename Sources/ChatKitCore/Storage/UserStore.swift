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

/// Stores user profiles and their credentials. Part of ``ChatStore``.
public protocol UserStore: Sendable {
    /// Creates a user, and stores their credentials with the profile in one step when given.
    ///
    /// - Parameters:
    ///   - user: The profile. An empty display name becomes the username.
    ///   - passwordHash: The hash to store as version 1 of the user's ``Credentials``, or `nil` for a user who
    ///     authenticates elsewhere.
    /// - Returns: The stored profile, with its new ID and creation time.
    /// - Throws: ``ChatError`` `.conflict` if the username is taken, `.invalidArgument` if it is empty. Usernames
    ///   are compared byte for byte (UTF-8): callers that want case- or normalisation-insensitive names normalise
    ///   them before calling.
    func createUser(_ user: NewUser, passwordHash: String?) async throws -> User

    /// The profile with the given ID, or `nil`.
    func user(_ id: UserID) async throws -> User?

    /// The profile with the given username (compared byte for byte), or `nil`.
    func user(username: String) async throws -> User?

    /// The profiles of the given IDs that exist, in no particular order; unknown IDs are skipped.
    func users(_ ids: [UserID]) async throws -> [User]

    /// Changes a profile and records a ``EventKind/profileUpdated`` event for the user and their accepted contacts.
    ///
    /// - Returns: The updated profile.
    /// - Throws: ``ChatError`` `.notFound` for an unknown user, `.invalidArgument` for a display name that is empty
    ///   or white space alone.
    func updateProfile(of user: UserID, _ update: ProfileUpdate) async throws -> User

    /// The user's credentials, or `nil` if none were stored.
    func credentials(of user: UserID) async throws -> Credentials?

    /// Replaces the user's password hash and increments the credentials' ``Credentials/version`` (a user who had
    /// no credentials gets version 1).
    ///
    /// - Returns: The new credentials.
    /// - Throws: ``ChatError`` `.notFound` for an unknown user.
    func setPasswordHash(_ passwordHash: String, of user: UserID) async throws -> Credentials
}
