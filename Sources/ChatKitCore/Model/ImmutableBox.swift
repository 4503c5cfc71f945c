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

/// A value kept on the heap, never changed once made, so that copies of the struct holding it share it.
///
/// ``Message`` and ``StoredEvent`` keep their fields in one: copying either (into an array, an event, an answer)
/// is then one reference count, not one per string and array. A change makes a new box (copy on write).
final class ImmutableBox<Value: Sendable>: Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}
