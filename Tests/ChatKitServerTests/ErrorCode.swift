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

/// The code of the ``ChatError`` `body` throws; `nil` if it succeeds or throws another error.
func code(_ body: () async throws -> Void) async -> ChatError.Code? {
    do {
        try await body()
        return nil
    } catch let error as ChatError {
        return error.code
    } catch {
        return nil
    }
}
