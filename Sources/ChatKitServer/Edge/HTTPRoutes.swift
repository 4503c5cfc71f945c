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

public import ChatKitCore
import Foundation
public import Hummingbird
import HTTPTypes
public import Logging
import NIOCore
public import Prometheus
import Synchronization

/// ChatKit's HTTP endpoints: accounts, the chat API for clients without a WebSocket (including a long poll),
/// health checks and metrics.
///
/// Add them to your own Hummingbird router with ``addRoutes(to:)``, or pass them to a standalone
/// ``WebSocketServerTransport``, which serves them on its port. Pages of other origins may call them from a browser
/// when ``Configuration/allowedOrigins`` names their origin (``addCrossOriginMiddleware(to:)``).
///
/// | Method and path | Body | Answer |
/// |---|---|---|
/// | `POST /v1/auth/signup` | `{"username", "password", "displayName"?}` | `201` and ``AuthTokens``; limited per address |
/// | `POST /v1/auth/login` | `{"username", "password"}` | `200` and ``AuthTokens`` |
/// | `POST /v1/auth/refresh` | `{"refreshToken"}` | `200` and ``AuthTokens`` |
/// | `POST /v1/auth/password` | `{"currentPassword", "newPassword"}` with `Authorization: Bearer <access token>` | `200` and ``AuthTokens`` of a new session; the user's other sessions end |
/// | `POST /v1/auth/logout` | `{"refreshToken"}`, or none with `Authorization: Bearer <access token>` | `204` |
/// | `GET /v1/conversations?before=&limit=` | | the `listConversations` result: `{"conversations": [...], "hasMore": false}` |
/// | `GET /v1/conversations/{id}/messages?before=&after=&limit=` | | the `history` result: `{"messages": [...]}` |
/// | `GET /v1/search?q=&conversationID=&limit=` | | the `search` result: `{"hits": [...]}` |
/// | `GET /v1/sync?cursor=&limit=&wait=` | | long poll: the `sync` result `{"page": ...}`, waiting up to `wait` seconds (default 25, at most 55) for an event |
/// | `POST /v1/requests` | any request frame but `hello`, as on the WebSocket | its result, without the frame's `type` and `id` |
/// | `GET /health` | | `200 {"status": "ok"}` while the process serves HTTP |
/// | `GET /ready` | | `200 {"status": "ready"}` when the store answers, else `503` (also once shutting down, and while the server given does not run) |
/// | `GET /metrics` | | Prometheus text format, when a registry is given |
///
/// The chat API (`/v1/conversations`, `/v1/search`, `/v1/sync`, `/v1/requests`) takes
/// `Authorization: Bearer <access token>` and is served by a ``ChatServer``: the one whose transport serves these
/// routes, or the one passed to the initializer; until its ``ChatServer/run()`` starts, and once it returned, the API
/// answers `503` with `Retry-After: 1`. Requests count against the same per-user rate limit as WebSocket requests.
/// Query parameters are read as forms write them (`+` is a space); an empty one counts as absent, one given twice
/// is refused.
///
/// Bodies are JSON; dates are milliseconds since 1970, as on the WebSocket. A failure is answered with
/// `{"code": ..., "message": ...}`, the code being a ``ChatKitCore/ChatError/Code`` string, and an HTTP status:
/// 400 `invalidArgument`, 401 `unauthenticated`, 403 `forbidden`, 404 `notFound`, 409 `conflict`, 413 (a body over
/// ``Configuration/maxBodySize``, or over a WebSocket frame's size for `/v1/requests`), 429 (a limit that passes: a
/// rate limit, or too many connections of one user; with `Retry-After` in seconds and `retryAfterMilliseconds`) or
/// 400 (any other limit) `limitExceeded`, 500
/// `storageFailure`, 503 `unavailable`. Logs name the route and status only: never tokens, passwords or bodies.
public struct HTTPRoutes: Sendable {
    /// Settings of ``HTTPRoutes``.
    public struct Configuration: Sendable {
        /// The path prefix of the account endpoints. Default `/v1/auth`.
        public var authPath: String
        /// The path prefix of the chat API (`conversations`, `search`, `sync`, `requests`). Default `/v1`.
        public var apiPath: String
        /// The largest request body accepted, in bytes; larger ones get `413`. Default 16 KiB. `POST /v1/requests`
        /// takes what a WebSocket frame may hold instead (``ChatServerConfiguration/Limits/maxFrameBytes``), so that
        /// any request the WebSocket takes (a message of the largest body) can be made over HTTP.
        public var maxBodySize: Int
        /// How many sign-ups one client address may make at once, before ``signUpInterval`` applies. Default 10.
        ///
        /// An IPv6 client is limited per /64 prefix, as one usually holds a whole /64. Sign-ups are limited per
        /// address only when the router's request context tells the address
        /// (`RemoteAddressRequestContext`, as the standalone ``WebSocketServerTransport``'s does). Behind a reverse
        /// proxy, list it in ``trustedProxies``, or every client has the proxy's address.
        public var signUpBurst: Int
        /// After the burst, one more sign-up per address is allowed each interval. Default 6 seconds.
        public var signUpInterval: Duration
        /// How many logins one client address may attempt at once, before ``logInInterval`` applies. Default 20.
        ///
        /// Every attempt costs a bcrypt hash, for an unknown username too (so that the time taken tells nothing):
        /// without a limit per address, anyone could keep the server's cores hashing by trying new usernames
        /// (each username's own limit never fills). Limited only when the router's request context tells the
        /// address, as for sign-ups.
        public var logInBurst: Int
        /// After the burst, one more login attempt per address is allowed each interval. Default 1 second.
        ///
        /// Token refreshes and logouts are limited per login session with the same burst and interval: a refresh
        /// writes to the store, and each gives the token for the next. (An interval longer than the access tokens'
        /// lifetime would hold back ordinary refreshes after the burst.)
        public var logInInterval: Duration
        /// The addresses of the reverse proxies in front of the server (such as `127.0.0.1` for one on the same
        /// host). Default none.
        ///
        /// A request from one of them is limited under the client address the proxies name in `X-Forwarded-For`
        /// (the rightmost address there that is not a trusted proxy: the one the first proxy saw), not under the
        /// proxy's own, which every client shares. Without them the header is ignored: any client can write it.
        /// The proxy must append the address it received each request from (Caddy does, HAProxy with
        /// `option forwardfor`; nginx only with `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`, and
        /// otherwise passes on what the client wrote, letting each request name its own address). Each entry is an
        /// IPv4 or IPv6 address (``isProxyAddress(_:)``); the routes stop the process on any other.
        public var trustedProxies: [String]
        /// The web origins (`https://chat.example.com`, scheme, host and port as a browser writes them) whose pages
        /// may call these endpoints from the browser (CORS), or `["*"]` for any page. Default none: only pages of the
        /// server's own origin, such as the web chat it serves, and clients outside a browser.
        ///
        /// Answered by ``HTTPRoutes/addCrossOriginMiddleware(to:)``, which a standalone ``WebSocketServerTransport``
        /// calls; on your own router, call it yourself. The browser may send `Authorization` and `Content-Type`,
        /// and read `Retry-After` and `WWW-Authenticate`; no cookies are involved (tokens are bearer tokens), so no
        /// credentials are allowed. The WebSocket needs no entry: a page of any origin may open it, and only a
        /// token sent in its `hello` logs it in. Each entry is `*` or an origin (``isOrigin(_:)``); the routes stop
        /// the process on any other.
        public var allowedOrigins: [String]

        /// Creates a configuration; every parameter has a safe default.
        ///
        /// - Parameters:
        ///   - authPath: The path prefix of the account endpoints.
        ///   - apiPath: The path prefix of the chat API.
        ///   - maxBodySize: The largest request body accepted, in bytes.
        ///   - signUpBurst: Sign-ups per client address allowed at once (at least 1).
        ///   - signUpInterval: Time to regain one sign-up (positive).
        ///   - logInBurst: Login attempts per client address allowed at once (at least 1).
        ///   - logInInterval: Time to regain one login attempt (positive).
        ///   - trustedProxies: The addresses of the reverse proxies in front of the server.
        ///   - allowedOrigins: The web origins whose pages may call the endpoints from a browser; `["*"]` for any.
        public init(
            authPath: String = "/v1/auth",
            apiPath: String = "/v1",
            maxBodySize: Int = 16 * 1024,
            signUpBurst: Int = 10,
            signUpInterval: Duration = .seconds(6),
            logInBurst: Int = 20,
            logInInterval: Duration = .seconds(1),
            trustedProxies: [String] = [],
            allowedOrigins: [String] = []
        ) {
            self.authPath = authPath
            self.apiPath = apiPath
            self.maxBodySize = maxBodySize
            self.signUpBurst = signUpBurst
            self.signUpInterval = signUpInterval
            self.logInBurst = logInBurst
            self.logInInterval = logInInterval
            self.trustedProxies = trustedProxies
            self.allowedOrigins = allowedOrigins
        }

        /// Whether `text` is an address ``trustedProxies`` takes: an IPv4 or IPv6 address, such as `127.0.0.1` or
        /// `::1`.
        public static func isProxyAddress(_ text: String) -> Bool {
            (try? ClientAddressResolver(trustedProxies: [text])) != nil
        }
    }

    private let auth: AuthService?
    private let store: (any ChatStore)?
    let server: ServerSlot
    private let metrics: PrometheusCollectorRegistry?
    let configuration: Configuration
    private let logger: Logger
    private let signUpLimiter: KeyedRateLimiter<String>
    private let logInLimiter: KeyedRateLimiter<String>
    /// Refreshes, logouts and password changes, per login session.
    private let tokenLimiter: KeyedRateLimiter<SessionID>
    private let clientAddresses: ClientAddressResolver
    private let clock: ServerClock
    /// Whether the warning that the request context tells no addresses was logged.
    private let warnedOfNoAddresses = SetOnceFlag()

    /// Creates the routes.
    ///
    /// - Parameters:
    ///   - auth: The account service; `nil` leaves the account endpoints out (for apps with their own accounts and
    ///     an ``ChatKitCore/Authenticator`` of their own).
    ///   - store: The store `/ready` checks; `nil` makes `/ready` answer like `/health`.
    ///   - server: The server that answers the chat API; `nil` (the default) means the ``ChatServer`` whose
    ///     ``WebSocketServerTransport`` serves these routes, once it runs. Pass it when you mount the routes yourself.
    ///     The sessions `auth` revokes (logout, password change, refresh-token reuse) have their connections on
    ///     that server closed (``ChatServer/closeSessions(of:sessionID:)``).
    ///   - metrics: The registry `/metrics` shows (bootstrap swift-metrics with a `PrometheusMetricsFactory` on it);
    ///     `nil` leaves `/metrics` out.
    ///   - configuration: Paths and limits.
    ///   - logger: Where failures are logged; silent by default.
    public init(
        auth: AuthService?,
        store: (any ChatStore)? = nil,
        server: ChatServer? = nil,
        metrics: PrometheusCollectorRegistry? = nil,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "chatkit.http", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.auth = auth
        self.store = store
        self.server = ServerSlot(server)
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
        self.signUpLimiter = Self.addressLimiter(configuration.signUpBurst, configuration.signUpInterval, "sign-up")
        self.logInLimiter = Self.addressLimiter(configuration.logInBurst, configuration.logInInterval, "login")
        self.tokenLimiter = Self.addressLimiter(configuration.logInBurst, configuration.logInInterval, "login")
        do {
            self.clientAddresses = try ClientAddressResolver(trustedProxies: configuration.trustedProxies)
        } catch {
            preconditionFailure("\(error)")
        }
        for origin in configuration.allowedOrigins where origin != "*" && !Configuration.isOrigin(origin) {
            preconditionFailure(
                """
                HTTPRoutes.Configuration.allowedOrigins takes `*` or origins such as https://chat.example.com, \
                not '\(origin)'
                """
            )
        }
        self.clock = ServerClock(ContinuousClock())
        if let auth {
            // A logout over these routes must end the session's open connections too (HTTP.md promises it).
            let slot = self.server
            let warned = Atomic<Bool>(false)
            auth.whenSessionsRevoked { [logger] revocation in
                guard let server = slot.current else {
                    // Once: an app that serves only the account routes would log it at every logout.
                    guard !warned.exchange(true, ordering: .relaxed) else { return }
                    logger.warning(
                        """
                        Sessions were revoked, but no ChatServer serves these routes to close their connections: pass \
                        `server:` to HTTPRoutes when you mount them on your own router
                        """
                    )
                    return
                }
                server.closeSessions(of: revocation.userID, sessionID: revocation.sessionID?.rawValue)
            }
        }
    }

    /// `/ready`'s answer: `503` while shutting down, while the server given does not run, or while the store does
    /// not answer; else `200`.
    private func readiness() async -> Response {
        // Answered here, not counted in chatkit_errors_total: a probe every few seconds while the store is down is
        // not a client's error.
        // Draining: the sockets are being closed and HTTP stops once they are; a balancer should send new clients
        // elsewhere.
        if server.current?.isShuttingDown == true {
            return Self.errorResponse(ChatError(.unavailable, "The server is shutting down."))
        }
        // The chat API refuses requests until the server runs (and once it returned).
        if let server = server.current, !server.isRunning { return Self.errorResponse(Self.notRunning) }
        if let store {
            do {
                _ = try await store.latestPosition()
            } catch {
                return Self.errorResponse(ChatError(.unavailable, "The store is not answering."))
            }
        }
        return Self.statusResponse("ready")
    }

    /// A HEAD request's answer: `response`'s status and headers, its `Content-Length` included (the length a GET's
    /// body has), no body.
    private static func withoutBody(_ response: Response) -> Response {
        Response(status: response.status, headers: response.headers)
    }

    /// Adds the endpoints to a router.
    ///
    /// - Parameter router: Your application's HTTP router.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/health") { _, _ -> Response in
            Self.statusResponse("ok")
        }
        router.get("/ready") { [self] _, _ -> Response in
            await readiness()
        }
        // Load balancers often probe with HEAD, which Hummingbird does not route to a GET: the same status, no body.
        router.head("/health") { _, _ -> Response in
            Self.withoutBody(Self.statusResponse("ok"))
        }
        router.head("/ready") { [self] _, _ -> Response in
            Self.withoutBody(await readiness())
        }
        if let metrics {
            router.get("/metrics") { _, _ -> Response in
                var text: [UInt8] = []
                metrics.emit(into: &text)
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: text))
                )
            }
        }
        addAPIRoutes(to: router)
        guard let auth else { return }
        let prefix = configuration.authPath
        router.post(RouterPath("\(prefix)/signup")) { [self] request, context -> Response in
            await respond(route: "signup") {
                try checkLimit(signUpLimiter, request, context, "Too many sign-ups from this address; try again later.")
                let body = try await decode(SignUpBody.self, from: request)
                let tokens = try await refundingBusy(signUpLimiter, request, context) {
                    try await auth.signUp(
                        username: body.username, password: body.password, displayName: body.displayName
                    )
                }
                return try Self.json(tokens, status: .created)
            }
        }
        router.post(RouterPath("\(prefix)/login")) { [self] request, context -> Response in
            await respond(route: "login") {
                try checkLimit(
                    logInLimiter, request, context, "Too many login attempts from this address; try again later."
                )
                let body = try await decode(LogInBody.self, from: request)
                // Per address too: guessing a user's password from elsewhere does not lock them out of theirs.
                let client = limitKey(request, context)
                let tokens = try await refundingBusy(logInLimiter, request, context) {
                    try await auth.logIn(username: body.username, password: body.password, client: client)
                }
                return try Self.json(tokens, status: .ok)
            }
        }
        router.post(RouterPath("\(prefix)/refresh")) { [self] request, _ -> Response in
            await respond(route: "refresh") {
                let body = try await decode(RefreshBody.self, from: request)
                try checkSessionLimit(auth, refreshToken: body.refreshToken)
                return try Self.json(try await auth.refresh(body.refreshToken), status: .ok)
            }
        }
        router.post(RouterPath("\(prefix)/password")) { [self] request, _ -> Response in
            await respond(route: "password") {
                guard let token = Self.bearerToken(request) else {
                    throw ChatError(
                        .unauthenticated,
                        "Send the access token as 'Authorization: Bearer <token>' to change the password."
                    )
                }
                guard let user = try await auth.authenticator.authenticate(token: token),
                    let session = user.sessionID.map(SessionID.init(rawValue:))
                else {
                    throw ChatError(.unauthenticated, "The access token is not one of this server's.")
                }
                try checkSessionLimit(session)
                let body = try await decode(PasswordChangeBody.self, from: request)
                let tokens = try await refundingBusy({ tokenLimiter.refund(session) }) {
                    try await auth.changePassword(
                        userID: user.userID, currentPassword: body.currentPassword, newPassword: body.newPassword
                    )
                }
                return try Self.json(tokens, status: .ok)
            }
        }
        router.post(RouterPath("\(prefix)/logout")) { [self] request, _ -> Response in
            await respond(route: "logout") {
                // The refresh token in the body, when there is one: it works after the access token has expired.
                let body = try await body(of: request)
                let refreshToken =
                    body.readableBytes > 0 ? try decode(LogOutBody.self, from: body).refreshToken : nil
                if let refreshToken {
                    try checkSessionLimit(auth, refreshToken: refreshToken)
                    try await auth.logOut(refreshToken: refreshToken)
                } else if let token = Self.bearerToken(request) {
                    if let session = await auth.session(ofAccessToken: token) { try checkSessionLimit(session) }
                    try await auth.logOut(accessToken: token)
                } else {
                    throw ChatError(
                        .unauthenticated,
                        "Send the refresh token as {\"refreshToken\"}, or the access token as 'Authorization: Bearer "
                            + "<token>'."
                    )
                }
                return Response(status: .noContent)
            }
        }
    }

    // MARK: Bodies

    private struct SignUpBody: Decodable {
        var username: String
        var password: String
        var displayName: String?
    }

    private struct LogInBody: Decodable {
        var username: String
        var password: String
    }

    private struct RefreshBody: Decodable {
        var refreshToken: String
    }

    private struct PasswordChangeBody: Decodable {
        var currentPassword: String
        var newPassword: String
    }

    private struct LogOutBody: Decodable {
        var refreshToken: String?
    }

    private struct ErrorBody: Encodable {
        var code: String
        var message: String
        var retryAfterMilliseconds: Int?
    }

    /// Attaches the server that answers the chat API, unless one was given at creation.
    func attach(_ server: ChatServer) {
        self.server.attach(server)
    }

    /// A request body over its limit (``Configuration/maxBodySize``, or a WebSocket frame's for `/v1/requests`):
    /// answered `413`, the only `limitExceeded` that is about the body's size (the others, such as a full channel,
    /// answer `400`, and rate limits `429`).
    struct BodyTooLarge: Error {
        var limit: Int
    }

    /// A request body that could not be read to its end (the connection failed while the client sent it): the
    /// client's trouble, not the server's, answered `400` and logged at debug level.
    struct BodyUnreadable: Error {}

    /// The request's body, at most `limit` bytes (``Configuration/maxBodySize`` by default).
    func body(of request: Request, limit: Int? = nil) async throws -> ByteBuffer {
        let limit = limit ?? configuration.maxBodySize
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw BodyTooLarge(limit: limit)
        } catch let cancellation as CancellationError {
            throw cancellation
        } catch {
            throw BodyUnreadable()
        }
    }

    /// The request's body as UTF-8 text, at most `limit` bytes (``Configuration/maxBodySize`` by default).
    func bodyText(of request: Request, limit: Int? = nil) async throws -> String {
        guard let text = String(validating: try await body(of: request, limit: limit).readableBytesView, as: UTF8.self)
        else {
            throw ChatError(.invalidArgument, "The body is not UTF-8 text.")
        }
        return text
    }

    private func decode<Body: Decodable>(_ type: Body.Type, from request: Request) async throws -> Body {
        try decode(type, from: try await body(of: request))
    }

    /// Decodes a JSON body already read.
    private func decode<Body: Decodable>(_ type: Body.Type, from buffer: ByteBuffer) throws -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let DecodingError.keyNotFound(key, _) {
            throw ChatError(.invalidArgument, "The body lacks the field '\(key.stringValue)'.")
        } catch let DecodingError.typeMismatch(_, context) {
            guard let field = context.codingPath.last?.stringValue else {
                throw ChatError(.invalidArgument, "The body is not a JSON object.")
            }
            throw ChatError(.invalidArgument, "The field '\(field)' has the wrong type.")
        } catch let DecodingError.valueNotFound(_, context) {
            guard let field = context.codingPath.last?.stringValue else {
                throw ChatError(.invalidArgument, "The body is not a JSON object.")
            }
            throw ChatError(.invalidArgument, "The field '\(field)' has no value.")
        } catch {
            throw ChatError(.invalidArgument, "The body is not a JSON object.")
        }
    }

    /// A limit per client address: `burst` requests at once, then one each `interval` (positive).
    private static func addressLimiter<Key>(_ burst: Int, _ interval: Duration, _ what: String) -> KeyedRateLimiter<Key> {
        precondition(interval > .zero, "The \(what) interval must be positive")
        return KeyedRateLimiter(ratePerSecond: 1 / (interval / .seconds(1)), burst: Double(burst))
    }

    /// Takes one request from the bucket of the login session `refreshToken` names, or throws `.limitExceeded` with
    /// the time to wait. Per session, not per address: every user behind one proxy or NAT refreshes from one
    /// address. A token that is not one of `auth`'s is refused by `auth` at the cost of a MAC.
    private func checkSessionLimit(_ auth: AuthService, refreshToken: String) throws {
        guard let session = auth.session(ofRefreshToken: refreshToken) else { return }
        try checkSessionLimit(session)
    }

    /// Takes one request from `session`'s bucket of refreshes, logouts and password changes, or throws
    /// `.limitExceeded`.
    private func checkSessionLimit(_ session: SessionID) throws {
        if let wait = tokenLimiter.acquire(session, now: clock.now) {
            var error = ChatError(
                .limitExceeded, "Too many refreshes, logouts and password changes of this login; try again later."
            )
            error.retryAfter = wait
            throw error
        }
    }

    /// Takes one request from `limiter`'s bucket for the client's address, or throws `.limitExceeded` with the time
    /// to wait. Nothing is limited when the request context does not tell the address.
    private func checkLimit(
        _ limiter: KeyedRateLimiter<String>, _ request: Request, _ context: some RequestContext, _ refusal: String
    ) throws {
        guard let key = limitKey(request, context) else { return }
        if let wait = limiter.acquire(key, now: clock.now) {
            var error = ChatError(.limitExceeded, refusal)
            error.retryAfter = wait
            throw error
        }
    }

    /// Runs `body`, giving the request back to the address's bucket of `limiter` when it is refused as busy
    /// (`.unavailable`: no password was checked, so the attempt does not count).
    private func refundingBusy<T>(
        _ limiter: KeyedRateLimiter<String>, _ request: Request, _ context: some RequestContext,
        _ body: () async throws -> T
    ) async throws -> T {
        try await refundingBusy(
            { if let key = limitKey(request, context) { limiter.refund(key) } }, body
        )
    }

    /// Runs `body`, calling `refund` when it is refused as busy (`.unavailable`) or the store failed
    /// (`.storageFailure`): no password was checked, so the attempt does not count.
    private func refundingBusy<T>(_ refund: () -> Void, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ChatError where [.unavailable, .storageFailure].contains(error.code) {
            refund()
            throw error
        }
    }

    /// The key the request's client address is limited under, when the context tells the address (the client's
    /// behind a trusted proxy: ``Configuration/trustedProxies``).
    private func limitKey(_ request: Request, _ context: some RequestContext) -> String? {
        guard let addressed = context as? any RemoteAddressRequestContext else {
            // Once: the application's request context cannot tell addresses, which turns the limits per address
            // off and puts every login attempt for a username in one bucket.
            if warnedOfNoAddresses.setFirst() {
                logger.warning(
                    """
                    The request context \(type(of: context)) does not tell clients' addresses: the limits per address \
                    are off, and every login attempt for a username counts in one bucket (wrong guesses lock its \
                    owner out). Use ChatRequestContext, or conform your context to RemoteAddressRequestContext
                    """
                )
            }
            return nil
        }
        let peer = addressed.remoteAddress
        let client = clientAddresses.clientAddress(
            peer: peer, forwardedFor: request.headers[values: Self.forwardedFor]
        )
        return client.flatMap(Self.limitKey(for:))
    }

    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The key an address's requests are limited under: an IPv4 address itself (also when it reaches an IPv6
    /// socket as `::ffff:a.b.c.d`), an IPv6 address's /64 prefix, since one client usually holds a whole /64 and
    /// could otherwise pick a fresh address for every request.
    static func limitKey(for address: SocketAddress) -> String? {
        guard let bytes = ClientAddressResolver.ipv6Bytes(of: address) else { return address.ipAddress }
        if let ipv4 = ClientAddressResolver.mappedIPv4(bytes) { return ipv4 }
        return bytes[0..<8].map { String($0, radix: 16) }.joined(separator: ":") + "/64"
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let value = request.headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    // MARK: Answers

    /// Runs a route, turning a thrown error into a JSON error answer, counted in the server's
    /// `chatkit_errors_total` (an error a server call threw, ``AnsweredByServer``, was counted by the server). Logs
    /// the route and the outcome only.
    func respond(route: String, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let answered as AnsweredByServer {
            return refusal(answered.error, route: route)
        } catch let tooLarge as BodyTooLarge {
            let error = ChatError(.limitExceeded, "The body is larger than \(tooLarge.limit) bytes.")
            server.current?.metrics.errorAnswered(error.code)
            var response = Self.errorResponse(error)
            response.status = .contentTooLarge
            logger.debug("Request refused", metadata: ["chatkit.route": "\(route)", "chatkit.status": "413"])
            return response
        } catch let error as ChatError {
            error.loggedForOperator(logger, ["chatkit.route": "\(route)"])
            let answer = error.toldToClients
            server.current?.metrics.errorAnswered(answer.code)
            return refusal(answer, route: route)
        } catch {
            let answer = Self.answer(toUnexpected: error)
            server.current?.metrics.errorAnswered(answer.code)
            guard answer.code == .storageFailure else { return refusal(answer, route: route) }
            // The error's type only: its description could carry request content.
            logger.error(
                "Request failed", metadata: ["chatkit.route": "\(route)", "chatkit.error.type": "\(type(of: error))"]
            )
            return Self.errorResponse(answer)
        }
    }

    /// The answer to a route's error that is not a ``ChatKitCore/ChatError``: a body the client did not finish
    /// sending is its `invalidArgument`, a cancelled request (the server stops) `unavailable`; anything else is a
    /// fault of the server, `storageFailure` (logged at error level by ``respond(route:_:)``).
    static func answer(toUnexpected error: any Error) -> ChatError {
        switch error {
        case is BodyUnreadable: ChatError(.invalidArgument, "The body could not be read to its end.")
        case is CancellationError: ChatError(.unavailable, "The request was cancelled: the server is stopping.")
        default: ChatError(.storageFailure, ChatError.storageFailureToldToClients)
        }
    }

    /// The answer to an error as clients are told it, logged at debug level.
    private func refusal(_ error: ChatError, route: String) -> Response {
        let response = Self.errorResponse(error)
        logger.debug(
            "Request refused",
            metadata: [
                "chatkit.route": "\(route)", "chatkit.error.code": "\(error.code)",
                "chatkit.status": "\(response.status.code)",
            ]
        )
        return response
    }

    /// Runs a call of the ``ChatServer``, whose errors it has logged, counted and made as clients are told them
    /// (``ChatServer/answerable(_:)``): they reach ``respond(route:_:)`` as ``AnsweredByServer``, which counts them
    /// no second time.
    func fromServer<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as ChatError {
            throw AnsweredByServer(error: error)
        }
    }

    /// The JSON answer and status for an error.
    static func errorResponse(_ error: ChatError) -> Response {
        let status: HTTPResponse.Status =
            switch error.code {
            case .invalidArgument: .badRequest
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .limitExceeded where error.retryAfter == nil: .badRequest
            case .limitExceeded: .tooManyRequests
            case .unavailable: .serviceUnavailable
            default: .internalServerError
            }
        let retryAfter = error.retryAfter.map { Int(($0 / .milliseconds(1)).rounded(.up)) }
        let body = ErrorBody(
            code: "\(error.code)", message: error.reason ?? "\(error.code)", retryAfterMilliseconds: retryAfter
        )
        var response = (try? json(body, status: status)) ?? Response(status: status)
        if let retryAfter {
            response.headers[.retryAfter] = "\(max(1, (retryAfter + 999) / 1000))"
        }
        // RFC 6750: a 401 names the scheme the credentials go in.
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        }
        let data = try encoder.encode(value)
        // Tokens (RFC 6749 §5.1) and people's messages: kept by no browser or proxy cache.
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    private static func statusResponse(_ status: String) -> Response {
        (try? json(["status": status], status: .ok)) ?? Response(status: .ok)
    }
}

/// An error a ``ChatServer`` call threw, already counted and made as clients are told it (see
/// ``HTTPRoutes/fromServer(_:)``).
struct AnsweredByServer: Error {
    let error: ChatError
}
