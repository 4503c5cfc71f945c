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

/// A value of a flat JSON object (see ``ClientFrame/parseCommon(_:)``). Package-visible: ChatKitServer reads its
/// access tokens' claims with it.
package enum FlatJSONValue: Equatable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null
    case strings([String])
    case integers([Int64])
    /// `[]`, which is an empty array of anything.
    case emptyArray
}

/// The fields of a flat JSON object, in order. A handful of fields: a list searched in order is cheaper than
/// hashing every key.
package struct FlatJSONObject {
    package internal(set) var fields: [(key: String, value: FlatJSONValue)] = []

    /// The value at `key`, if present.
    package subscript(key: String) -> FlatJSONValue? {
        // By index: `for field in fields` copied every field it passed, value and all.
        for index in fields.indices where Self.same(fields[index].key, key) { return fields[index].value }
        return nil
    }

    /// Whether every key is one of `keys`.
    package func hasOnlyKeys(in keys: [String]) -> Bool {
        fields.indices.allSatisfy { index in keys.contains { Self.same(fields[index].key, $0) } }
    }

    /// Whether two keys are equal, looking at their lengths first: most keys compared differ, and two short strings
    /// that differ took `String`'s slower comparison path (a look-up compares the key with every field's).
    private static func same(_ key: String, _ other: String) -> Bool {
        key.utf8.count == other.utf8.count && key == other
    }
}

extension FlatJSONObject {
    /// The string at `key`; `nil` if absent or not a string.
    func string(_ key: String) -> String? {
        guard case .string(let value)? = self[key] else { return nil }
        return value
    }

    /// `.some(nil)` if `key` is absent or `null`, `.some(string)` for a string, `nil` for anything else.
    func optionalString(_ key: String) -> String?? {
        switch self[key] {
        case nil, .null?: .some(nil)
        case .string(let value)?: .some(value)
        default: nil
        }
    }

    /// `.some(nil)` if `key` is absent or `null`, `.some(strings)` for an array of strings, `nil` otherwise.
    func optionalStrings(_ key: String) -> [String]?? {
        switch self[key] {
        case nil, .null?: .some(nil)
        case .strings(let values)?: .some(values)
        case .emptyArray?: .some([])
        default: nil
        }
    }

    /// The integers of the array at `key` (`[]` included); `nil` if absent or anything else.
    func integers(_ key: String) -> [Int64]? {
        switch self[key] {
        case .integers(let values)?: values
        case .emptyArray?: []
        default: nil
        }
    }

    /// `.some(nil)` if `key` is absent or `null`, `.some(value)` for an integer, `nil` otherwise.
    func optionalInteger(_ key: String) -> Int64?? {
        switch self[key] {
        case nil, .null?: .some(nil)
        case .integer(let value)?: .some(value)
        default: nil
        }
    }

    /// `false` if `key` is absent or `null`, `true` for `[]`; `nil` for anything else (a non-empty array is
    /// left to `JSONDecoder`).
    func optionalEmptyArray(_ key: String) -> Bool? {
        switch self[key] {
        case nil, .null?: false
        case .emptyArray?: true
        default: nil
        }
    }
}

/// Reads one flat JSON object from UTF-8 bytes; see ``ClientFrame/parseCommon(_:)`` for what "flat" allows.
package struct FlatJSONReader {
    /// The most fields an object may have. Common frames have a dozen at most; each new key is compared with every
    /// field read before it, so an object of thousands of keys (a frame anyone may send before logging in) would
    /// cost time quadratic in its size. Larger objects are left to `JSONDecoder`.
    package static let maximumFields = 32

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    package init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The object in `bytes`, if they are exactly one flat object (whitespace around it allowed).
    package static func object(in bytes: [UInt8]) -> FlatJSONObject? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = FlatJSONReader(buffer)
            return reader.readObject()
        }
    }

    /// The object's fields, if the bytes are exactly one flat object (whitespace around it allowed).
    package mutating func readObject() -> FlatJSONObject? {
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        var object = FlatJSONObject()
        object.fields.reserveCapacity(8)
        skipWhitespace()
        if !take(UInt8(ascii: "}")) {
            while true {
                skipWhitespace()
                guard let key = readString() else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                guard object.fields.count < Self.maximumFields, let value = readValue(), object[key] == nil else {
                    return nil
                }
                object.fields.append((key, value))
                skipWhitespace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        skipWhitespace()
        return index == bytes.count ? object : nil
    }

    private mutating func readValue() -> FlatJSONValue? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return readString().map(FlatJSONValue.string)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return readInteger().map(FlatJSONValue.integer)
        case UInt8(ascii: "t"):
            return readLiteral("true") ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return readLiteral("false") ? .bool(false) : nil
        case UInt8(ascii: "n"):
            return readLiteral("null") ? .null : nil
        case UInt8(ascii: "["):
            return readArray()
        default:
            return nil
        }
    }

    /// An array of strings only or of integers only.
    private mutating func readArray() -> FlatJSONValue? {
        index += 1  // [
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return .emptyArray }
        guard index < bytes.count else { return nil }
        var strings: [String] = []
        var integers: [Int64] = []
        let isStrings = bytes[index] == UInt8(ascii: "\"")
        while true {
            skipWhitespace()
            if isStrings {
                guard let string = readString() else { return nil }
                strings.append(string)
            } else {
                guard let integer = readInteger() else { return nil }
                integers.append(integer)
            }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "]")) else { return nil }
            return isStrings ? .strings(strings) : .integers(integers)
        }
    }

    /// An integer without fraction or exponent that fits in 64 bits; `nil` for any other number.
    private mutating func readInteger() -> Int64? {
        let isNegative = take(UInt8(ascii: "-"))
        let start = index
        var value: Int64 = 0
        while index < bytes.count, case UInt8(ascii: "0")...UInt8(ascii: "9") = bytes[index] {
            let digit = Int64(bytes[index] - UInt8(ascii: "0"))
            // Accumulate negatively: Int64.min has no positive counterpart.
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        let digits = index - start
        guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
            return nil
        }
        if isNegative { return value }
        return value == .min ? nil : -value
    }

    /// A string, its escapes decoded; `nil` for a malformed one (a raw control character, a bad escape, a lone
    /// surrogate).
    private mutating func readString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        // Most strings have no escape: take their bytes as they are.
        while index < bytes.count {
            index = JSONStringScan.plainPrefixEnd(of: bytes, from: index)
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                // Invalid UTF-8 declines, as JSONDecoder refuses it (a `String`'s bytes are valid, a token's may not
                // be).
                let string = ValidUTF8.string(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            index += 1
        }
        var decoded = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return decoded.withUnsafeBufferPointer(ValidUTF8.string)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = readUnicodeEscape() else { return nil }
                    decoded.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            case 0..<0x20:
                return nil
            default:
                decoded.append(byte)
            }
        }
        return nil
    }

    /// The scalar of a `\u` escape (its `\u` already read), joining a surrogate pair.
    private mutating func readUnicodeEscape() -> Unicode.Scalar? {
        guard let high = readHex4() else { return nil }
        if (0xD800...0xDBFF).contains(high) {
            guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = readHex4(),
                (0xDC00...0xDFFF).contains(low)
            else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        return Unicode.Scalar(high)  // nil for a lone low surrogate
    }

    private mutating func readHex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func readLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { return false }
        index += count
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
