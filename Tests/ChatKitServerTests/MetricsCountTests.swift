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
import Prometheus
import Testing

@testable import ChatKitServer

/// `chatkit_errors_total` and `chatkit_connections` count what happened, once.
@Suite("Metrics counts")
struct MetricsCountTests {
    @Test("errors answered over HTTP are counted once each: account routes, bad requests, and the server's own")
    func httpErrorsCountedOnce() async throws {
        let registry = PrometheusCollectorRegistry()
        try await LiveServer.run(metrics: registry) { live in
            let alice = try await live.signUp("alice")
            func errors(_ code: String) async throws -> Double {
                let scrape = try await live.http("GET", "/metrics")
                let samples = ObservabilityTests.samples(String(decoding: scrape.data, as: UTF8.self))
                return samples[#"chatkit_errors_total{code="\#(code)"}"#] ?? 0
            }
            let wrongPassword = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "alice", "password": "not alice's password"]
            )
            #expect(wrongPassword.status == 401)
            #expect(try await errors("unauthenticated") == 1)
            let noToken = try await live.http("GET", "/v1/conversations")
            #expect(noToken.status == 401)
            #expect(try await errors("unauthenticated") == 2)
            let forged = try await live.http("GET", "/v1/conversations", bearer: "forged." + alice.accessToken)
            #expect(forged.status == 401)
            #expect(try await errors("unauthenticated") == 3, "a refused token is counted by the server, once")

            let badParameter = try await live.http("GET", "/v1/conversations?limit=ten", bearer: alice.accessToken)
            #expect(badParameter.status == 400)
            #expect(try await errors("invalidArgument") == 1)
            let unreadable = try await live.http(
                "POST", "/v1/requests", rawBody: "{not json", bearer: alice.accessToken
            )
            #expect(unreadable.status == 400)
            #expect(try await errors("invalidArgument") == 2)

            let missing = try await live.http(
                "GET", "/v1/conversations/no-such-conversation/messages", bearer: alice.accessToken
            )
            #expect(missing.status == 404)
            #expect(try await errors("notFound") == 1, "an error the server answered is not counted again")
            let taken = try await live.http(
                "POST", "/v1/auth/signup", json: ["username": "alice", "password": "correct horse battery"]
            )
            #expect(taken.status == 409)
            #expect(try await errors("conflict") == 1)
        }
    }

    @Test("a send over HTTP is timed as WebSocket sends are; a request refused by its checks is not store time")
    func httpSendsAreTimedAndRefusalsAreNot() async throws {
        let registry = PrometheusCollectorRegistry()
        try await LiveServer.run(metrics: registry) { live in
            let alice = try await live.signUp("alice")
            let group = try await live.store.createConversation(.group("Team", createdBy: alice.user.id))
            func send(_ body: String, key: String) async throws -> Int {
                let request: [String: Any] = [
                    "type": "send", "id": key, "conversationID": group.id.rawValue, "clientMessageID": key,
                    "body": body,
                ]
                let text = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
                return try await live.http("POST", "/v1/requests", rawBody: text, bearer: alice.accessToken).status
            }
            #expect(try await send("hello", key: "k1") == 200)
            #expect(try await send("", key: "k2") == 400, "an empty message")
            let tooLong = String(repeating: "x", count: ChatServerConfiguration().limits.maxBodyBytes + 1)
            #expect(try await send(tooLong, key: "k3") == 400, "a body over its limit")
            let scrape = try await live.http("GET", "/metrics")
            let samples = ObservabilityTests.samples(String(decoding: scrape.data, as: UTF8.self))
            #expect(samples["chatkit_send_ack_seconds_count"] == 1)
            #expect(samples[#"chatkit_store_seconds_count{operation="append"}"#] == 1)
            #expect(samples["chatkit_messages_total"] == 1)
        }
    }

    @Test("a connection removed twice is counted once, and the gauge ends at the count")
    func connectionRemovedTwice() throws {
        let registry = PrometheusCollectorRegistry()
        let connections = ConnectionRegistry(
            metrics: ServerMetrics(factory: PrometheusMetricsFactory(registry: registry))
        )
        let user = UserID("u-alice")
        let (first, second) = (connections.makeConnectionID(), connections.makeConnectionID())
        for id in [first, second] {
            let refusal = connections.add(
                user, connection: id, outbox: Outbox(capacity: 10, floor: .start), sessionID: nil,
                admission: connections.beginAdmission()
            )
            #expect(refusal == nil)
        }
        connections.remove(user, connection: first)
        connections.remove(user, connection: first)
        #expect(connections.connectionCount == 1)
        var text: [UInt8] = []
        registry.emit(into: &text)
        #expect(ObservabilityTests.samples(String(decoding: text, as: UTF8.self))["chatkit_connections"] == 1)
    }

    @Test("connections added and removed at once leave the gauge at the count")
    func concurrentChanges() async throws {
        let registry = PrometheusCollectorRegistry()
        let connections = ConnectionRegistry(
            metrics: ServerMetrics(factory: PrometheusMetricsFactory(registry: registry))
        )
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    let user = UserID(rawValue: "u-\(task)")
                    for _ in 0..<500 {
                        let id = connections.makeConnectionID()
                        _ = connections.add(
                            user, connection: id, outbox: Outbox(capacity: 10, floor: .start), sessionID: nil,
                            admission: connections.beginAdmission()
                        )
                        connections.remove(user, connection: id)
                    }
                }
            }
        }
        #expect(connections.connectionCount == 0)
        var text: [UInt8] = []
        registry.emit(into: &text)
        #expect(ObservabilityTests.samples(String(decoding: text, as: UTF8.self))["chatkit_connections"] == 0)
    }
}
