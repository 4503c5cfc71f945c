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
import Foundation
import Logging
import Prometheus
import Synchronization
import Testing

@Suite("Metrics and logs")
struct ObservabilityTests {
    @Test func metricsEndpointCountsConnectionsMessagesDeliveriesErrorsAndLatencies() async throws {
        let registry = PrometheusCollectorRegistry()
        try await LiveServer.run(metrics: registry) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let sender = try await live.connect(alice.accessToken)
            let receiver = try await live.connect(bob.accessToken)
            let chat = try await sender.client.createDirectConversation(with: bob.user.id)
            for index in 1...3 { _ = try await sender.client.send("message \(index)", to: chat.id) }
            try await receiver.waitFor("three messages") { events in
                TestClient.bodies(in: chat.id, events).count == 3
            }
            await #expect(throws: ChatError.self) { try await sender.client.history(of: "no-such-conversation") }

            let scrape = try await live.http("GET", "/metrics")
            #expect(scrape.status == 200)
            let text = String(decoding: scrape.data, as: UTF8.self)
            let samples = Self.samples(text)
            #expect(samples["chatkit_connections"] == 2)
            #expect(samples["chatkit_messages_total"] == 3)
            // conversationCreated to both, three messages to both.
            #expect((samples["chatkit_deliveries_total"] ?? 0) >= 8)
            #expect(samples[#"chatkit_errors_total{code="notFound"}"#] == 1)
            #expect(samples[#"chatkit_send_ack_seconds_count"#] == 3)
            #expect(samples[#"chatkit_store_seconds_count{operation="append"}"#] == 3)
            #expect((samples[#"chatkit_store_seconds_count{operation="read"}"#] ?? 0) >= 1)
            #expect(text.contains(#"chatkit_store_seconds_bucket{operation="append",le="#))
            await sender.disconnect()
            await receiver.disconnect()
        }
    }

    @Test func logsNeverContainPasswordsTokensOrMessageBodies() async throws {
        let lines = StringCollector()
        var logger = Logger(label: "chatkit.test", factory: { label in CapturingLogHandler(label: label, lines: lines) })
        logger.logLevel = .trace
        let password = "correct horse battery staple 7"
        let secretBody = "the secret body 4711"
        let httpBody = "the http body 0815"
        let tokens = StringCollector()
        try await LiveServer.run(logger: logger) { live in
            let alice = try await live.signUp("alice", password: password)
            let bob = try await live.signUp("bob", password: password)
            let login = try await live.http("POST", "/v1/auth/login", json: ["username": "alice", "password": password])
            let again = try login.decode(AuthTokens.self)
            let wrong = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "alice", "password": password + " wrong"]
            )
            #expect(wrong.status == 401)
            let sender = try await live.connect(again.accessToken)
            let receiver = try await live.connect(bob.accessToken)
            let chat = try await sender.client.createDirectConversation(with: bob.user.id)
            _ = try await sender.client.send(secretBody, to: chat.id)
            let over = String(repeating: "x", count: 80 * 1024) + secretBody
            await #expect(throws: ChatError.self) { try await sender.client.send(over, to: chat.id) }
            let viaHTTP = try await live.http(
                "POST", "/v1/requests",
                rawBody: #"{"type": "send", "id": "h", "conversationID": "\#(chat.id.rawValue)", "clientMessageID": "k", "body": "\#(httpBody)"}"#,
                bearer: alice.accessToken
            )
            #expect(viaHTTP.status == 200)
            try await receiver.waitFor("both messages") { events in
                TestClient.bodies(in: chat.id, events).count == 2
            }
            let refreshed = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": again.refreshToken])
            let next = try refreshed.decode(AuthTokens.self)
            _ = try await live.http("POST", "/v1/auth/logout", bearer: next.accessToken)
            _ = try await live.http("GET", "/v1/conversations", bearer: "forged." + alice.accessToken)
            await sender.disconnect()
            await receiver.disconnect()
            for token in [
                alice.accessToken, alice.refreshToken, bob.accessToken, bob.refreshToken, again.accessToken,
                again.refreshToken, next.accessToken, next.refreshToken,
            ] {
                tokens.append(token)
            }
        }
        let captured = lines.all
        #expect(captured.count > 5, "the flow above should log something at trace level")
        for secret in [password, secretBody, httpBody] + tokens.all {
            let leaks = captured.filter { $0.contains(secret) }
            #expect(leaks.isEmpty, "a log line contains a secret: \(leaks.first ?? "")")
        }
    }

    /// The samples of a Prometheus text exposition, by series (name and labels).
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}

/// Strings (such as rendered log lines) collected from any task.
final class StringCollector: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A log handler that renders every entry, metadata included, into a ``StringCollector``.
struct CapturingLogHandler: LogHandler {
    let label: String
    let lines: StringCollector
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.append("\(event.level) \(label): \(event.message) \(rendered) [\(event.source)]")
    }
}
