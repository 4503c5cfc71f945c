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
import Hummingbird

/// A request's query parameters, read as HTML forms and `URLSearchParams` write them
/// (`application/x-www-form-urlencoded`): `+` is a space and `%XX` a byte of UTF-8 text.
///
/// A parameter given with an empty value (`?before=&limit=20`) counts as absent, as a form's empty field does. Two
/// values for one name (`?limit=10&limit=20`), or text that is not valid percent-encoding, are refused with
/// `invalidArgument` naming the parameter, rather than one being picked or the raw text read.
struct QueryParameters {
    private let values: [String: String]

    /// Reads the request's query.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.invalidArgument` for a name given twice or text that does not decode.
    init(_ request: Request) throws(ChatError) {
        try self.init(query: request.uri.query ?? "")
    }

    /// Reads a query string (what follows `?`, without it).
    init(query: String) throws(ChatError) {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], what: "A query parameter's name")
            let value = try Self.decode(parts.count > 1 ? parts[1] : "", what: "The query parameter '\(name)'")
            guard values[name] == nil else {
                throw ChatError(.invalidArgument, "The query parameter '\(name)' is given more than once.")
            }
            values[name] = value
        }
        self.values = values.filter { !$0.value.isEmpty }
    }

    /// The parameter's text; `nil` when absent or empty.
    func string(_ name: String) -> String? { values[name] }

    /// The parameter as an integer; `nil` when absent or empty.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.invalidArgument` when it is not one.
    func integer(_ name: String) throws(ChatError) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = Int64(text) else {
            throw ChatError(.invalidArgument, "The query parameter '\(name)' must be an integer.")
        }
        return value
    }

    /// The parameter as a finite number; `nil` when absent or empty.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.invalidArgument` when it is not one.
    func number(_ name: String) throws(ChatError) -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw ChatError(.invalidArgument, "The query parameter '\(name)' must be a number.")
        }
        return value
    }

    private static func decode(_ text: Substring, what: @autoclosure () -> String) throws(ChatError) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding else {
            throw ChatError(
                .invalidArgument,
                "\(what()) is not valid percent-encoding: write '%' as '%25', and other bytes as UTF-8 '%XX'."
            )
        }
        return decoded
    }
}
