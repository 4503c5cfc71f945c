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
import Foundation

/// Makes the IDs of new messages: time-ordered UUIDs (``ChatKitCore/TimeOrderedUUIDGenerator``), so that the
/// unique index on `message.id` grows at its end and a batch of appends writes its last leaf page once.
struct MessageIDGenerator: Sendable {
    private let uuids = TimeOrderedUUIDGenerator()

    func next(at date: Date) -> MessageID {
        MessageID(rawValue: uuids.next(at: date))
    }
}
