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


/// The store under test's IDs and positions, each with the reference's that names the same thing.
struct IDTranslation: Sendable {
    var ids: [String: String] = [:]
    var positions: [Int64: Int64] = [:]
}
