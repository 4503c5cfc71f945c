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

import Glibc

/// A WebSocket peer on a blocking TCP socket that writes and reads single frames, for what no WebSocket client
/// here does on purpose: leave pings unanswered, fragment a message, send a close frame with a given code.
///
/// Use it from a dedicated thread (``onDedicatedThread(_:)``): every call blocks. A read that waits a minute
/// (`SO_RCVTIMEO`) throws, so a test never hangs on it.
final class RawWebSocketPeer {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One frame as read from the server.
    struct Frame {
        var isFinal: Bool
        var opcode: UInt8
        var payload: [UInt8]

        var text: String { String(decoding: payload, as: UTF8.self) }
        /// A close frame's status code.
        var closeCode: UInt16? {
            payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
        }
        /// A close frame's reason text.
        var closeReason: String { String(decoding: payload.dropFirst(2), as: UTF8.self) }
    }

    static let text: UInt8 = 0x1
    static let continuation: UInt8 = 0x0
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    private let socket: Int32
    private var received: [UInt8] = []

    /// Connects to 127.0.0.1:`port` (with a small receive buffer, to play a slow peer, if `receiveBufferSize` is
    /// given); ``upgrade(path:)`` then opens the WebSocket.
    init(port: Int, receiveBufferSize: Int32? = nil) throws {
        socket = try BlockingTCP.connect(port: port, receiveBufferSize: receiveBufferSize)
        // Half the failsafe timeout: the socket's failure names what went wrong before a wait around it times out.
        var timeout = timeval(tv_sec: Int(failsafeTimeout.components.seconds) / 2, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(socket) }

    /// Makes a write that cannot go on for `seconds` (the server has stopped reading, and the socket buffers are
    /// full) fail instead of waiting.
    func setSendTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends a WebSocket upgrade request for `path` and returns the response head.
    func upgrade(path: String = "/v1/ws") throws -> String {
        let request = [
            "GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", "", "",
        ].joined(separator: "\r\n")
        try send(Array(request.utf8))
        return try readHead()
    }

    /// Sends a request of the given header lines (no body) and returns the response head.
    func request(_ lines: [String]) throws -> String {
        try send(Array((lines + ["", ""]).joined(separator: "\r\n").utf8))
        return try readHead()
    }

    /// Sends a plain `GET` of `path` on the connection, keeping it open, and returns the response head; its body
    /// (by `Content-Length`) is read and dropped.
    func get(path: String) throws -> String {
        try send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        let head = try readHead()
        let length = head.split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int(String($0.split(separator: ":")[1].filter { $0 != " " })) } ?? 0
        while received.count < length {
            guard try readMore() else { throw Failure(description: "closed before the response body") }
        }
        received.removeFirst(length)
        return head
    }

    /// Returns once the server ends the connection (anything it sends before is dropped); throws if the connection
    /// is still open after the read timeout (a minute without data).
    func waitForEnd() throws {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count > 0 { continue }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                throw Failure(description: "the server kept the connection open (nothing read for a minute)")
            }
            return  // closed, or reset
        }
    }

    /// Reads a response head, up to its blank line.
    private func readHead() throws -> String {
        while true {
            if let end = headEnd() {
                let head = String(decoding: received[..<end], as: UTF8.self)
                received.removeFirst(end + 4)
                return head
            }
            guard try readMore() else { throw Failure(description: "closed before the response head") }
        }
    }

    /// Writes one frame, masked as a client must unless `isMasked` is `false`.
    func write(opcode: UInt8, _ payload: [UInt8], isFinal: Bool = true, isMasked: Bool = true) throws {
        try send(Self.frame(opcode: opcode, payload, isFinal: isFinal, isMasked: isMasked))
    }

    /// Writes a frame made by ``frame(opcode:_:isFinal:isMasked:)`` (masking is slow in a debug build: make a frame
    /// written many times once).
    func write(frame: [UInt8]) throws {
        try send(frame)
    }

    /// One frame's bytes, masked as a client must unless `isMasked` is `false`.
    static func frame(opcode: UInt8, _ payload: [UInt8], isFinal: Bool = true, isMasked: Bool = true) -> [UInt8] {
        var frame: [UInt8] = [(isFinal ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = isMasked ? 0x80 : 0
        let mask: [UInt8] = isMasked ? [0x37, 0xFA, 0x21, 0x3D] : [0, 0, 0, 0]
        switch payload.count {
        case ..<126:
            frame.append(maskBit | UInt8(payload.count))
        case ..<65_536:
            frame.append(maskBit | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            frame.append(maskBit | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        if isMasked { frame += mask }
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }

    /// Reads the next frame; `nil` when the server closed the connection. Throws after a minute without data.
    func readFrame() throws -> Frame? {
        while true {
            if let frame = parseFrame() { return frame }
            guard try readMore() else { return nil }
        }
    }

    /// Reads frames until one with `opcode` arrives; `nil` if the connection ends first.
    func readFrame(opcode: UInt8) throws -> Frame? {
        while let frame = try readFrame() {
            if frame.opcode == opcode { return frame }
        }
        return nil
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure(description: "send() failed") }
            sent += count
        }
    }

    private func readMore() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(socket, &buffer, buffer.count, 0)
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
            throw Failure(description: "nothing read from the server for a minute")
        }
        guard count > 0 else { return false }
        received += buffer[0..<count]
        return true
    }

    private func headEnd() -> Int? {
        guard received.count >= 4 else { return nil }
        return (0...(received.count - 4)).first { received[$0..<($0 + 4)].elementsEqual([13, 10, 13, 10]) }
    }

    /// An unmasked frame from the start of `received`, removed from it; `nil` until it has all arrived.
    private func parseFrame() -> Frame? {
        guard received.count >= 2 else { return nil }
        var length = Int(received[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard received.count >= 4 else { return nil }
            length = Int(received[2]) << 8 | Int(received[3])
            offset = 4
        } else if length == 127 {
            guard received.count >= 10 else { return nil }
            length = received[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard received.count >= offset + length else { return nil }
        let frame = Frame(
            isFinal: received[0] & 0x80 != 0, opcode: received[0] & 0x0F,
            payload: Array(received[offset..<(offset + length)])
        )
        received.removeFirst(offset + length)
        return frame
    }
}
