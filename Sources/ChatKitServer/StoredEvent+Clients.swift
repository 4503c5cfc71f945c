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

extension StoredEvent {
    /// The event as clients may see it: without ``ChatKitCore/StoredEvent/audience``, the list of users the server
    /// routes it to (for a profile change, the user and their accepted contacts), which is nobody else's business.
    var forClients: StoredEvent {
        guard audience != nil else { return self }
        var event = self
        event.audience = nil
        return event
    }
}

extension SyncPage {
    /// The page as clients may see it (see ``ChatKitCore/StoredEvent/forClients``).
    var forClients: SyncPage {
        SyncPage(events: events.map(\.forClients), cursor: cursor, hasMore: hasMore)
    }
}
