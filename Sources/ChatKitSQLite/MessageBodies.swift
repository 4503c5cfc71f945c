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

import GRDB

/// Reads the bodies of messages given by row number, ``chunkSize`` row numbers to one statement execution.
///
/// A statement per message costs about twice as much. The row numbers are bound as a list of parameters, not
/// passed as JSON to `json_each`, so that SQLite's JSON functions are not needed.
struct MessageBodies {
    /// How many messages one statement execution reads.
    static let chunkSize = 500

    private let statement: RawStatement

    init(_ db: Database) throws {
        let parameters = (1...Self.chunkSize).map { "?\($0)" }.joined(separator: ",")
        // SQLite reads an `IN` list of row numbers in the order the `ORDER BY` asks for, without sorting the rows.
        statement = try RawStatement(
            db,
            """
            SELECT rowNumber, body, conversationID FROM message
            WHERE rowNumber IN (\(parameters)) AND deletedAt IS NULL
            ORDER BY rowNumber DESC
            """
        )
    }

    /// Reads the messages of `rowNumbers` (at most ``chunkSize``) that are not deleted, highest row number first,
    /// calling `body` with the statement on each one's row (column 0 the row number, column 1 the body, column 2 its
    /// conversation's ID) until it returns `false`.
    func read(_ rowNumbers: ArraySlice<Int64>, _ body: (RawStatement) throws -> Bool) throws {
        precondition(rowNumbers.count <= Self.chunkSize, "more row numbers than one statement reads")
        // Row numbers start at 1: the parameters a shorter chunk leaves are bound to 0.
        var parameter: Int32 = 1
        for rowNumber in rowNumbers {
            statement.bind(parameter, rowNumber)
            parameter += 1
        }
        while parameter <= Int32(Self.chunkSize) {
            statement.bind(parameter, 0)
            parameter += 1
        }
        defer { statement.reset() }
        while try statement.step() {
            guard try body(statement) else { return }
        }
    }
}
