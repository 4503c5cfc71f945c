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
import GRDB

/// Chooses how a search whose scope — one conversation, or all of a user's — is a share of the store finds its
/// candidates (the newest matches), from the estimated cost of each way.
///
/// Three ways find the same matches:
/// - the plain walk: FTS5's matches newest first, each joined to its message row to see whether it is in the
///   scope: about 1.2 µs a match walked, most of it reading the row's page;
/// - ``ScopedIndexWalk``: the scope's row numbers read from the conversation index (0.15 µs each), FTS5's
///   matches walked as row numbers only (0.16 µs each), and the bodies of those in the scope read (1.4 µs each);
/// - ``ScopeScan``: the scope's messages read newest first and matched here (3.4 µs a message), up to its limit;
///   when that many hold too few matches it gives up, and one of the others answers after it.
///
/// The figures are measured at a million messages on the benchmark machine (`Documentation/Performance.md`);
/// only their ratios matter. How far a walk goes is estimated as if the query's matches were spread evenly over
/// the messages: to find the candidate limit in a scope holding a share `s` of the messages, a walk passes the
/// candidate limit over `s` matches, or all of them. The number of matches is FTS5's count of the query's newest
/// 10,000 matches, and their density beyond (``SearchRanking/documentFrequency(_:matching:rowCount:exactCountLimit:)``,
/// about a millisecond at most).
struct SearchPlan {
    /// Which ways a search may take (tests force one to compare it with the others).
    enum Policy: Sendable {
        /// The cheapest by the estimate.
        case cheapest
        /// ``ScopedIndexWalk`` for every search it can answer (every one without a broad prefix).
        case alwaysWalk
        /// Never ``ScopedIndexWalk``.
        case neverWalk
    }

    /// Microseconds per unit of work, as measured (see the type's description).
    static let plainPerMatch = 1.2
    static let walkPerScopeRow = 0.15
    static let walkPerMatch = 0.16
    static let walkPerCandidate = 1.4
    static let scanPerMessage = 3.4

    /// Whether ``ScopedIndexWalk`` is tried before ``ScopeScan``.
    let walksFirst: Bool
    /// Whether ``ScopedIndexWalk`` is tried when ``ScopeScan`` (and ``BroadPrefixScan``) did not answer, before the
    /// plain walk.
    let walksBeforePlain: Bool

    /// Walks nowhere: the search's ways as they were before ``ScopedIndexWalk``.
    static let noWalk = SearchPlan(walksFirst: false, walksBeforePlain: false)

    private init(walksFirst: Bool, walksBeforePlain: Bool) {
        self.walksFirst = walksFirst
        self.walksBeforePlain = walksBeforePlain
    }

    /// The plan for a search of `patterns` (FTS5 patterns of its terms, all of them required) by `user` in
    /// `conversation` (or all of theirs), wanting `candidateLimit` candidates, with ``ScopeScan`` reading at most
    /// `scanLimit` messages.
    static func make(
        _ db: Database,
        patterns: [PrefixExpansion.Pattern],
        user: UserID,
        conversation: ConversationID?,
        candidateLimit: Int,
        scanLimit: Int,
        policy: Policy
    ) throws -> SearchPlan {
        // FTS5 merges a broad prefix's posting lists before its first match: once, by the plain walk, is enough.
        guard policy != .neverWalk, !patterns.isEmpty, !patterns.contains(where: \.isBroad) else { return .noWalk }
        if policy == .alwaysWalk { return SearchPlan(walksFirst: true, walksBeforePlain: true) }
        let scope = Double(try ScopeScan.scopeSize(db, user: user, conversation: conversation))
        let indexed = Double(try SearchIndex.progress(db).indexedUpTo)
        // A scope of half the messages or more: the plain walk passes at most two matches per candidate.
        guard scope > 0, scope * 2 < indexed else { return .noWalk }
        let matches = try SearchRanking.documentFrequency(
            db, matching: patterns.map(\.text).joined(separator: " AND "), rowCount: indexed
        )
        let costs = Costs(
            scope: scope, indexed: indexed, matches: matches, candidateLimit: Double(candidateLimit),
            scanLimit: Double(scanLimit)
        )
        return SearchPlan(
            walksFirst: costs.walk < costs.scan && costs.walk < costs.plain,
            walksBeforePlain: costs.walk < costs.plain
        )
    }

    /// The estimated microseconds of each way.
    struct Costs {
        let plain: Double
        let walk: Double
        let scan: Double

        init(scope: Double, indexed: Double, matches: Double, candidateLimit: Double, scanLimit: Double) {
            let share = scope / indexed
            // Matches walked before the candidate limit is reached in the scope, or all of them.
            let walked = min(matches, candidateLimit / share)
            let inScope = min(candidateLimit, matches * share)
            plain = walked * SearchPlan.plainPerMatch
            walk = scope * SearchPlan.walkPerScopeRow + walked * SearchPlan.walkPerMatch
                + inScope * SearchPlan.walkPerCandidate
            let density = matches / indexed
            let read = density > 0 ? min(scope, candidateLimit / density) : scope
            if read <= scanLimit {
                scan = read * SearchPlan.scanPerMessage
            } else {
                // Gives up after reading its limit; the cheaper of the others answers.
                scan = scanLimit * SearchPlan.scanPerMessage + min(plain, walk)
            }
        }
    }
}
