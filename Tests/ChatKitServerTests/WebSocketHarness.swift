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
import ChatKitTesting
import Foundation
import HummingbirdWSClient
import Logging
import Prometheus
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A ChatServer on a real WebSocket + HTTP server on 127.0.0.1 with a free port, over an in-memory store, with
/// ChatKit's own accounts (bcrypt at its lowest cost, so sign-ups are fast).
struct LiveServer: Sendable {
    let store: InMemoryChatStore
    let auth: AuthService
    let server: ChatServer
    let transport: WebSocketServerTransport
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var webSocketURL: String { "ws://127.0.0.1:\(port)/v1/ws" }

    static let secret = Array("a test secret that is long enough for HS256 signing".utf8)

    /// Starts a server, runs `body`, then stops the server (cancelling the task that runs it) and waits until it
    /// has stopped.
    static func run(
        store: InMemoryChatStore = InMemoryChatStore(),
        configuration: ChatServerConfiguration = ChatServerConfiguration(),
        transportConfiguration: WebSocketServerTransport.Configuration = .init(),
        authConfiguration: AuthService.Configuration = .init(bcryptCost: 4),
        httpConfiguration: HTTPRoutes.Configuration = .init(signUpBurst: 100, logInBurst: 100),
        metrics: PrometheusCollectorRegistry? = nil,
        logger: Logger = Logger(label: "chatkit.test", factory: { _ in SwiftLogNoOpLogHandler() }),
        clock: ManualClock? = nil,
        serverStore: (any ChatStore)? = nil,
        webFiles: WebFiles? = nil,
        _ body: @Sendable (LiveServer) async throws -> Void
    ) async throws {
        let auth = AuthService(store: store, secret: secret, configuration: authConfiguration)
        // The chat server's store: `store`, or a decorator of it that a test passes.
        let chatStore = serverStore ?? store
        var transportConfiguration = transportConfiguration.withLoadTolerantHandshakeDeadline
        transportConfiguration.host = "127.0.0.1"
        transportConfiguration.port = 0
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let transport = WebSocketServerTransport(
            configuration: transportConfiguration,
            httpRoutes: HTTPRoutes(
                auth: auth, store: store, metrics: metrics, configuration: httpConfiguration, logger: logger
            ),
            webFiles: webFiles,
            logger: logger,
            onListening: { _, port in portContinuation.yield(port) }
        )
        let metricsFactory = metrics.map { PrometheusMetricsFactory(registry: $0) }
        let server =
            if let clock {
                ChatServer(
                    store: chatStore, transports: [transport], authenticators: [auth.authenticator],
                    configuration: configuration, logger: logger, clock: clock, metricsFactory: metricsFactory
                )
            } else {
                ChatServer(
                    store: chatStore, transports: [transport], authenticators: [auth.authenticator],
                    configuration: configuration.withLoadTolerantHelloDeadline, logger: logger,
                    metricsFactory: metricsFactory
                )
            }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let port = try await withTimeout("the server to listen") { await ports.first { _ in true } }
            let live = LiveServer(store: store, auth: auth, server: server, transport: transport, port: try #require(port))
            try await body(live)
        }
    }

    // MARK: HTTP

    /// Sends a JSON request and returns the status, the decoded JSON object and the headers.
    func http(
        _ method: String,
        _ path: String,
        json: [String: String]? = nil,
        rawBody: String? = nil,
        bearer: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> HTTPAnswer {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let rawBody {
            request.httpBody = Data(rawBody.utf8)
        }
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        return HTTPAnswer(
            status: http.statusCode,
            json: object ?? [:],
            retryAfter: http.value(forHTTPHeaderField: "Retry-After"),
            cacheControl: http.value(forHTTPHeaderField: "Cache-Control"),
            wwwAuthenticate: http.value(forHTTPHeaderField: "WWW-Authenticate"),
            data: data,
            headers: Dictionary(
                http.allHeaderFields.map { ("\($0.key)".lowercased(), "\($0.value)") }, uniquingKeysWith: { $1 }
            )
        )
    }

    /// Signs a user up over HTTP and returns their tokens.
    func signUp(_ username: String, password: String = "correct horse battery") async throws -> AuthTokens {
        let answer = try await http("POST", "/v1/auth/signup", json: ["username": username, "password": password])
        #expect(answer.status == 201)
        return try answer.decode(AuthTokens.self)
    }

    /// A ChatClient over WebSocket, running in its own task, once its session is open and caught up. `port`
    /// connects through another port (a relay) instead of the server's. By default the client runs one session
    /// and does not reconnect.
    func connect(
        _ token: String,
        cursor: StreamPosition? = nil,
        port: Int? = nil,
        configuration: ChatClient.Configuration = .singleSession,
        transportConfiguration: WebSocketClientTransport.Configuration = .init()
    ) async throws -> TestClient {
        let transport = WebSocketClientTransport(
            url: "ws://127.0.0.1:\(port ?? self.port)/v1/ws",
            configuration: transportConfiguration.withLoadTolerantConnectTimeout
        )
        let client = TestClient(
            ChatClient(transport: transport, token: token, cursor: cursor, configuration: configuration)
        )
        _ = try await withTimeout("the session to open") { try await client.client.connected() }
        try await client.waitFor("synced") { events in
            events.contains { if case .synced = $0 { true } else { false } }
        }
        return client
    }
}

/// What an HTTP request got back.
struct HTTPAnswer: @unchecked Sendable {  // `json` holds only JSONSerialization's immutable values.
    var status: Int
    var json: [String: Any]
    var retryAfter: String?
    var cacheControl: String?
    var wwwAuthenticate: String?
    var data: Data
    /// Every header, by its name in lower case.
    var headers: [String: String] = [:]

    var code: String? { json["code"] as? String }

    /// The value of the header `name` (any case), if the answer has it.
    func header(_ name: String) -> String? { headers[name.lowercased()] }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(type, from: data)
    }
}

/// A raw WebSocket to the server, for frames a ChatClient never sends. Received frames are decoded as server
/// frames and can be awaited.
final class RawSocket: Sendable {
    private let received = Mutex<[String]>([])
    private let arrivals: AsyncStream<Void>.Continuation
    private let arrivalStream: AsyncStream<Void>
    let codec = WireCodec()

    init() {
        (arrivalStream, arrivals) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Connects, runs `body` with a writer, and returns how the server closed the socket.
    @discardableResult
    static func run(
        url: String,
        _ body: @escaping @Sendable (RawSocket, WebSocketOutboundWriter) async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        let socket = RawSocket()
        return try await WebSocketClient.connect(
            url: url, configuration: .init(maxFrameSize: 4 << 20), logger: Logger(label: "raw")
        ) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        if case .text(let text) = message { socket.append(text) }
                    }
                    socket.arrivals.finish()
                }
                try await body(socket, outbound)
                // Let the reading task run until the server closes the socket.
                try await group.waitForAll()
            }
        }
    }

    private func append(_ text: String) {
        received.withLock { $0.append(text) }
        arrivals.yield()
    }

    var frames: [ServerFrame] { received.withLock { $0 }.compactMap { try? codec.decodeServerFrame($0) } }

    /// Waits until a received frame matches, and returns it.
    func waitFor(_ what: String, _ match: @escaping @Sendable (ServerFrame) -> Bool) async throws -> ServerFrame {
        try await withTimeout(what) { [self] in
            var iterator = arrivalStream.makeAsyncIterator()
            while true {
                if let frame = frames.first(where: match) { return frame }
                guard await iterator.next() != nil else {
                    if let frame = frames.first(where: match) { return frame }
                    throw TimeoutError(what: what + " (socket closed)", events: frames.count)
                }
            }
        }
    }
}
