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

/// An event's frame on its way to connections, with its stream position (``Outbox`` drops an event a session
/// already has).
struct RoutedEvent: Sendable {
    /// The encoded `event` frame.
    let frame: String
    let position: StreamPosition
}
