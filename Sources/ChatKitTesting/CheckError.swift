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

public import ChatKitCore

/// Checks that `body` throws a ``ChatError`` with `code`.
///
/// - Throws: ``ConformanceFailure`` naming `what` when `body` succeeds, throws another code, or throws something
///   other than a ``ChatError``.
public func checkThrows<Result>(
    _ code: ChatError.Code,
    _ what: @autoclosure () -> String,
    file: String = #fileID,
    line: Int = #line,
    _ body: () async throws -> Result
) async throws {
    do {
        let result = try await body()
        throw ConformanceFailure(
            "\(what()): expected ChatError.\(code), but it succeeded with \(result)",
            file: file,
            line: line
        )
    } catch let error as ChatError {
        if error.code != code {
            throw ConformanceFailure("\(what()): expected ChatError.\(code), got \(error)", file: file, line: line)
        }
    }
}
