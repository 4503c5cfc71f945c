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
import Testing

@Suite("The chat API over HTTP, and the long poll")
struct HTTPChatAPITests {
    /// A JSON body from any JSON-compatible value.
    private func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// `POST /v1/requests` took bodies of 16 KiB at most (the account endpoints' limit): a message of the largest
    /// body the server stores (64 KiB) could not be sent over HTTP. It takes what a WebSocket frame may hold.
    @Test func theLargestMessageCanBeSentOverHTTPAndAFrameLargerThanAWebSocketFrameCannot() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let group = try await live.store.createConversation(.group("Big", createdBy: alice.user.id))
            func send(_ body: String, id: String) async throws -> HTTPAnswer {
                try await live.http(
                    "POST", "/v1/requests",
                    rawBody: try json([
                        "type": "send", "id": id, "conversationID": group.id.rawValue, "clientMessageID": "k-\(id)",
                        "body": body,
                    ]),
                    bearer: alice.accessToken
                )
            }
            let largest = String(repeating: "x", count: ChatServerConfiguration().limits.maxBodyBytes)
            let sent = try await send(largest, id: "1")
            #expect(sent.status == 200)
            #expect(try sent.decode(RequestResult.self).message?.body == largest)

            let overFrame = String(repeating: "y", count: ChatServerConfiguration().limits.maxFrameBytes)
            let refused = try await send(overFrame, id: "2")
            #expect(refused.status == 413)
            #expect(refused.code == "limitExceeded")
        }
    }

    /// `POST /v1/requests` decoded with a codec of the default frame limit (1 MiB) whatever the server's: with
    /// larger frames and bodies configured, a message the WebSocket takes was refused over HTTP.
    @Test func framesAsLargeAsTheServerTakesOverHTTP() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxFrameBytes = 2 << 20
        configuration.limits.maxBodyBytes = 3 << 19
        let bodyBytes = configuration.limits.maxBodyBytes
        try await LiveServer.run(configuration: configuration) { live in
            let alice = try await live.signUp("alice")
            let group = try await live.store.createConversation(.group("Big", createdBy: alice.user.id))
            let body = String(repeating: "x", count: bodyBytes)
            let sent = try await live.http(
                "POST", "/v1/requests",
                rawBody: try json([
                    "type": "send", "id": "1", "conversationID": group.id.rawValue, "clientMessageID": "k-1",
                    "body": body,
                ]),
                bearer: alice.accessToken
            )
            #expect(sent.status == 200, "\(sent.code ?? "")")
            #expect(try sent.decode(RequestResult.self).message?.body.utf8.count == body.utf8.count)
        }
    }

    /// Only a body over the size limit answers `413`; any other limit (here a full channel) answers `400`, so a
    /// client does not shrink a body that was never the problem.
    @Test func aFullChannelIsNotABodyTooLarge() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxMembers = 1
        try await LiveServer.run(configuration: configuration) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let channel = try await live.store.createConversation(.channel("News", createdBy: alice.user.id))
            let join = try await live.http(
                "POST", "/v1/requests",
                rawBody: try json(["type": "join", "id": "1", "conversationID": channel.id.rawValue]),
                bearer: bob.accessToken
            )
            #expect(join.status == 400)
            #expect(join.code == "limitExceeded")
        }
    }

    @Test func conversationsHistorySearchAndAnyRequest() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let created = try await live.http(
                "POST", "/v1/requests",
                rawBody: try json(["type": "createConversation", "id": "1", "kind": "direct", "memberIDs": [bob.user.id.rawValue]]),
                bearer: alice.accessToken
            )
            #expect(created.status == 200)
            let conversation = try #require(try created.decode(RequestResult.self).conversation)
            for (index, body) in ["first plan", "second plan", "third idea"].enumerated() {
                let sent = try await live.http(
                    "POST", "/v1/requests",
                    rawBody: try json([
                        "type": "send", "id": "s\(index)", "conversationID": conversation.id.rawValue,
                        "clientMessageID": "k-\(index)", "body": body,
                    ]),
                    bearer: alice.accessToken
                )
                #expect(sent.status == 200)
                #expect(try sent.decode(RequestResult.self).message?.seq == Int64(index + 1))
            }

            let list = try await live.http("GET", "/v1/conversations", bearer: bob.accessToken)
            #expect(list.status == 200)
            let summaries = try #require(try list.decode(RequestResult.self).conversations)
            #expect(summaries.map(\.conversation.id) == [conversation.id])
            #expect(summaries.first?.unreadCount == 3)
            #expect(summaries.first?.lastMessage?.body == "third idea")
            #expect(try list.decode(RequestResult.self).hasMore == false)
            // Pages by `before` and `limit`: bob's only conversation, then nothing before it.
            let activity = try #require(summaries.first?.activity)
            let paged = try await live.http(
                "GET", "/v1/conversations?limit=1&before=\(activity.rawValue + 1)", bearer: bob.accessToken
            )
            #expect(try paged.decode(RequestResult.self).conversations?.map(\.conversation.id) == [conversation.id])
            let none = try await live.http(
                "GET", "/v1/conversations?before=\(activity.rawValue)", bearer: bob.accessToken
            )
            #expect(try none.decode(RequestResult.self).conversations == [])
            // A page of none has no last conversation to page on from: no `hasMore`.
            let empty = try await live.http("GET", "/v1/conversations?limit=0", bearer: bob.accessToken)
            #expect(try empty.decode(RequestResult.self).conversations == [])
            #expect(try empty.decode(RequestResult.self).hasMore == false)
            let badLimit = try await live.http("GET", "/v1/conversations?limit=-1", bearer: bob.accessToken)
            #expect(badLimit.status == 400)

            let history = try await live.http(
                "GET", "/v1/conversations/\(conversation.id.rawValue)/messages?limit=2", bearer: bob.accessToken
            )
            #expect(history.status == 200)
            #expect(try history.decode(RequestResult.self).messages?.map(\.body) == ["second plan", "third idea"])
            let older = try await live.http(
                "GET", "/v1/conversations/\(conversation.id.rawValue)/messages?before=2", bearer: bob.accessToken
            )
            #expect(try older.decode(RequestResult.self).messages?.map(\.body) == ["first plan"])
            // The ID in the path is percent-decoded (here every character escaped), as a store's IDs that need
            // escaping arrive.
            let escaped = conversation.id.rawValue.utf8.map { String(format: "%%%02X", $0) }.joined()
            let byEscapedID = try await live.http(
                "GET", "/v1/conversations/\(escaped)/messages?before=2", bearer: bob.accessToken
            )
            #expect(byEscapedID.status == 200)
            #expect(try byEscapedID.decode(RequestResult.self).messages?.map(\.body) == ["first plan"])

            let search = try await live.http("GET", "/v1/search?q=plan", bearer: bob.accessToken)
            #expect(search.status == 200)
            let hits = try #require(try search.decode(RequestResult.self).hits)
            #expect(Set(hits.map(\.message.body)) == ["first plan", "second plan"])
            // Query values are read as forms and URLSearchParams write them: `+` is a space, so `sec*` stays a
            // prefix (it was the one piece "sec*+plan"); an empty parameter is absent (it scoped the search to the
            // conversation "" and answered 404); a parameter given twice, or bad percent-encoding, is refused.
            let prefixed = try await live.http("GET", "/v1/search?q=sec*+plan&conversationID=", bearer: bob.accessToken)
            #expect(prefixed.status == 200)
            #expect(try prefixed.decode(RequestResult.self).hits?.map(\.message.body) == ["second plan"])
            let twice = try await live.http("GET", "/v1/search?q=plan&limit=1&limit=2", bearer: bob.accessToken)
            #expect(twice.status == 400)
            #expect((twice.json["message"] as? String)?.contains("'limit' is given more than once") == true)
            let badEncoding = try await live.http("GET", "/v1/search?q=%FF", bearer: bob.accessToken)  // not UTF-8
            #expect(badEncoding.status == 400)
            #expect((badEncoding.json["message"] as? String)?.contains("'q' is not valid percent-encoding") == true)

            // A resend with the same client message ID is the same message, over HTTP as over the WebSocket.
            let resent = try await live.http(
                "POST", "/v1/requests",
                rawBody: try json([
                    "type": "send", "id": "again", "conversationID": conversation.id.rawValue,
                    "clientMessageID": "k-0", "body": "first plan",
                ]),
                bearer: alice.accessToken
            )
            #expect(try resent.decode(RequestResult.self).message?.seq == 1)
        }
    }

    @Test func findUserByUsernameOverTheWebSocketAndHTTP() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("Bob")
            let client = try await live.connect(alice.accessToken)
            #expect(try await client.client.findUser(username: "BOB")?.id == bob.user.id)
            #expect(try await client.client.findUser(username: "nobody") == nil)
            let empty = await #expect(throws: ChatError.self) { try await client.client.findUser(username: " ") }
            #expect(empty?.code == .invalidArgument)
            await client.disconnect()

            let found = try await live.http(
                "POST", "/v1/requests", rawBody: try json(["type": "findUser", "id": "1", "username": "bob"]),
                bearer: alice.accessToken
            )
            #expect(try found.decode(RequestResult.self).users?.map(\.id) == [bob.user.id])
        }
    }

    @Test func apiFailuresAreClear() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let carol = try await live.signUp("carol")
            let created = try await live.http(
                "POST", "/v1/requests",
                rawBody: try json(["type": "createConversation", "id": "1", "kind": "group", "title": "Team", "memberIDs": []]),
                bearer: alice.accessToken
            )
            #expect(created.status == 200, "\(String(decoding: created.data, as: UTF8.self))")
            let group = try #require(try created.decode(RequestResult.self).conversation)

            let noToken = try await live.http("GET", "/v1/conversations")
            #expect(noToken.status == 401)
            #expect(noToken.code == "unauthenticated")
            let badToken = try await live.http("GET", "/v1/conversations", bearer: "not-a-token")
            #expect(badToken.status == 401)
            // The token is judged before the parameters: a bad token hears 401, not what is wrong with its query.
            let badTokenBadQuery = try await live.http("GET", "/v1/conversations?limit=many", bearer: "not-a-token")
            #expect(badTokenBadQuery.status == 401)
            let badTokenBadPoll = try await live.http("GET", "/v1/sync?cursor=soon&wait=-1", bearer: "not-a-token")
            #expect(badTokenBadPoll.status == 401 && badTokenBadPoll.code == "unauthenticated")
            let badPoll = try await live.http("GET", "/v1/sync?cursor=soon", bearer: alice.accessToken)
            #expect(badPoll.status == 400 && badPoll.code == "invalidArgument")
            // A poll for pages of nothing would read the store again at every event until its end.
            let emptyPages = try await live.http("GET", "/v1/sync?limit=0&wait=5", bearer: alice.accessToken)
            #expect(emptyPages.status == 400 && emptyPages.code == "invalidArgument")

            let notMember = try await live.http(
                "GET", "/v1/conversations/\(group.id.rawValue)/messages", bearer: carol.accessToken
            )
            #expect(notMember.status == 404)
            #expect(notMember.code == "notFound")

            let badLimit = try await live.http(
                "GET", "/v1/conversations/\(group.id.rawValue)/messages?limit=many", bearer: alice.accessToken
            )
            #expect(badLimit.status == 400)
            #expect((badLimit.json["message"] as? String)?.contains("limit") == true)

            let noQuery = try await live.http("GET", "/v1/search", bearer: alice.accessToken)
            #expect(noQuery.status == 400)

            let hello = try await live.http(
                "POST", "/v1/requests", rawBody: try json(["type": "hello", "id": "1", "token": alice.accessToken]),
                bearer: alice.accessToken
            )
            #expect(hello.status == 400)
            let garbage = try await live.http("POST", "/v1/requests", rawBody: "{not json", bearer: alice.accessToken)
            #expect(garbage.status == 400)
            #expect(garbage.code == "invalidArgument")
            let unknown = try await live.http(
                "POST", "/v1/requests", rawBody: try json(["type": "teleport", "id": "2"]), bearer: alice.accessToken
            )
            #expect(unknown.status == 400)
        }
    }

    @Test func httpRequestsShareTheRateLimit() async throws {
        // A stopped clock: the bucket (a burst of twice the rate) never refills, however slow the machine.
        let configuration = ChatServerConfiguration(limits: .init(requestsPerSecond: 2))
        try await LiveServer.run(configuration: configuration, clock: ManualClock()) { live in
            let alice = try await live.signUp("alice")
            let client = try await live.connect(alice.accessToken)
            // Of the burst of 4: opening the session, then one request over the WebSocket.
            _ = try await client.client.conversations()
            var statuses: [Int] = []
            for _ in 0..<3 {
                statuses.append(try await live.http("GET", "/v1/conversations", bearer: alice.accessToken).status)
            }
            #expect(statuses == [200, 200, 429])
            let limited = try await live.http("GET", "/v1/conversations", bearer: alice.accessToken)
            #expect(limited.status == 429)
            #expect(limited.retryAfter != nil)
            #expect((limited.json["retryAfterMilliseconds"] as? Int).map { $0 > 0 } == true)
            await client.disconnect()
        }
    }

    @Test func longPollAnswersWhenAnEventArrives() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let sender = try await live.connect(alice.accessToken)
            let chat = try await sender.client.createDirectConversation(with: bob.user.id)

            // Catch up first: the conversation's creation is already there, so the poll answers at once.
            let first = try await live.http("GET", "/v1/sync?cursor=0&wait=10", bearer: bob.accessToken)
            #expect(first.status == 200)
            let caughtUp = try #require(try first.decode(RequestResult.self).page)
            #expect(caughtUp.events.contains { $0.kind == .conversationCreated && $0.conversationID == chat.id })

            // Nothing new: the poll waits until Alice sends, then answers with her message.
            let cursor = caughtUp.cursor.rawValue
            let waiting = Task { try await live.http("GET", "/v1/sync?cursor=\(cursor)&wait=30", bearer: bob.accessToken) }
            try await live.waitUntilConnections(2)  // Alice's WebSocket and Bob's poll
            _ = try await sender.client.send("are you there?", to: chat.id)
            let answer = try await withTimeout("the long poll to answer") { try await waiting.value }
            #expect(answer.status == 200)
            let page = try #require(try answer.decode(RequestResult.self).page)
            #expect(page.events.compactMap(\.message?.body) == ["are you there?"])
            #expect(page.cursor.rawValue > cursor)

            // A poll that times out answers with an empty page and the same cursor.
            let quiet = try await live.http(
                "GET", "/v1/sync?cursor=\(page.cursor.rawValue)&wait=0.2", bearer: bob.accessToken
            )
            let empty = try #require(try quiet.decode(RequestResult.self).page)
            #expect(empty.events.isEmpty)
            #expect(empty.cursor == page.cursor)
            await sender.disconnect()
        }
    }

    @Test func aRequestBodyIsReadOnlyForACallerWithAGoodTokenWithinTheRateLimit() async throws {
        // The body was decoded (up to twice, when malformed) before the token was checked: anyone could make the
        // server parse JSON as fast as they could send it.
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 1  // a burst of 2; the manual clock never refills it
        try await LiveServer.run(configuration: configuration, clock: ManualClock()) { live in
            let alice = try await live.signUp("alice")
            let forged = try await live.http("POST", "/v1/requests", rawBody: "not json", bearer: "forged")
            #expect(forged.status == 401 && forged.code == "unauthenticated", "\(forged.status) \(forged.json)")
            let unreadable = try await live.http("POST", "/v1/requests", rawBody: "not json", bearer: alice.accessToken)
            #expect(unreadable.code == "invalidArgument", "\(unreadable.json)")
            let ping = try await live.http(
                "POST", "/v1/requests", rawBody: #"{"type":"ping","id":"1"}"#, bearer: alice.accessToken
            )
            #expect(ping.status == 200)
            // Over the limit, the body is not read: a throttled caller learns that, not what its body lacks.
            let throttled = try await live.http("POST", "/v1/requests", rawBody: "not json", bearer: alice.accessToken)
            #expect(throttled.code == "limitExceeded", "\(throttled.json)")
        }
    }

    @Test func aLongPollWithACursorPastTheStreamIsToldWhereToGoOn() async throws {
        // A cursor naming events the store no longer has (here: past its last event, as after a restore) used to
        // be kept: the events stored next, at positions it covered, were never returned. The poll now answers at
        // once with the position to go on from, and the next poll reads on.
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let sender = try await live.connect(alice.accessToken)
            let chat = try await sender.client.createDirectConversation(with: bob.user.id)
            let latest = try await live.store.latestPosition().rawValue
            let stale = latest + 1_000
            let told = try await live.http("GET", "/v1/sync?cursor=\(stale)&wait=30", bearer: bob.accessToken)
            let rewound = try #require(try told.decode(RequestResult.self).page)
            #expect(rewound.events.isEmpty && rewound.hasMore)
            #expect(rewound.cursor.rawValue == latest)
            let cursor = rewound.cursor.rawValue
            let waiting = Task { try await live.http("GET", "/v1/sync?cursor=\(cursor)&wait=30", bearer: bob.accessToken) }
            try await live.waitUntilConnections(2)  // Alice's WebSocket and Bob's poll
            _ = try await sender.client.send("stored after the restore", to: chat.id)
            let answer = try await withTimeout("the long poll to answer") { try await waiting.value }
            let page = try #require(try answer.decode(RequestResult.self).page)
            #expect(page.events.compactMap(\.message?.body) == ["stored after the restore"])
            await sender.disconnect()
        }
    }

    @Test(
        "a long poll whose client closed its connection ends, and frees its place among the user's connections",
        arguments: [false, true]
    )
    func aLongPollWhoseClientLeftEnds(compression: Bool) async throws {
        // Hummingbird does not cancel the handler of a request whose client went away: the poll held its place
        // (counted against maxConnectionsPerUser) and its outbox until its wait ran out. With compression on, the
        // edge serves Hummingbird's channel, which lacked the handler that tells the poll.
        try await LiveServer.run(transportConfiguration: .init(compression: compression)) { live in
            let bob = try await live.signUp("bob")
            let start = try await live.store.latestPosition().rawValue
            let socket = try BlockingTCP.connect(port: live.port)
            let request =
                "GET /v1/sync?cursor=\(start)&wait=55 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(bob.accessToken)\r\n\r\n"
            let bytes = Array(request.utf8)
            #expect(bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) } == bytes.count)
            try await live.waitUntilConnections(1)
            Glibc.close(socket)
            // Well before the poll's 55 s wait would have ended.
            try await waitUntil("the poll to end", timeout: .seconds(40)) { live.server.connectionCount == 0 }
        }
    }

    @Test func longPollEndsWithUnauthenticatedWhenTheSessionIsRevoked() async throws {
        try await LiveServer.run { live in
            let bob = try await live.signUp("bob")
            live.auth.whenSessionsRevoked { revocation in
                live.server.closeSessions(of: revocation.userID, sessionID: revocation.sessionID?.rawValue)
            }
            let start = try await live.store.latestPosition().rawValue
            let waiting = Task { try await live.http("GET", "/v1/sync?cursor=\(start)&wait=30", bearer: bob.accessToken) }
            try await live.waitUntilConnections(1)
            let logout = try await live.http("POST", "/v1/auth/logout", bearer: bob.accessToken)
            #expect(logout.status == 204)
            let answer = try await withTimeout("the long poll to end") { try await waiting.value }
            #expect(answer.status == 401)
            #expect(answer.code == "unauthenticated")
        }
    }
}

extension LiveServer {
    /// Waits until exactly `count` connections are registered with the server: WebSocket sessions and waiting
    /// long polls.
    func waitUntilConnections(_ count: Int) async throws {
        let server = server
        try await withTimeout("\(count) connections") {
            while server.connectionCount != count { try await Task.sleep(for: .milliseconds(5)) }
        }
    }
}
