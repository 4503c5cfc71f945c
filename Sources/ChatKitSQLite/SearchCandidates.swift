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

/// The newest matches of a query found by reading message bodies (``ScopeScan``, ``BroadPrefixScan``), for
/// ``SearchRanking`` to score.
struct SearchCandidates {
    /// At most the search's candidate limit of matches, newest first.
    var candidates: [(rowNumber: Int64, body: String)]
    /// One entry per term: for a broad term (``PrefixExpansion/Pattern/isBroad``), the share of the examined
    /// messages that held it (the estimate of its document frequency among all messages); `nil` for the others,
    /// whose frequency is asked of FTS5. The examined messages are a sample, not all messages (those holding the
    /// query's other words, or one scope's), so a broad term that tends to come with them is estimated as more
    /// common than it is, and weighs less in the ranking than in FTS5's `bm25()`.
    var densities: [Double?]
}
