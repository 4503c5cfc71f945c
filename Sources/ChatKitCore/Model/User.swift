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

public import Foundation

/// A user's public profile.
///
/// Credentials are kept apart from the profile (see ``Credentials``), so a profile can be handed to anyone who
/// may see the user without ever carrying a password hash.
public struct User: Hashable, Sendable, Codable {
    /// The user's stable identifier.
    public var id: UserID
    /// The unique name the user logs in with. Stores compare usernames exactly; callers normalise them first.
    public var username: String
    /// The name shown to others.
    public var displayName: String
    /// A short custom status text ("on holiday until Monday"), or `nil`.
    public var statusText: String?
    /// When the user signed up.
    public var createdAt: Date

    /// Creates a profile.
    public init(id: UserID, username: String, displayName: String, statusText: String? = nil, createdAt: Date) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.statusText = statusText
        self.createdAt = createdAt
    }
}

/// What a caller supplies to create a user; the store assigns the ID and the creation time.
public struct NewUser: Hashable, Sendable, Codable {
    /// The unique name the user logs in with (non-empty).
    public var username: String
    /// The name shown to others; defaults to the username when empty.
    public var displayName: String
    /// The initial status text, if any.
    public var statusText: String?

    /// Creates the description of a new user.
    public init(username: String, displayName: String = "", statusText: String? = nil) {
        self.username = username
        self.displayName = displayName
        self.statusText = statusText
    }
}

/// A change to a user's profile: `nil` fields stay as they are.
public struct ProfileUpdate: Hashable, Sendable, Codable {
    /// The new display name (non-empty), or `nil` to keep it.
    public var displayName: String?
    /// The new status text, or `nil` to keep it. Set ``clearsStatusText`` to remove the status.
    public var statusText: String?
    /// Removes the status text (takes precedence over ``statusText``).
    public var clearsStatusText: Bool

    /// Creates a profile change.
    public init(displayName: String? = nil, statusText: String? = nil, clearsStatusText: Bool = false) {
        self.displayName = displayName
        self.statusText = statusText
        self.clearsStatusText = clearsStatusText
    }
}

/// A user's secret login material, kept apart from their ``User`` profile.
///
/// Stores keep credentials as opaque strings; hashing is the authenticator's job (ChatKitServer uses bcrypt).
/// Never log a `Credentials` value.
public struct Credentials: Hashable, Sendable, Codable {
    /// The user these credentials belong to.
    public var userID: UserID
    /// The password hash (for example a bcrypt string). Never a plain password.
    public var passwordHash: String
    /// Increased whenever the credentials change, so tokens issued for an older version can be refused.
    public var version: Int64
    /// When the credentials last changed.
    public var updatedAt: Date

    /// Creates credentials.
    public init(userID: UserID, passwordHash: String, version: Int64 = 1, updatedAt: Date) {
        self.userID = userID
        self.passwordHash = passwordHash
        self.version = version
        self.updatedAt = updatedAt
    }
}
