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

import Synchronization

/// A flag that is set once and read from any task.
final class SetOnceFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Sets the flag.
    func set() { value.store(true, ordering: .releasing) }

    /// Whether the flag was set.
    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Sets the flag; whether this call set it (it was not set before).
    func setFirst() -> Bool { !value.exchange(true, ordering: .acquiringAndReleasing) }
}
