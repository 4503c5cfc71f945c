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

/// A broken promise found by a conformance case: what was expected, what happened, and where.
///
/// Cases throw it instead of asserting, so the suites run unchanged under Swift Testing or XCTest.
public struct ConformanceFailure: Error, Sendable, CustomStringConvertible {
    /// The case that failed, once known.
    public var caseName: String?
    /// What was expected and what happened instead.
    public var message: String
    /// The source file of the failed check.
    public var file: String
    /// The line of the failed check.
    public var line: Int

    /// Creates a failure.
    public init(_ message: String, caseName: String? = nil, file: String = #fileID, line: Int = #line) {
        self.message = message
        self.caseName = caseName
        self.file = file
        self.line = line
    }

    public var description: String {
        "\(caseName.map { "[\($0)] " } ?? "")\(message) (\(file):\(line))"
    }
}

/// Checks that `condition` holds.
///
/// - Throws: ``ConformanceFailure`` with `message` when it does not.
public func check(
    _ condition: Bool,
    _ message: @autoclosure () -> String,
    file: String = #fileID,
    line: Int = #line
) throws {
    if !condition { throw ConformanceFailure(message(), file: file, line: line) }
}

/// Checks that `actual` equals `expected`.
///
/// - Throws: ``ConformanceFailure`` naming `what`, the expected and the actual value when they differ.
public func checkEqual<Value: Equatable>(
    _ actual: Value,
    _ expected: Value,
    _ what: @autoclosure () -> String,
    file: String = #fileID,
    line: Int = #line
) throws {
    if actual != expected {
        throw ConformanceFailure("\(what()): expected \(expected), got \(actual)", file: file, line: line)
    }
}

/// Unwraps `value`.
///
/// - Throws: ``ConformanceFailure`` naming `what` when it is `nil`.
public func checkNotNil<Value>(
    _ value: Value?,
    _ what: @autoclosure () -> String,
    file: String = #fileID,
    line: Int = #line
) throws -> Value {
    guard let value else { throw ConformanceFailure("\(what()): expected a value, got nil", file: file, line: line) }
    return value
}
