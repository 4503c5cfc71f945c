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

/// The one error type ChatKit's protocols and implementations throw.
///
/// Match on ``code``, never on the description: codes are stable and are also the error codes of the wire
/// protocol. ``reason`` is for developers and never contains message bodies, passwords or tokens.
///
/// ```swift
/// do {
///     _ = try await store.append(message)
/// } catch let error as ChatError where error.code == .notFound {
///     // the conversation does not exist, or the sender is not a member
/// }
/// ```
public struct ChatError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch over them with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case notFound, conflict, unauthenticated, forbidden, invalidArgument, limitExceeded, storageFailure
            case unavailable
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The thing asked for does not exist, or the caller may not know that it exists (a conversation the
        /// caller is not a member of is reported as not found, never as forbidden).
        public static let notFound = Code(.notFound)
        /// The request contradicts the current state: a taken username, editing a deleted message, leaving a
        /// conversation the caller is the last owner of.
        public static let conflict = Code(.conflict)
        /// The caller did not prove who it is, or its credentials are no longer valid.
        public static let unauthenticated = Code(.unauthenticated)
        /// The caller is known and may see the thing, but lacks the role or ownership the request needs.
        public static let forbidden = Code(.forbidden)
        /// The request itself is malformed: an empty message, an unknown conversation kind, a reply to a
        /// message in another conversation.
        public static let invalidArgument = Code(.invalidArgument)
        /// A configured limit was exceeded (size, count or rate).
        public static let limitExceeded = Code(.limitExceeded)
        /// The storage backend failed; ``ChatError/underlying`` holds the backend's error.
        public static let storageFailure = Code(.storageFailure)
        /// The other side cannot be reached right now: not connected, the connection dropped, or the server is
        /// shutting down. Retrying later may succeed.
        public static let unavailable = Code(.unavailable)

        /// The stable string of this code, as used on the wire (for example `"notFound"`).
        public var description: String { base.rawValue }

        /// The code with the given wire string, or `nil` for a string this version does not know.
        public init?(wireValue: String) {
            guard let base = Base(rawValue: wireValue) else { return nil }
            self.base = base
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence for developers saying what went wrong and, where useful, what to do.
    public var reason: String?
    /// The error that caused this one, if any (typically a backend's error for ``Code/storageFailure``).
    public var underlying: (any Error)?
    /// For ``Code/limitExceeded`` by rate: how long to wait before retrying.
    public var retryAfter: Duration?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - reason: A sentence for developers; never include message bodies, passwords or tokens.
    ///   - underlying: The error that caused this one.
    public init(_ code: Code, _ reason: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.reason = reason
        self.underlying = underlying
    }

    public var description: String {
        var text = "ChatError.\(code)"
        if let reason { text += ": \(reason)" }
        if let underlying { text += " (underlying: \(String(describing: underlying)))" }
        return text
    }
}
