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

import Foundation

/// Where a store's stream positions start when it opens: the time in microseconds since 1970.
///
/// Positions count up from the last one stored. A database that goes back in time (restored from a backup, or
/// having lost its newest commits in a power loss with `synchronous = normal`) would then hand out again the
/// positions of the events it lost, which clients have already seen: a client resuming from such a cursor would
/// skip the new events at those positions as seen. So each opening of the store starts counting at the time it
/// opened, in microseconds, at least. Positions handed out before counted up from an earlier opening, by fewer
/// than a million a second (SQLite commits far fewer), so they stay below it as long as the clock does not go
/// back between the two openings. Positions within one opening stay consecutive; between openings they jump.
///
/// Microseconds since 1970 are about 1.8 × 10¹⁵ in 2026: exact in a JavaScript number (below 2⁵³, about
/// 9 × 10¹⁵) until the year 2255.
enum PositionFloor {
    /// The floor for a store opened at `date`.
    static func at(_ date: Date) -> Int64 {
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded(.down)
        guard microseconds.isFinite, microseconds > 0 else { return 0 }
        return Int64(min(microseconds, 4e18))
    }
}
