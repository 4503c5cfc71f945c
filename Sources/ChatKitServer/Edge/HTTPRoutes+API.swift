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
import NIOCore
import Synchronization

/// The chat API over HTTP: conversations, history, search, the long poll, and any request as on the WebSocket.
extension HTTPRoutes {
    func addAPIRoutes<Context: RequestContext>(to router: Router<Context>) {
        let prefix = configuration.apiPath
        router.get(RouterPath("\(prefix)/conversations")) { [self] request, _ -> Response in
            await respondToAPI(request, route: "conversations") { query in
                .listConversations(
                    ClientRequest.ListConversations(
                        before: try query.integer("before").map { StreamPosition($0) },
                        limit: try query.integer("limit").map(Int.init)
                    )
                )
            }
        }
        router.get(RouterPath("\(prefix)/conversations/:conversationID/messages")) {
            [self] request, context -> Response in
            await respondToAPI(request, route: "history") { query in
                guard let raw = context.parameters.get("conversationID") else {
                    throw ChatError(.invalidArgument, "The path lacks the conversation ID.")
                }
                // Hummingbird matches the path as sent: an ID that needs escaping in a path (a store of your own
                // may make such IDs) arrives percent-encoded.
                guard let id = raw.removingPercentEncoding else {
                    throw ChatError(.invalidArgument, "The conversation ID in the path is not valid percent-encoding.")
                }
                return .history(
                    ClientRequest.History(
                        conversationID: try ConversationID(checking: id),
                        before: try query.integer("before"),
                        after: try query.integer("after"),
                        limit: try query.integer("limit").map(Int.init)
                    )
                )
            }
        }
        router.get(RouterPath("\(prefix)/search")) { [self] request, _ -> Response in
            await respondToAPI(request, route: "search") { query in
                guard let text = query.string("q") else {
                    throw ChatError(.invalidArgument, "Give the search text as the query parameter 'q'.")
                }
                return .search(
                    ClientRequest.Search(
                        query: text,
                        conversationID: try query.string("conversationID").map { text throws(ChatError) in
                            try ConversationID(checking: text)
                        },
                        limit: try query.integer("limit").map(Int.init)
                    )
                )
            }
        }
        router.get(RouterPath("\(prefix)/sync")) { [self] request, context -> Response in
            let whenClientLeaves = Self.whenClientLeaves(context)
            return await respond(route: "sync") {
                let (server, token) = try apiCaller(request)
                // The query is read once the token is known to be good: a bad token hears 401 whatever it asks.
                let page = try await fromServer {
                    try await server.events(token: token) {
                        let query = try QueryParameters(request)
                        let wait = try query.number("wait") ?? Self.defaultLongPollWait
                        guard wait >= 0 else {
                            throw ChatError(.invalidArgument, "'wait' is a number of seconds, 0 or more.")
                        }
                        return ChatServer.LongPoll(
                            cursor: try query.integer("cursor").map { StreamPosition($0) } ?? .start,
                            limit: try query.integer("limit").map(Int.init),
                            timeout: .milliseconds(Int64(min(wait, 3600) * 1000)),
                            whenClientLeaves: whenClientLeaves
                        )
                    }
                }
                return try Self.json(RequestResult(page: page), status: .ok)
            }
        }
        router.post(RouterPath("\(prefix)/requests")) { [self] request, _ -> Response in
            await respond(route: "requests") {
                let (server, token) = try apiCaller(request)
                // The token and the rate limit first: the body is decoded only for a caller who may send it.
                let user = try await fromServer { try await server.admit(token: token) }
                // As large as a WebSocket frame may be: the same requests, the largest message included, read by
                // the server's codec, which has the same limit.
                let text = try await bodyText(of: request, limit: server.configuration.limits.maxFrameBytes)
                let frame: ClientFrame
                switch server.codec.decodeClientFrame(text) {
                case .success(let decoded): frame = decoded
                case .failure(let failure): throw failure.error
                }
                if case .hello = frame.request {
                    throw ChatError(.invalidArgument, "'hello' opens a WebSocket session; HTTP requests carry a bearer token.")
                }
                let result = try await fromServer { try await server.perform(frame.request, asAdmitted: user) }
                return try Self.json(result, status: .ok)
            }
        }
    }

    /// Tells a long poll when its client has gone: Hummingbird does not cancel a handler whose client closed the
    /// connection, so the poll watches the channel (``ClientGoneHandler``; when the request context knows it, as
    /// the standalone server's does).
    private static func whenClientLeaves(
        _ context: some RequestContext
    ) -> (@Sendable (_ leave: @escaping @Sendable () -> Void) -> @Sendable () -> Void)? {
        guard let channel = (context as? any ChannelRequestContext)?.channel else { return nil }
        return { leave in ClientGoneHandler.whenClientLeaves(channel, leave) }
    }

    /// How long `GET /v1/sync` waits for an event when the request does not say, in seconds.
    static let defaultLongPollWait = 25.0

    /// Answers a GET of the chat API: builds the request from the query, performs it as the token's user.
    private func respondToAPI(
        _ request: Request, route: String, _ makeRequest: (QueryParameters) throws -> ClientRequest
    ) async -> Response {
        await respond(route: route) {
            let (server, token) = try apiCaller(request)
            // The token and the rate limit first: a bad token hears 401 whatever its parameters say.
            let user = try await fromServer { try await server.admit(token: token) }
            let clientRequest = try makeRequest(try QueryParameters(request))
            let result = try await fromServer { try await server.perform(clientRequest, asAdmitted: user) }
            return try Self.json(result, status: .ok)
        }
    }

    /// The answer of the chat API while no ``ChatServer`` runs for it: not attached yet, before its `run()` starts
    /// (an embedding application's HTTP server may start first) or after it returned.
    static var notRunning: ChatError {
        var error = ChatError(.unavailable, "The chat server is not running.")
        error.retryAfter = .seconds(1)
        return error
    }

    /// The server that answers the API and the caller's access token, or the error to answer.
    private func apiCaller(_ request: Request) throws -> (ChatServer, String) {
        guard let token = Self.bearerToken(request) else {
            throw ChatError(.unauthenticated, "Send the access token as 'Authorization: Bearer <token>'.")
        }
        guard let server = server.current, server.isRunning else { throw Self.notRunning }
        return (server, token)
    }
}

/// The ``ChatServer`` that answers ``HTTPRoutes``' chat API: given at creation, or attached when the server starts
/// running the transport that serves the routes. Held weakly: the server owns its transports, which own the routes.
final class ServerSlot: Sendable {
    private let server: Mutex<WeakServer>

    private struct WeakServer: @unchecked Sendable {
        // ChatServer is Sendable; the wrapper exists only because `weak` stored properties cannot be `let`.
        weak var server: ChatServer?
    }

    init(_ server: ChatServer?) {
        self.server = Mutex(WeakServer(server: server))
    }

    var current: ChatServer? { server.withLock { $0.server } }

    /// Sets the server unless one is set already.
    func attach(_ candidate: ChatServer) {
        server.withLock { if $0.server == nil { $0.server = candidate } }
    }
}
