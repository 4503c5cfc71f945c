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

import ChatKitClient
import ChatKitCore
import ChatKitServer
import ChildProcesses
import ChatKitTesting
import Foundation
import HummingbirdWSClient
import HummingbirdWSCompression
import Logging
import NIOSSL
import NIOWebSocket
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("WebSocket transport options: hello timeout, compression, TLS")
struct WebSocketTransportOptionsTests {
    /// The deadline runs on the server's clock, a manual one here: the silent socket's deadline passes when the
    /// test moves the clock, and alice's hello, however long it takes on a busy machine, comes in time.
    @Test func aSilentSocketIsClosedAfterTheHelloTimeout() async throws {
        let clock = ManualClock()
        try await LiveServer.run(configuration: ChatServerConfiguration(helloTimeout: .seconds(10)), clock: clock) {
            live in
            let close = try await withTimeout("the server to close the silent socket") {
                try await RawSocket.run(url: live.webSocketURL) { _, _ in
                    // The server's timers wait for the socket's deadline, then it passes.
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(10))
                }
            }
            #expect(close?.reason?.hasPrefix("timeout") == true)
            // A socket that says hello in time stays open.
            let tokens = try await live.signUp("alice")
            let client = try await live.connect(tokens.accessToken)
            #expect(client.client.connectionState == .connected)
            await client.disconnect()
        }
    }

    /// Settings out of range were used as given: a frame size of 4 GiB or more (`.max` for "no limit") trapped in
    /// SwiftNIO at the first connection, a backlog above `Int32.max` trapped when binding, and a ping period of zero
    /// closed every socket as idle right after it opened. They are now brought into range.
    @Test func settingsOutOfRangeAreBroughtIntoRangeInsteadOfTrappingOrClosing() async throws {
        let settings = WebSocketServerTransport.Configuration(
            maxFrameSize: .max, pingInterval: .zero, listenBacklog: .max
        )
        try await LiveServer.run(transportConfiguration: settings) { live in
            let tokens = try await live.signUp("alice")
            let client = try await live.connect(tokens.accessToken)
            for _ in 0..<20 { try await client.client.ping() }
            #expect(client.client.connectionState == .connected)
            await client.disconnect()
        }
    }

    @Test func compressionIsNegotiatedOnlyWhenEnabled() async throws {
        let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
        try await LiveServer.run(transportConfiguration: .init(compression: true)) { live in
            let answer = try await Self.upgradeResponse(port: live.port, extraHeader: offer)
            #expect(answer.hasPrefix("HTTP/1.1 101"))
            #expect(answer.lowercased().contains("sec-websocket-extensions: permessage-deflate"))

            // A compressing client holds a whole session: hello, welcome, a request and its answer.
            let tokens = try await live.signUp("alice")
            let welcome = try await Self.helloRoundTrip(
                url: live.webSocketURL, token: tokens.accessToken,
                configuration: .init(maxFrameSize: 1 << 20, extensions: [.perMessageDeflate()])
            )
            #expect(welcome.user.username == "alice")
        }
        try await LiveServer.run { live in
            let answer = try await Self.upgradeResponse(port: live.port, extraHeader: offer)
            #expect(answer.hasPrefix("HTTP/1.1 101"))
            #expect(!answer.lowercased().contains("permessage-deflate"))
        }
    }

    @Test func tlsServesTheRealtimeProtocolOverWSS() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        try Self.makeSelfSignedCertificate(certificate: certificate, key: key)

        let tls = try WebSocketServerTransport.tlsConfiguration(certificateFile: certificate, privateKeyFile: key)
        try await LiveServer.run(transportConfiguration: .init(tls: tls)) { live in
            let tokens = try await live.auth.signUp(username: "alice", password: "correct horse battery", displayName: nil)
            var clientTLS = TLSConfiguration.makeClientConfiguration()
            clientTLS.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
            let welcome = try await Self.helloRoundTrip(
                url: "wss://localhost:\(live.port)/v1/ws", token: tokens.accessToken,
                configuration: .init(maxFrameSize: 1 << 20), tls: clientTLS
            )
            #expect(welcome.user.username == "alice")
            // A client that offers only TLS 1.1 or older is refused.
            var oldTLS = clientTLS
            oldTLS.minimumTLSVersion = .tlsv1
            oldTLS.maximumTLSVersion = .tlsv11
            await #expect(throws: (any Error).self) {
                _ = try await Self.helloRoundTrip(
                    url: "wss://localhost:\(live.port)/v1/ws", token: tokens.accessToken,
                    configuration: .init(maxFrameSize: 1 << 20), tls: oldTLS
                )
            }
        }

        #expect(throws: ChatError.self) {
            try WebSocketServerTransport.tlsConfiguration(certificateFile: folder.path + "/missing.pem", privateKeyFile: key)
        }
        #expect(throws: ChatError.self) {
            try WebSocketServerTransport.tlsConfiguration(certificateFile: certificate, privateKeyFile: certificate)
        }
        // A key of another certificate is refused when the configuration is made, not when the server binds.
        let otherCertificate = folder.appendingPathComponent("other-cert.pem").path
        let otherKey = folder.appendingPathComponent("other-key.pem").path
        try Self.makeSelfSignedCertificate(certificate: otherCertificate, key: otherKey)
        let mismatch = #expect(throws: ChatError.self) {
            try WebSocketServerTransport.tlsConfiguration(certificateFile: certificate, privateKeyFile: otherKey)
        }
        #expect(mismatch?.code == .invalidArgument)
        #expect(mismatch?.reason?.contains("does not go with the certificate") == true)
    }

    // MARK: Helpers

    /// Opens a WebSocket with WSClient, says hello, and returns the welcome after one more request succeeded.
    private static func helloRoundTrip(
        url: String, token: String, configuration: WebSocketClientConfiguration, tls: TLSConfiguration? = nil
    ) async throws -> Welcome {
        let codec = WireCodec()
        let hello = try codec.encode(ClientFrame(id: "h", .hello(ClientRequest.Hello(token: token))))
        let ping = try codec.encode(ClientFrame(id: "p", .ping(ClientRequest.Empty())))
        let welcome = WelcomeBox()
        _ = try await withTimeout("a session over the WebSocket") {
            try await WebSocketClient.connect(
                url: url, configuration: configuration, tlsConfiguration: tls, logger: Logger(label: "test")
            ) { inbound, outbound, _ in
                try await outbound.write(.text(hello))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    switch try codec.decodeServerFrame(text) {
                    case .welcome(let received):
                        welcome.set(received)
                        try await outbound.write(.text(ping))
                    case .result(id: "p", _):
                        try await outbound.close(.normalClosure, reason: nil)
                        return
                    default:
                        continue
                    }
                }
            }
        }
        return try #require(welcome.value)
    }

    /// Sends a WebSocket upgrade request over a plain TCP socket and returns the response head.
    private static func upgradeResponse(port: Int, extraHeader: String) async throws -> String {
        let request = [
            "GET /v1/ws HTTP/1.1", "Host: 127.0.0.1:\(port)", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", extraHeader, "", "",
        ].joined(separator: "\r\n")
        return try await withTimeout("the upgrade response") {
            try await onDedicatedThread { try BlockingTCP.exchange(port: port, send: request, until: "\r\n\r\n") }
        }
    }

    private static func makeSelfSignedCertificate(certificate: String, key: String) throws {
        let openssl = try SpawnedProcess(
            "/usr/bin/env",
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            output: .discarded, errors: .discarded
        )
        try #require(openssl.waitForExit() == 0, "openssl could not make a test certificate")
    }
}

/// A welcome frame handed out of a WebSocket handler.
private final class WelcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Welcome?
    func set(_ welcome: Welcome) { lock.withLock { stored = welcome } }
    var value: Welcome? { lock.withLock { stored } }
}

/// A blocking TCP exchange on 127.0.0.1, for requests that no HTTP client here sends (a WebSocket upgrade).
enum BlockingTCP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A blocking socket connected to 127.0.0.1:`port`, with a receive buffer of `receiveBufferSize` bytes if
    /// given (a small one makes the peer slow to take data); the caller closes it.
    static func connect(port: Int, receiveBufferSize: Int32? = nil) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket() failed") }
        if var size = receiveBufferSize {
            setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw Failure(description: "connect() failed")
        }
        return socket
    }

    /// Connects, sends `text`, and reads until the answer contains `terminator` or the peer closes.
    static func exchange(port: Int, send text: String, until terminator: String) throws -> String {
        let socket = try connect(port: port)
        defer { close(socket) }
        let bytes = Array(text.utf8)
        guard Glibc.send(socket, bytes, bytes.count, 0) == bytes.count else { throw Failure(description: "send() failed") }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: answer, as: UTF8.self).contains(terminator) {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
