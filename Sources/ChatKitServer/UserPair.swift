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

/// Two users, in either order: `UserPair(a, b) == UserPair(b, a)`.
struct UserPair: Hashable, Sendable {
    let first: UserID
    let second: UserID

    init(_ one: UserID, _ other: UserID) {
        (first, second) = one.rawValue <= other.rawValue ? (one, other) : (other, one)
    }
}
