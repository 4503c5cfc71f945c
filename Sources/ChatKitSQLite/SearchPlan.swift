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

/// Chooses how a search of words (and prefixes the index holds as one posting list: up to 6 characters since
/// `Schema.v12`) whose scope — one conversation, or all of a user's — is a share of the store finds its candidates
/// (the newest matches), from the estimated cost of each way.
///
/// Three ways find the same matches:
/// - the plain walk: FTS5's matches newest first, each joined to its message row to see whether it is in the
///   scope: about 1.2 µs a match walked, most of it reading the row's page;
/// - ``ScopedIndexWalk``: FTS5's matches walked as row numbers only, each one's conversation looked up in memory
///   (``RowConversations``; 0.16 µs a match for one word), and the bodies of those in the scope read (1.4 µs each);
/// - ``ScopeScan``: the scope's messages read newest first and matched here (3.4 µs a message, its page read and
///   its words matched), up to its limit; when that many hold too few matches it gives up, and one of the others
///   answers after it.
///
/// The figures are measured at a million messages on the benchmark machine (`Documentation/Performance.md`);
/// only their ratios matter. How far a walk goes is estimated as if the query's matches were spread evenly over
/// the messages: to find the candidate limit in a scope holding a share `s` of the messages, a walk passes the
/// candidate limit over `s` matches, or all of them. Each word's matches are counted among its newest 10,000 and
/// their density estimated beyond (``SearchRanking/documentFrequency(_:matching:rowCount:exactCountLimit:)``,
/// a millisecond or two a word), and the words of a query of several are taken to come together by chance.
///
/// FTS5's own work per match grows with the query (several words, a prefix's words): the plain walk and the walk
/// against the scope's conversations both pay it, so it does not change which of the two is cheaper, but the scan does
/// not. So for a query of several words (or one word in two spellings) the scan comes first whenever it is expected to
/// find the candidates within its limit, and longer prefixes (the `OR` of their words), whose cost FTS5 tells only by
/// merging their words' lists, are left to the ways that answered them before. Words are not counted past one that
/// leaves fewer matches than the candidate limit: every way is short then, the walk the shortest.
struct SearchPlan {
    /// Which ways a search may take (tests force one to compare it with the others).
    enum Policy: Sendable {
        /// The cheapest by the estimate (within the limits the type's description gives).
        case cheapest
        /// ``ScopedIndexWalk`` for every search it can answer (every one without a broad prefix).
        case alwaysWalk
        /// Never ``ScopedIndexWalk``.
        case neverWalk
    }

    /// Microseconds per unit of work, as measured (see the type's description).
    static let plainPerMatch = 1.2
    static let walkPerMatch = 0.16
    static let walkPerCandidate = 1.4
    static let scanPerMessage = 3.4

    /// Whether ``ScopedIndexWalk`` is tried before ``ScopeScan``.
    let walksFirst: Bool
    /// Whether ``ScopedIndexWalk`` is tried when ``ScopeScan`` (and ``BroadPrefixScan``) did not answer, before the
    /// plain walk.
    let walksBeforePlain: Bool

    /// How many messages the first of the patterns match, as far as the plan counted them (all of them, or up to
    /// one that made the walk not worth it), each exact below ``exactCountLimit`` and estimated above; for
    /// ``ScopeScan``, which would count them too.
    let termMatches: [Double]?
    /// For ``SearchRanking``, which would count them too: the share of FTS5's rows each pattern matches, when the
    /// plan counted all of them and the count is exact by the ranking's own limit (`nil` entries it counts itself,
    /// as on every other way); empty otherwise.
    let densities: [Double?]

    /// Matches of a pattern are counted exactly below this: one more than ``ScopeScan``'s default rare-term limit,
    /// so that its decision at that limit is the one its own count makes.
    static let exactCountLimit = 10_001

    /// Walks nowhere: the search's ways as they were before ``ScopedIndexWalk``.
    static let noWalk = SearchPlan(walksFirst: false, walksBeforePlain: false)

    private init(walksFirst: Bool, walksBeforePlain: Bool, termMatches: [Double]? = nil, densities: [Double?] = []) {
        self.walksFirst = walksFirst
        self.walksBeforePlain = walksBeforePlain
        self.termMatches = termMatches
        self.densities = densities
    }

    /// The plan for a search of `text`, whose terms have the FTS5 patterns `patterns`, by `user` in `conversation`
    /// (or all of theirs), wanting `candidateLimit` candidates, with ``ScopeScan`` reading at most `scanLimit`
    /// messages.
    static func make(
        _ db: Database,
        _ text: SearchText,
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
        guard zip(text.terms, patterns).allSatisfy({ term, pattern in pattern.isOneList(for: term) }) else {
            return .noWalk
        }
        let scope = Double(try ScopeScan.scopeSize(db, user: user, conversation: conversation))
        let indexed = Double(try SearchIndex.progress(db).indexedUpTo)
        // A scope of half the messages or more: the plain walk passes at most two matches per candidate.
        guard scope > 0, scope * 2 < indexed else { return .noWalk }
        let wanted = Double(candidateLimit)
        var termMatches: [Double] = []
        var matches = indexed
        for pattern in patterns {
            let count = try SearchRanking.documentFrequency(
                db, matching: pattern.text, rowCount: indexed, exactCountLimit: exactCountLimit
            )
            termMatches.append(count)
            matches *= count / indexed
            // So few matches that every way is short, and the walk, which reads no other conversation's rows, the
            // shortest: the other words need no count (a rare word first stops here, as the scan's own count does).
            if matches <= wanted {
                return SearchPlan(walksFirst: true, walksBeforePlain: true, termMatches: termMatches)
            }
        }
        let costs = Costs(
            scope: scope, indexed: indexed, matches: matches, candidateLimit: wanted, scanLimit: Double(scanLimit)
        )
        // FTS5's work per match, which both walks pay and the scan does not, is the model's for one word only.
        let isOneWord = patterns.count == 1 && !patterns[0].text.contains(" OR ")
        let walkBeatsScan = !costs.scanSucceeds || (isOneWord && costs.walk < costs.scan)
        return SearchPlan(
            walksFirst: costs.walk < costs.plain && walkBeatsScan,
            walksBeforePlain: costs.walk < costs.plain,
            termMatches: termMatches,
            densities: try rankingDensities(db, termMatches)
        )
    }

    /// The counts `SearchRanking` would make itself, as shares of FTS5's rows (which it multiplies back): the exact
    /// ones, below its own limit; for the others it counts as it does on every other way, so that a search ranks
    /// its candidates alike whichever way found them.
    private static func rankingDensities(_ db: Database, _ termMatches: [Double]) throws -> [Double?] {
        guard let rows = try SearchRanking.totals(db)?.rows, rows > 0 else { return [] }
        return termMatches.map { $0 < Double(SearchRanking.exactCountLimit) ? $0 / rows : nil }
    }

    /// The estimated microseconds of each way.
    struct Costs {
        let plain: Double
        let walk: Double
        let scan: Double
        /// Whether the scan is expected to find the candidates within its limit.
        let scanSucceeds: Bool

        init(scope: Double, indexed: Double, matches: Double, candidateLimit: Double, scanLimit: Double) {
            let share = scope / indexed
            // Matches walked before the candidate limit is reached in the scope, or all of them.
            let walked = min(matches, candidateLimit / share)
            let inScope = min(candidateLimit, matches * share)
            plain = walked * SearchPlan.plainPerMatch
            walk = walked * SearchPlan.walkPerMatch + inScope * SearchPlan.walkPerCandidate
            let density = matches / indexed
            let read = density > 0 ? min(scope, candidateLimit / density) : scope
            scanSucceeds = read <= scanLimit
            // When it gives up after reading its limit, the cheaper of the others answers.
            scan =
                scanSucceeds
                ? read * SearchPlan.scanPerMessage : scanLimit * SearchPlan.scanPerMessage + min(plain, walk)
        }
    }
}
