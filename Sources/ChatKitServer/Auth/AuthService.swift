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
public import Foundation
import Crypto
import JWTKit

/// ChatKit's built-in accounts: sign-up and login with bcrypt-hashed passwords, short-lived signed access tokens,
/// rotating refresh tokens, logout and password change.
///
/// Access tokens are HS256 JWTs (key ID `chatkit`) carrying the user ID (`sub`), the session ID (`sid`) and the
/// credentials version (`ver`); pass ``authenticator`` to ``ChatServer`` so clients can open sessions with them.
/// Refresh tokens are opaque and stored only as a SHA-256 hash; each works once. Presenting a used one again means
/// it was copied, so the whole session is revoked, unless it is a retry: the token exchanged last, presented again
/// within ``Configuration/refreshRetryWindow`` and before its successor was used, gets that same successor again.
///
/// ```swift
/// let store = InMemoryChatStore()
/// let auth = AuthService(store: store, secret: secretBytes)   // 32+ random bytes, kept out of source control
/// let server = ChatServer(store: store, transports: [transport], authenticators: [auth.authenticator])
///
/// let tokens = try await auth.signUp(username: "alice", password: "correct horse battery")
/// let client = ChatClient(transport: transport, token: tokens.accessToken)
/// ```
///
/// Errors are ``ChatKitCore/ChatError``s whose reasons never contain passwords or tokens: `.invalidArgument` for a
/// username or password that breaks the rules (the reason states the rule), `.conflict` for a taken username,
/// `.unauthenticated` for bad credentials or a dead token, `.limitExceeded` (with `retryAfter`) for too many login
/// attempts.
///
/// Bcrypt runs on a dispatch queue, never on the Swift concurrency pool. Sign-up is not rate-limited here: an
/// internet-facing edge should limit it per client address, as each sign-up costs a bcrypt hash.
public struct AuthService: Sendable {
    /// Settings of an ``AuthService``.
    public struct Configuration: Sendable {
        /// Limits on login attempts.
        ///
        /// Attempts are limited per username and client (the `client` of
        /// ``AuthService/logIn(username:password:client:)``, the address for the HTTP edge), so that someone
        /// guessing a password from one address is slowed down without locking the account's owner out from
        /// theirs. Failed attempts are also limited per username over all clients, which bounds guessing from many
        /// addresses (a correct password gives its attempt back). Guessing from several addresses can empty that
        /// bucket, and then the right password is refused too, except from the clients the username logged in
        /// from with its password within ``knownClientLifetime`` (kept in memory, forgotten when the password
        /// changes), which skip it.
        public struct Limits: Sendable {
            /// How many login attempts one username may make at once from one client, before
            /// ``loginAttemptInterval`` applies. Default 10.
            public var loginAttemptBurst: Int
            /// After the burst, one more login attempt per username and client is allowed each interval. Default 6
            /// seconds.
            public var loginAttemptInterval: Duration
            /// How many failed login attempts one username may take at once from all clients together, before
            /// ``failedLoginInterval`` applies. Default 30.
            public var failedLoginBurst: Int
            /// After that burst, one more failed attempt per username is allowed each interval. Default 6 seconds.
            public var failedLoginInterval: Duration
            /// How long a client that logged in with the password stays exempt from the bucket of failures.
            /// Default 30 days.
            public var knownClientLifetime: Duration

            /// Creates limits; every parameter has a safe default.
            ///
            /// - Parameters:
            ///   - loginAttemptBurst: Attempts per username and client allowed at once (at least 1).
            ///   - loginAttemptInterval: Time to regain one attempt (positive).
            ///   - failedLoginBurst: Failed attempts per username allowed at once, from all clients (at least 1).
            ///   - failedLoginInterval: Time to regain one failed attempt (positive).
            ///   - knownClientLifetime: How long a client stays exempt from the failures' bucket after logging in.
            public init(
                loginAttemptBurst: Int = 10,
                loginAttemptInterval: Duration = .seconds(6),
                failedLoginBurst: Int = 30,
                failedLoginInterval: Duration = .seconds(6),
                knownClientLifetime: Duration = .seconds(30 * 24 * 3600)
            ) {
                self.loginAttemptBurst = loginAttemptBurst
                self.loginAttemptInterval = loginAttemptInterval
                self.failedLoginBurst = failedLoginBurst
                self.failedLoginInterval = failedLoginInterval
                self.knownClientLifetime = knownClientLifetime
            }
        }

        /// How long an access token is accepted. Short, because a stolen one cannot be revoked before its session
        /// is checked; the ``JWTAuthenticator`` also checks the session on every connection. Default 15 minutes.
        public var accessTokenLifetime: Duration
        /// How long a refresh token is accepted; each refresh issues a new one with a new lifetime, so a session
        /// used at least this often lasts. Default 30 days.
        public var refreshTokenLifetime: Duration
        /// How long after a refresh the refresh token it exchanged is still answered, with the same new refresh
        /// token and a new access token, so that a client whose answer was lost, or two tabs refreshing at once,
        /// keep their session. Only the token exchanged last is answered so, and only until its successor is used;
        /// any other reuse revokes the session. `.zero` turns it off: every reuse revokes. Default 30 seconds. The
        /// window runs from the session's `refreshedAt`, which the store sets with its own clock: the store's clock
        /// and the service's `now` must agree (both are the system clock unless a test injects one). Refreshes of
        /// one session are taken one at a time per service: two services sharing a store (two processes on one
        /// database) that receive the same token at the same moment may both answer it, as a retry, also with
        /// `.zero`.
        public var refreshRetryWindow: Duration
        /// Bcrypt's cost (log2 of its rounds), 4 to 31. Each step doubles the time: 10 takes about 100 ms, 11 about
        /// 190 ms. Tests use 4. Default 11. A change applies to passwords set from then on: those stored before
        /// keep their cost (a login checks them at it), so until their owners change them, a login's time tells
        /// their accounts from unknown usernames, which are checked at the new cost.
        public var bcryptCost: Int
        /// How many bcrypt hashes and checks (sign-ups, logins, password changes) run at once. Each takes a core
        /// for ``bcryptCost``'s time, away from chat traffic. Default half the cores, at least 1.
        public var passwordCheckConcurrency: Int
        /// How many more may wait for their turn; past that, a sign-up, login or password change is refused at
        /// once with `.unavailable` and a retry-after of 1 second (HTTP 503), before any password is checked.
        /// Default 32.
        public var passwordChecksWaiting: Int
        /// Limits on login attempts.
        public var limits: Limits

        /// Creates a configuration; every parameter has a safe default.
        ///
        /// - Parameters:
        ///   - accessTokenLifetime: How long an access token is accepted.
        ///   - refreshTokenLifetime: How long a refresh token is accepted.
        ///   - refreshRetryWindow: How long the token a refresh exchanged is still answered with the same tokens.
        ///   - bcryptCost: Bcrypt's cost, 4 to 31.
        ///   - passwordCheckConcurrency: How many bcrypt hashes and checks run at once (at least 1); `nil`: half
        ///     the cores, at least 1.
        ///   - passwordChecksWaiting: How many more may wait for their turn (at least 0).
        ///   - limits: Limits on login attempts.
        public init(
            accessTokenLifetime: Duration = .seconds(15 * 60),
            refreshTokenLifetime: Duration = .seconds(30 * 24 * 60 * 60),
            refreshRetryWindow: Duration = .seconds(30),
            bcryptCost: Int = 11,
            passwordCheckConcurrency: Int? = nil,
            passwordChecksWaiting: Int = 32,
            limits: Limits = Limits()
        ) {
            self.accessTokenLifetime = accessTokenLifetime
            self.refreshTokenLifetime = refreshTokenLifetime
            self.refreshRetryWindow = refreshRetryWindow
            self.bcryptCost = bcryptCost
            self.passwordCheckConcurrency =
                passwordCheckConcurrency ?? max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
            self.passwordChecksWaiting = passwordChecksWaiting
            self.limits = limits
        }
    }

    /// The authenticator that accepts this service's access tokens; pass it to ``ChatServer``.
    public let authenticator: JWTAuthenticator

    private let store: any UserStore & SessionStore
    private let configuration: Configuration
    private let keys: AccessTokenKeys
    private let refreshTokenKey: SymmetricKey
    /// Internal (not private) for tests, which occupy its queue.
    let hasher: PasswordHasher
    /// Attempts per username and client.
    private let loginLimiter: KeyedRateLimiter<String>
    /// Failed attempts per username, from all clients.
    private let failedLoginLimiter: KeyedRateLimiter<String>
    /// The clients that skip `failedLoginLimiter`.
    private let knownClients: KnownLoginClients
    private let clock: ServerClock
    private let now: @Sendable () -> Date
    private let revocationHandlers = RevocationHandlers()
    /// Password changes of one user, one at a time: two at once both checked the same current password, and the
    /// one that finished first could keep a session the other's change should have ended.
    private let passwordChanges = KeyedSerialGate<UserID>()
    /// Refreshes of one session run one at a time.
    private let refreshes = KeyedSerialGate<SessionID>()
    /// When ended sessions are deleted next.
    private let sessionPurges = PurgeSchedule(every: endedSessionPurgeInterval)

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - store: Where users, credentials and sessions are kept (any ``ChatKitCore/ChatStore`` will do).
    ///   - secret: The HS256 signing secret: at least 32 random bytes, the same on every server that must accept
    ///     the tokens. Changing it invalidates every access token and every refresh token (their MACs are keyed by
    ///     it): every user logs in again.
    ///   - configuration: Token lifetimes, bcrypt cost, login limits.
    ///   - now: The time tokens are issued and checked at; tests inject their own.
    ///   - clock: The clock the login-attempt limit is measured on; tests pass a manual clock.
    /// - Precondition: `secret` has at least 32 bytes; `configuration.bcryptCost` is 4 to 31; the login limits are
    ///   positive; `configuration.passwordCheckConcurrency` is at least 1 and `passwordChecksWaiting` at least 0.
    public init<C: Clock>(
        store: any UserStore & SessionStore,
        secret: some DataProtocol,
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() },
        clock: C = ContinuousClock()
    ) where C.Duration == Duration {
        let limits = configuration.limits
        precondition(
            limits.loginAttemptBurst >= 1 && limits.loginAttemptInterval > .zero && limits.failedLoginBurst >= 1
                && limits.failedLoginInterval > .zero,
            "Invalid login limits"
        )
        self.store = store
        self.configuration = configuration
        self.keys = AccessTokenKeys(secret: secret)
        self.refreshTokenKey = RefreshToken.key(fromSecret: secret)
        self.hasher = PasswordHasher(
            cost: configuration.bcryptCost, concurrency: configuration.passwordCheckConcurrency,
            waitingLimit: configuration.passwordChecksWaiting
        )
        self.loginLimiter = KeyedRateLimiter(
            ratePerSecond: 1 / (limits.loginAttemptInterval / .seconds(1)),
            burst: Double(limits.loginAttemptBurst)
        )
        self.failedLoginLimiter = KeyedRateLimiter(
            ratePerSecond: 1 / (limits.failedLoginInterval / .seconds(1)),
            burst: Double(limits.failedLoginBurst)
        )
        self.knownClients = KnownLoginClients(lifetime: limits.knownClientLifetime)
        self.clock = ServerClock(clock)
        self.now = now
        self.authenticator = JWTAuthenticator(store: store, keys: keys, now: now)
    }

    // MARK: Accounts

    /// Creates a user with a password and signs them in.
    ///
    /// - Parameters:
    ///   - username: 3 to 32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter. Uppercase letters
    ///     are accepted and stored in lowercase; logins ignore case the same way.
    ///   - password: 8 to 72 bytes in UTF-8 (bcrypt's limit), not only whitespace, no NUL character; composed (NFC)
    ///     before it is checked and hashed, so that it matches however a system encodes its accented letters.
    ///   - displayName: The name shown to others, at most 128 bytes in UTF-8; `nil` or blank uses the username.
    /// - Returns: Tokens for a new session.
    /// - Throws: ``ChatKitCore/ChatError`` `.invalidArgument` for a username or password that breaks a rule (the
    ///   reason says which), `.limitExceeded` for a longer display name, `.conflict` if the username is taken,
    ///   `.unavailable` with a retry-after when too many password checks are running and waiting
    ///   (``Configuration/passwordChecksWaiting``).
    public func signUp(username: String, password: String, displayName: String? = nil) async throws -> AuthTokens {
        let username = try CredentialRules.normalizedUsername(username)
        // The rules hold for the form that is hashed.
        try CredentialRules.validatePassword(PasswordHasher.normalized(password))
        let displayName = displayName.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 } ?? ""
        guard displayName.utf8.count <= ContentLimits.maxDisplayNameBytes else {
            throw ChatError(
                .limitExceeded, "A display name has at most \(ContentLimits.maxDisplayNameBytes) bytes."
            )
        }
        let hash = try await hasher.hash(password)
        let user = try await store.createUser(
            NewUser(username: username, displayName: displayName),
            passwordHash: hash
        )
        // `createUser` stores the hash as version 1 of the credentials.
        return try await startSession(for: user, credentialsVersion: 1)
    }

    /// Checks a username and password and starts a new session.
    ///
    /// A wrong password and an unknown username fail alike, in about the same time, so neither the error nor the
    /// response time tells whether a username exists. Attempts are limited per username and client, successful or
    /// not, and failed ones per username over all clients (see ``Configuration/Limits``).
    ///
    /// - Parameters:
    ///   - username: The username, in any case.
    ///   - password: The password.
    ///   - client: Who is asking, as far as the caller can tell (the HTTP edge passes the client's address): its
    ///     attempts are limited apart from other clients', so that guessing from elsewhere does not lock the
    ///     owner out. `nil` counts the attempt with every other call that passes `nil`.
    /// - Returns: Tokens for a new session.
    /// - Throws: ``ChatKitCore/ChatError`` `.unauthenticated` for a wrong username or password, `.limitExceeded`
    ///   with ``ChatKitCore/ChatError/retryAfter`` for too many attempts, `.unavailable` with a retry-after when too
    ///   many password checks are running and waiting (the attempt is then not counted).
    public func logIn(username: String, password: String, client: String? = nil) async throws -> AuthTokens {
        let username = CredentialRules.lookupUsername(username)
        // No username holds U+0000 (sign-up refuses it), and a store binding text as C strings would read
        // "alice\0x" as "alice": each such spelling would get limit buckets of its own while guessing alice's
        // password.
        guard !username.utf8.contains(0) else { throw Self.badCredentials }
        let attempt = try checkLoginLimits(for: username, client: client)
        let user: User?
        var credentials: Credentials?
        do {
            user = try await store.user(username: username)
            if let user { credentials = try await store.credentials(of: user.id) }
        } catch {
            // No password was checked: a store that fails does not use up the attempts of those who retry (after
            // an outage they would be told to wait for a minute).
            attempt.cancel()
            throw error
        }
        guard let user, let credentials, PasswordHasher.isAcceptable(password) else {
            try await attempt.checking { () async throws(ChatError) in try await hasher.verifyNothing(password) }
            throw Self.badCredentials
        }
        let matches = try await attempt.checking { () async throws(ChatError) in
            try await hasher.verify(password, hash: credentials.passwordHash)
        }
        guard matches else { throw Self.badCredentials }
        attempt.refund()
        let (tokens, sessionID) = try await openSession(for: user, credentialsVersion: credentials.version)
        // A password change that finished while this login was checking the old password revoked every session
        // but this one: revoke it too. Nor is its client known to the username (noted only after this check: the
        // change forgot the clients that logged in with the old password).
        if try await store.credentials(of: user.id)?.version != credentials.version {
            try await store.revokeSession(sessionID)
            throw Self.badCredentials
        }
        if let client { knownClients.note(Self.clientKey(client), of: Self.bucketName(username), now: clock.now) }
        return tokens
    }

    /// Exchanges a refresh token for a new access token and a new refresh token; the presented one stops working.
    ///
    /// Presenting a refresh token that was already exchanged means two parties hold it (one of them stole it): the
    /// session is then revoked, so neither the old nor the newest token of the session works any more. One
    /// exception keeps honest clients logged in: the token exchanged last, presented again within
    /// ``Configuration/refreshRetryWindow`` and before its successor was used, is a retry (the answer was lost,
    /// or two tabs refreshed at once) and gets the same new refresh token again, with a new access token.
    ///
    /// - Parameter refreshToken: The refresh token of the last ``AuthTokens``.
    /// - Returns: Tokens for the same session.
    /// - Throws: ``ChatKitCore/ChatError`` `.unauthenticated` for a malformed, expired, revoked or reused token.
    public func refresh(_ refreshToken: String) async throws -> AuthTokens {
        guard let token = RefreshToken(parsing: refreshToken, key: refreshTokenKey) else {
            throw ChatError(.unauthenticated, "The refresh token is malformed.")
        }
        // One refresh of a session at a time: two of the same token at once both read the session before either
        // rotated it, and the store answers a repeated rotation as done, so neither was told from a reuse (with a
        // retry window of zero, which promises that every reuse revokes). In turn, the second finds the rotation
        // made and is a retry or a reuse.
        return try await refreshes.run(token.sessionID) { try await refresh(token) }
    }

    private func refresh(_ token: RefreshToken) async throws -> AuthTokens {
        let now = now()
        guard let session = try await store.session(token.sessionID), session.isActive(at: now) else {
            throw Self.deadSession
        }
        let next = token.successor(key: refreshTokenKey)
        var expiresAt = now + configuration.refreshTokenLifetime
        if session.refreshTokenHash == next.hash {
            // Exchanged already, for `next`, which was not used since: a retry if it comes soon enough.
            guard isRetryInTime(session, now: now) else {
                try await store.revokeSession(session.id)
                throw reused(session)
            }
            expiresAt = session.expiresAt
        } else {
            do {
                // A refresh of the same token may have made this rotation since the session was read: the store
                // then returns the session unchanged (a race of requests in flight together, as two tabs make).
                let rotated = try await store.rotateRefreshToken(
                    of: session.id, from: token.hash, to: next.hash, expiresAt: expiresAt
                )
                expiresAt = rotated.expiresAt
            } catch let error as ChatError where error.code == .conflict {
                throw reused(session)
            } catch let error as ChatError where error.code == .notFound {
                throw Self.deadSession
            }
        }
        guard let user = try await store.user(session.userID),
            let credentials = try await store.credentials(of: session.userID)
        else {
            try await revokeAndClose(session)
            throw ChatError(.unauthenticated, "The session's user no longer exists.")
        }
        // Opened before the password changed: a change revokes such sessions, but one that failed after storing
        // the new password (or a password set through the store) may have left it. Its new access token would
        // carry the new version and be accepted. Its connections, open since, close too.
        if let opened = session.credentialsVersion, opened != credentials.version {
            try await revokeAndClose(session)
            throw ChatError(.unauthenticated, "The password changed since this session began; log in again.")
        }
        return try await tokens(
            for: user, sessionID: session.id, credentialsVersion: credentials.version, refreshToken: next,
            refreshTokenExpiresAt: expiresAt, now: now
        )
    }

    /// Whether `session`'s last rotation was made within ``Configuration/refreshRetryWindow`` of `now` (either
    /// way: a clock stepped back by less than the window does not turn a retry into a reuse). From a store that
    /// does not keep the rotation's time, it is taken as the token's expiry less the lifetime, which a lifetime
    /// changed since moves: a retry is then refused unless it falls in the window so computed.
    private func isRetryInTime(_ session: AuthSession, now: Date) -> Bool {
        let window = configuration.refreshRetryWindow / .seconds(1)
        guard window > 0 else { return false }
        if let refreshedAt = session.refreshedAt {
            return abs(now.timeIntervalSince(refreshedAt)) <= window
        }
        let elapsed = now.timeIntervalSince(session.expiresAt) + configuration.refreshTokenLifetime / .seconds(1)
        return elapsed >= -1 && elapsed <= window
    }

    /// Revokes `session` and closes its connections (``whenSessionsRevoked(_:)``).
    private func revokeAndClose(_ session: AuthSession) async throws {
        try await store.revokeSession(session.id)
        revocationHandlers.notify(SessionRevocation(userID: session.userID, sessionID: session.id))
    }

    /// The error for a refresh token presented again outside a retry; the session is revoked by then.
    private func reused(_ session: AuthSession) -> ChatError {
        revocationHandlers.notify(SessionRevocation(userID: session.userID, sessionID: session.id))
        return ChatError(
            .unauthenticated, "The refresh token was already used; the session has been revoked, log in again."
        )
    }

    /// Ends the session an access token belongs to: its refresh token and every access token of the session stop
    /// working. Logging out of a session that is already revoked succeeds.
    ///
    /// - Parameter accessToken: An unexpired access token of the session.
    /// - Throws: ``ChatKitCore/ChatError`` `.unauthenticated` if the token is not a valid, unexpired access token
    ///   of this service.
    public func logOut(accessToken: String) async throws {
        let claims = try await authenticator.verifiedClaims(accessToken)
        // Revoked already: nothing to write (the token stays valid for this until it expires).
        guard let session = try await store.session(SessionID(rawValue: claims.sid)), session.revokedAt == nil else {
            return
        }
        try await revokeAndClose(session)
    }

    /// Ends the session a refresh token belongs to, as ``logOut(accessToken:)`` does: for a client whose access
    /// token has expired (an app opened again after a while), which would otherwise leave the session, and its
    /// refresh token, alive. Any refresh token the session was given will do, even one already exchanged or
    /// expired: presenting an exchanged one to ``refresh(_:)`` would revoke the session too. Logging out of a
    /// session that is gone succeeds.
    ///
    /// - Parameter refreshToken: A refresh token of the session.
    /// - Throws: ``ChatKitCore/ChatError`` `.unauthenticated` if it is not a refresh token of this service.
    public func logOut(refreshToken: String) async throws {
        guard let token = RefreshToken(parsing: refreshToken, key: refreshTokenKey) else {
            throw ChatError(.unauthenticated, "The refresh token is malformed.")
        }
        // Gone or revoked already: nothing to write (an old refresh token stays valid for this, and would otherwise
        // let anyone holding one write to the store at will).
        guard let session = try await store.session(token.sessionID), session.revokedAt == nil else { return }
        try await revokeAndClose(session)
    }

    /// The session an access token names, if the token is one of this service's and unexpired (revoked or not):
    /// what ``HTTPRoutes`` limits logouts by.
    func session(ofAccessToken accessToken: String) async -> SessionID? {
        (try? await authenticator.verifiedClaims(accessToken)).map { SessionID(rawValue: $0.sid) }
    }

    /// The session a refresh token names, if the token is one of this service's (its MAC checked; the session may
    /// be gone): what ``HTTPRoutes`` limits refreshes and logouts by.
    func session(ofRefreshToken refreshToken: String) -> SessionID? {
        RefreshToken(parsing: refreshToken, key: refreshTokenKey)?.sessionID
    }

    /// Calls `handler` whenever sessions are revoked (logout, password change, refresh-token reuse), so that
    /// connections opened with them can be closed too:
    ///
    /// ```swift
    /// auth.whenSessionsRevoked { revocation in
    ///     server.closeSessions(of: revocation.userID, sessionID: revocation.sessionID?.rawValue)
    /// }
    /// ```
    ///
    /// Handlers run on the revoking task and must return quickly.
    public func whenSessionsRevoked(_ handler: @escaping @Sendable (SessionRevocation) -> Void) {
        revocationHandlers.add(handler)
    }

    /// Changes a user's password, revokes all their sessions (every device is logged out, and every access token
    /// already issued is refused), and starts a new session for the caller.
    ///
    /// Attempts count against a bucket of the user's own (as many as ``Configuration/Limits/loginAttemptBurst``), not
    /// against the bucket of failures that guesses from every address share: someone guessing the password cannot
    /// keep its owner from changing it. Changes of one user run one at a time.
    ///
    /// - Parameters:
    ///   - userID: The user, as authenticated (for example ``ChatKitCore/AuthenticatedUser/userID``).
    ///   - currentPassword: The password now, proving the caller knows it.
    ///   - newPassword: The new password, under the same rules as at ``signUp(username:password:displayName:)``.
    /// - Returns: Tokens for a new session.
    /// - Throws: ``ChatKitCore/ChatError`` `.invalidArgument` for a new password that breaks a rule,
    ///   `.unauthenticated` for a wrong current password or a user without a password, `.limitExceeded` for too
    ///   many attempts, `.unavailable` with a retry-after when too many password checks are running and waiting.
    public func changePassword(userID: UserID, currentPassword: String, newPassword: String) async throws
        -> AuthTokens
    {
        try CredentialRules.validatePassword(PasswordHasher.normalized(newPassword))
        return try await passwordChanges.run(userID) {
            guard let user = try await store.user(userID), let credentials = try await store.credentials(of: userID)
            else {
                throw ChatError(.unauthenticated, "The user does not exist or has no password.")
            }
            // The user's own bucket only: others guessing the password (the shared bucket of failures) must not
            // keep its owner from changing it.
            let attempt = try checkPasswordChangeLimit(for: user.username, userID)
            let newHash = try await attempt.checking { () async throws(ChatError) -> String? in
                guard PasswordHasher.isAcceptable(currentPassword) else { return nil }
                return try await hasher.replace(currentPassword, hash: credentials.passwordHash, with: newPassword)
            }
            guard let hash = newHash else { throw ChatError(.unauthenticated, "The current password is incorrect.") }
            let updated = try await store.setPasswordHash(hash, of: userID)
            // From here every token issued before is refused (its credentials version is old), so the connections
            // opened with them close now, also when revoking the sessions below fails (the change is made then,
            // and `refresh` refuses their refresh tokens by the version). The clients that logged in with the old
            // password are no longer known: someone who had it must not guess the new one outside the bucket of
            // failures.
            revocationHandlers.notify(SessionRevocation(userID: userID, sessionID: nil))
            knownClients.forget(Self.bucketName(CredentialRules.lookupUsername(user.username)))
            try await store.revokeSessions(of: userID)
            let (tokens, sessionID) = try await openSession(for: user, credentialsVersion: updated.version)
            // Another server sharing the store changed the password again meanwhile: this session must not outlive
            // that change.
            if try await store.credentials(of: userID)?.version != updated.version {
                try await store.revokeSession(sessionID)
                throw ChatError(.conflict, "The password was changed again meanwhile; log in with the newest one.")
            }
            return tokens
        }
    }

    // MARK: Helpers

    private static let badCredentials = ChatError(.unauthenticated, "The username or password is incorrect.")
    private static let deadSession = ChatError(
        .unauthenticated, "The session has expired or was revoked; log in again."
    )

    /// Takes an attempt from the username's bucket for `client` and a failure from the username's bucket of
    /// failures (given back with ``LoginAttempt/refund()`` when the password was right), or throws
    /// `.limitExceeded` with the time to wait.
    private func checkLoginLimits(for username: String, client: String?) throws -> LoginAttempt {
        let name = Self.bucketName(username)
        let now = clock.now
        let clientKey = Self.clientKey(client ?? "")
        let attemptKey = name + "\u{0}" + clientKey
        if let wait = loginLimiter.acquire(attemptKey, now: now) {
            throw Self.tooManyAttempts(wait)
        }
        if client != nil, knownClients.contains(clientKey, of: name, now: now) {
            return LoginAttempt(attempts: loginLimiter, attemptKey: attemptKey, failures: nil, key: name)
        }
        if let wait = failedLoginLimiter.acquire(name, now: now) {
            // Refused before any password was checked: the attempt taken from this client's own bucket above is
            // given back. Otherwise the owner, retrying while someone else's guesses keep the username's failures
            // bucket empty, would empty their own bucket too and stay locked out after the guessing stops.
            loginLimiter.refund(attemptKey)
            throw Self.tooManyAttempts(wait)
        }
        return LoginAttempt(attempts: loginLimiter, attemptKey: attemptKey, failures: failedLoginLimiter, key: name)
    }

    /// Takes an attempt from the user's own bucket for password changes (not the bucket of failures every address
    /// shares), or throws `.limitExceeded` with the time to wait.
    private func checkPasswordChangeLimit(for username: String, _ userID: UserID) throws -> LoginAttempt {
        let attemptKey = Self.bucketName(username) + "\u{0}" + Self.clientKey("password change by \(userID.rawValue)")
        if let wait = loginLimiter.acquire(attemptKey, now: clock.now) { throw Self.tooManyAttempts(wait) }
        return LoginAttempt(attempts: loginLimiter, attemptKey: attemptKey, failures: nil, key: Self.bucketName(username))
    }

    /// A username's key in the buckets: names longer than any valid username share buckets by prefix (they match
    /// nobody anyway).
    private static func bucketName(_ username: String) -> String {
        String(decoding: username.utf8.prefix(64), as: UTF8.self)
    }

    /// A client's key: a client names itself, so its key is cut to a bound (and, after the username and a NUL,
    /// cannot be mistaken for another username's).
    private static func clientKey(_ client: String) -> String {
        String(decoding: client.utf8.prefix(128), as: UTF8.self)
    }

    /// A login attempt, counted against the username and client (by `attempts`), and as a failed attempt against
    /// the username (by `failures`, `nil` for a known client) until the password turns out right.
    private struct LoginAttempt {
        let attempts: KeyedRateLimiter<String>
        let attemptKey: String
        let failures: KeyedRateLimiter<String>?
        let key: String

        /// The password was right: the attempt did not fail.
        func refund() { failures?.refund(key) }

        /// No password was checked (the server was busy, or the store failed): the attempt does not count at all,
        /// so that a user who retries through a flood of logins or an outage is not locked out by it.
        func cancel() {
            failures?.refund(key)
            attempts.refund(attemptKey)
        }

        /// Runs a password check, cancelling the attempt if the check was refused as busy.
        func checking<T>(_ check: () async throws(ChatError) -> T) async throws(ChatError) -> T {
            do {
                return try await check()
            } catch {
                if error.code == .unavailable { cancel() }
                throw error
            }
        }
    }

    private static func tooManyAttempts(_ wait: Duration) -> ChatError {
        let seconds = Int((wait / .seconds(1)).rounded(.up))
        var error = ChatError(
            .limitExceeded, "Too many login attempts for this username; try again in \(seconds) seconds."
        )
        error.retryAfter = wait
        return error
    }

    private func startSession(for user: User, credentialsVersion: Int64) async throws -> AuthTokens {
        try await openSession(for: user, credentialsVersion: credentialsVersion).tokens
    }

    /// How often opening a session also deletes sessions that ended
    /// (``ChatKitCore/SessionStore/deleteSessions(endedBefore:limit:)``).
    static let endedSessionPurgeInterval = Duration.seconds(3600)
    /// How many ended sessions one purge deletes at most; while a purge deletes that many, the next session's
    /// opening purges again, so that a backlog is cleared in short writes.
    static let endedSessionPurgeBatch = 1000
    /// How long an ended session is kept before it is deleted: a day, so that its tokens are refused as revoked
    /// (the error says so) for a while, and operators can look at it.
    static let endedSessionRetention: TimeInterval = 86_400

    /// Deletes up to ``endedSessionPurgeBatch`` sessions that ended more than ``endedSessionRetention`` ago, at
    /// most once per ``endedSessionPurgeInterval`` unless the last purge found a full batch: without it, every login
    /// added a session for good. A failure is tried again at the next interval.
    private func purgeEndedSessionsIfDue(now: Date) async {
        guard sessionPurges.claim(at: clock.now) else { return }
        let deleted = try? await store.deleteSessions(
            endedBefore: now.addingTimeInterval(-Self.endedSessionRetention), limit: Self.endedSessionPurgeBatch
        )
        if deleted == Self.endedSessionPurgeBatch { sessionPurges.runAgain() }
    }

    private func openSession(for user: User, credentialsVersion: Int64) async throws
        -> (tokens: AuthTokens, sessionID: SessionID)
    {
        let now = now()
        await purgeEndedSessionsIfDue(now: now)
        let sessionID = SessionID.random()
        let refreshToken = RefreshToken.generate(for: sessionID, key: refreshTokenKey)
        let expiresAt = now + configuration.refreshTokenLifetime
        try await store.createSession(
            AuthSession(
                id: sessionID, userID: user.id, refreshTokenHash: refreshToken.hash, createdAt: now,
                expiresAt: expiresAt, credentialsVersion: credentialsVersion
            )
        )
        let tokens = try await tokens(
            for: user, sessionID: sessionID, credentialsVersion: credentialsVersion, refreshToken: refreshToken,
            refreshTokenExpiresAt: expiresAt, now: now
        )
        return (tokens, sessionID)
    }

    private func tokens(
        for user: User,
        sessionID: SessionID,
        credentialsVersion: Int64,
        refreshToken: RefreshToken,
        refreshTokenExpiresAt: Date,
        now: Date
    ) async throws -> AuthTokens {
        // JWT times are whole seconds.
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let expiresAt = issuedAt + configuration.accessTokenLifetime
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: user.id.rawValue),
            sid: sessionID.rawValue,
            ver: credentialsVersion,
            exp: ExpirationClaim(value: expiresAt),
            iat: IssuedAtClaim(value: issuedAt)
        )
        return AuthTokens(
            accessToken: try await keys.sign(claims),
            refreshToken: refreshToken.value,
            accessTokenExpiresAt: expiresAt,
            refreshTokenExpiresAt: refreshTokenExpiresAt,
            user: user
        )
    }
}

extension Date {
    fileprivate static func + (date: Date, duration: Duration) -> Date {
        date.addingTimeInterval(duration / .seconds(1))
    }
}
