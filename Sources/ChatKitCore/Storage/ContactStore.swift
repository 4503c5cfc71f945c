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

/// Stores each user's contact list: requests, acceptances and removals. Part of ``ChatStore``.
///
/// Every change records one ``EventKind/contactChanged`` event visible to both users.
public protocol ContactStore: Sendable {
    /// Asks `other` to become a contact of `user`.
    ///
    /// If `other` had already asked `user`, the request accepts theirs. Asking again while a request is
    /// pending, or when already contacts, changes nothing and records no event.
    ///
    /// - Returns: The relation from `user`'s side (``ContactState/outgoing``, or ``ContactState/accepted``).
    /// - Throws: ``ChatError`` `.notFound` if either user does not exist, `.invalidArgument` if they are the same.
    func requestContact(from user: UserID, to other: UserID) async throws -> Contact

    /// Accepts the pending request `requester` sent to `user`.
    ///
    /// - Returns: The relation from `user`'s side, now ``ContactState/accepted``. Accepting an accepted contact
    ///   returns it unchanged.
    /// - Throws: ``ChatError`` `.notFound` if there is no such request.
    func acceptContact(_ user: UserID, from requester: UserID) async throws -> Contact

    /// Declines the pending request `requester` sent to `user`; the request disappears from both lists.
    ///
    /// - Throws: ``ChatError`` `.notFound` if there is no such pending request.
    func declineContact(_ user: UserID, from requester: UserID) async throws

    /// Removes the relation between `user` and `other`, whatever its state (this also withdraws a request
    /// `user` sent). It disappears from both lists.
    ///
    /// - Throws: ``ChatError`` `.notFound` if there is no relation.
    func removeContact(_ user: UserID, _ other: UserID) async throws

    /// `user`'s contact list from their side, ordered by the other user's ID.
    func contacts(of user: UserID) async throws -> [Contact]
}
