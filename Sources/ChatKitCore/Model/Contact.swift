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

/// Where a contact relation between two users stands, seen from one of them.
public struct ContactState: NamedChoice {
    public let rawValue: String
    /// Creates a state from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// This user asked the other to become a contact; the other has not answered yet.
    public static let outgoing = ContactState(rawValue: "outgoing")
    /// The other user asked this user to become a contact; this user has not answered yet.
    public static let incoming = ContactState(rawValue: "incoming")
    /// Both users are contacts.
    public static let accepted = ContactState(rawValue: "accepted")

    public static var allKnown: [ContactState] { [.outgoing, .incoming, .accepted] }
}

/// One entry of a user's contact list (friend list), seen from that user.
public struct Contact: Hashable, Sendable, Codable {
    /// The other user.
    public var userID: UserID
    /// Where the relation stands from the list owner's side.
    public var state: ContactState
    /// When the relation reached its current state.
    public var since: Date

    /// Creates a contact entry.
    public init(userID: UserID, state: ContactState, since: Date) {
        self.userID = userID
        self.state = state
        self.since = since
    }
}
