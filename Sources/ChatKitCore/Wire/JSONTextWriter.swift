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

import Foundation

/// Writes JSON text byte by byte, exactly as ``WireCodec``'s `JSONEncoder` (sorted keys, unescaped slashes,
/// dates as integer milliseconds) would write the same values.
///
/// Foundation's `JSONEncoder` builds a tree of boxed values for every frame and sorts each object's keys, about
/// 30 µs for a message event: a third of the server's time per delivered message. The frames the server sends
/// most (events, results, typing, presence) are written with this instead, fields in sorted order by hand;
/// anything else is spliced in from `JSONEncoder` (``encodable(_:)``). `WireTextEncodingTests` checks that
/// every frame comes out byte for byte as `JSONEncoder` writes it, so the two can never drift apart.
///
/// The bytes go into memory the writer owns (it is not copyable, and frees it when it goes): appending a byte to
/// an `Array` checked the array's uniqueness and capacity each time, a fifth of the time a frame took.
struct JSONTextWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    /// Whether the next value or key needs a comma before it.
    private var needsComma = false

    init(capacity: Int = 512) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The text written so far.
    var text: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    // MARK: Containers

    /// Writes an object whose fields `body` writes (with ``key(_:)`` before each value).
    mutating func object(_ body: (inout JSONTextWriter) throws -> Void) rethrows {
        separate()
        append(UInt8(ascii: "{"))
        needsComma = false
        try body(&self)
        append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes an array of `elements`, each written by `element`.
    mutating func array<Element>(
        _ elements: [Element], _ element: (inout JSONTextWriter, Element) throws -> Void
    ) rethrows {
        separate()
        append(UInt8(ascii: "["))
        needsComma = false
        for value in elements { try element(&self, value) }
        append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key. Keys are ASCII identifiers written as they are (they need no escaping).
    mutating func key(_ name: StaticString) {
        separate()
        append(UInt8(ascii: "\""))
        append(name)
        append(UInt8(ascii: "\""))
        append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: Values

    mutating func string(_ value: String) {
        separate()
        append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            var index = 0
            while index < utf8.count {
                index = JSONStringScan.plainPrefixEnd(of: utf8, from: index)
                guard index < utf8.count else { break }
                let byte = utf8[index]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    append(UnsafeBufferPointer(rebasing: utf8[start..<index]))
                    appendEscaped(byte)
                    start = index + 1
                }
                index += 1
            }
            append(UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func int(_ value: Int64) {
        separate()
        if value < 0 {
            append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var digitCount = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - digitCount] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                digitCount += 1
            } while magnitude > 0
            append(UnsafeRawBufferPointer(rebasing: buffer[(20 - digitCount)...]))
        }
        needsComma = true
    }

    mutating func int(_ value: Int) {
        int(Int64(value))
    }

    mutating func bool(_ value: Bool) {
        separate()
        let literal: StaticString = value ? "true" : "false"
        append(literal)
        needsComma = true
    }

    /// A date as integer milliseconds since 1970, rounded as ``WireCodec`` rounds it.
    mutating func date(_ value: Date) {
        int(Int64((value.timeIntervalSince1970 * 1000).rounded()))
    }

    /// Any other value, as `JSONEncoder` with ``WireCodec``'s settings writes it.
    mutating func encodable(_ value: some Encodable) throws {
        separate()
        try WireCodec.makeEncoder().encode(value).withUnsafeBytes { append($0) }
        needsComma = true
    }

    // MARK: Fields

    /// A field whose value is left out when `nil`, as synthesized `Encodable` conformances do.
    mutating func field<Value>(
        _ name: StaticString, _ value: Value?, _ write: (inout JSONTextWriter, Value) throws -> Void
    ) rethrows {
        guard let value else { return }
        key(name)
        try write(&self, value)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    mutating func field(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        key(name)
        date(value)
    }

    mutating func field(_ name: StaticString, _ value: (some ChatIdentifier)?) {
        guard let value else { return }
        key(name)
        string(value.rawValue)
    }

    mutating func field(_ name: StaticString, _ value: (some NamedChoice)?) {
        guard let value else { return }
        key(name)
        string(value.rawValue)
    }

    mutating func field(_ name: StaticString, _ values: [some ChatIdentifier]?) {
        guard let values else { return }
        key(name)
        array(values) { writer, value in writer.string(value.rawValue) }
    }

    /// A field of any other type, spliced in from `JSONEncoder`; left out when `nil`.
    mutating func encodableField(_ name: StaticString, _ value: (some Encodable)?) throws {
        guard let value else { return }
        key(name)
        try encodable(value)
    }

    // MARK: Internals

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(toHold: count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(toHold: count + bytes.count) }
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    private mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { append($0) }
    }

    private mutating func grow(toHold needed: Int) {
        let newCapacity = max(capacity * 2, needed)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { append(UInt8(ascii: ",")) }
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): append(UInt8(ascii: "\\"))
        case 0x08: append(UInt8(ascii: "b"))
        case 0x09: append(UInt8(ascii: "t"))
        case 0x0A: append(UInt8(ascii: "n"))
        case 0x0C: append(UInt8(ascii: "f"))
        case 0x0D: append(UInt8(ascii: "r"))
        default:
            let hex: StaticString = "0123456789abcdef"
            append("u00")
            hex.withUTF8Buffer { digits in
                append(digits[Int(byte >> 4)])
                append(digits[Int(byte & 0x0F)])
            }
        }
    }
}
