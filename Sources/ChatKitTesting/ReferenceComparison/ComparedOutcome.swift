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

/// How a reference comparison writes down what a store returned, so that two stores' outcomes compare as text:
/// results as JSON with sorted keys, the store under test's IDs and positions replaced by the reference's, and an
/// error as its ``ChatKitCore/ChatError/Code`` alone (stores word their reasons freely).
enum ComparedOutcome {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()

    /// The keys whose numbers are stream positions, which two stores may number differently.
    private static let positionKeys: Set<String> = ["position", "activity", "cursor"]
    /// What a store may leave out (a login session's `refreshedAt` and `credentialsVersion`, which a store that
    /// cannot keep them reads back as `nil`): not compared.
    private static let optionalKeys: Set<String> = ["refreshedAt", "credentialsVersion"]
    /// The keys of an event's lists in the order of their user IDs, which differ between stores: compared sorted.
    private static let userOrderedKeys: Set<String> = ["members", "audience"]

    /// An error as the comparison compares it.
    static func describe(_ error: any Error) -> String {
        if let error = error as? ChatError { return "ChatError.\(error.code)" }
        return "an error that is not a ChatError: \(type(of: error))"
    }

    /// `result` as text; with `translation`, the store under test's IDs and positions are replaced by the
    /// reference's. An unordered list is sorted.
    static func text(
        of result: Result<Data, any Error>, translation: IDTranslation?, unordered: Bool
    ) -> String {
        switch result {
        case .failure(let error):
            return describe(error)
        case .success(let data):
            do {
                var object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
                if let translation { object = translated(object, key: nil, by: translation) }
                object = withoutOptionalKeys(object)
                object = try sortingUserOrderedLists(object, key: nil)
                if unordered, let array = object as? [Any] {
                    return "[" + (try array.map(serialized).sorted().joined(separator: ",")) + "]"
                }
                return try serialized(object)
            } catch {
                return "a result that could not be read back: \(error)"
            }
        }
    }

    private static func serialized(_ object: Any) throws -> String {
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
        )
        return String(decoding: data, as: UTF8.self)
    }

    /// `object` with the store under test's IDs (any string the translation knows) and positions (the numbers
    /// under `positionKeys`) replaced by the reference's.
    private static func translated(_ object: Any, key: String?, by translation: IDTranslation) -> Any {
        switch object {
        case let dictionary as [String: Any]:
            return dictionary.reduce(into: [String: Any]()) { result, entry in
                result[entry.key] = translated(entry.value, key: entry.key, by: translation)
            }
        case let array as [Any]:
            return array.map { translated($0, key: key, by: translation) }
        case let string as String:
            return translation.ids[string] ?? string
        case let number as NSNumber:
            guard let key, positionKeys.contains(key) else { return number }
            // A position the store under test never recorded an event at must not equal the reference's by chance.
            guard let position = translation.positions[number.int64Value] else {
                return "a position with no event: \(number)"
            }
            return NSNumber(value: position)
        default:
            return object
        }
    }

    /// `object` without the keys a store may leave out (`optionalKeys`), at any depth.
    private static func withoutOptionalKeys(_ object: Any) -> Any {
        switch object {
        case let dictionary as [String: Any]:
            return dictionary.filter { !optionalKeys.contains($0.key) }.mapValues(withoutOptionalKeys)
        case let array as [Any]:
            return array.map(withoutOptionalKeys)
        default:
            return object
        }
    }

    /// Sorts the lists ordered by user ID (`userOrderedKeys`), in `object` and what it holds.
    private static func sortingUserOrderedLists(_ object: Any, key: String?) throws -> Any {
        switch object {
        case let dictionary as [String: Any]:
            return try dictionary.reduce(into: [String: Any]()) { result, entry in
                result[entry.key] = try sortingUserOrderedLists(entry.value, key: entry.key)
            }
        case let array as [Any]:
            let elements = try array.map { try sortingUserOrderedLists($0, key: key) }
            guard let key, userOrderedKeys.contains(key) else { return elements }
            return try elements.map { (try serialized($0), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        default:
            return object
        }
    }
}
