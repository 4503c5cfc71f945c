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

/// One named check of a contract, run against a fresh subject (a store, an authenticator, …).
public struct ConformanceCase<Subject: Sendable>: Sendable, CustomStringConvertible, Hashable {
    /// The area of the contract (`"messages"`, `"sync"`, …).
    public let area: String
    /// What the case checks, as a sentence.
    public let name: String
    let body: @Sendable (Subject) async throws -> Void

    /// Creates a case.
    public init(_ area: String, _ name: String, _ body: @escaping @Sendable (Subject) async throws -> Void) {
        self.area = area
        self.name = name
        self.body = body
    }

    /// `area: name`.
    public var description: String { "\(area): \(name)" }

    /// Runs the case against a fresh subject from `makeSubject`.
    ///
    /// - Throws: ``ConformanceFailure`` when the subject breaks the contract; an unexpected error from the subject
    ///   is reported as a failure too, with the error in the message.
    public func run(_ makeSubject: @Sendable () async throws -> Subject) async throws {
        let subject = try await makeSubject()
        do {
            try await body(subject)
        } catch var failure as ConformanceFailure {
            failure.caseName = description
            throw failure
        } catch {
            throw ConformanceFailure("unexpected error: \(error)", caseName: description)
        }
    }

    public static func == (lhs: ConformanceCase, rhs: ConformanceCase) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
