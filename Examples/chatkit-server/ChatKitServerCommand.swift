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

import ArgumentParser
import ChatKitCore
import ChatKitSQLite
import ChatKitServer
import Foundation
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `swift run chatkit-server`: ChatKit's bundled server, with accounts, the WebSocket protocol and health checks
/// on one port.
@main
struct ChatKitServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatkit-server",
        abstract: "Runs a ChatKit chat server: HTTP accounts and the realtime WebSocket protocol on one port.",
        discussion: """
            Endpoints: POST /v1/auth/signup, /v1/auth/login, /v1/auth/refresh, /v1/auth/logout, \
            /v1/auth/password; GET \
            /v1/conversations, /v1/conversations/{id}/messages, /v1/search, /v1/sync (long poll); POST \
            /v1/requests; GET /health, /ready, /metrics (Prometheus); WebSocket /v1/ws; the web chat at / \
            (open http://HOST:PORT/ in a browser).

            TLS: pass --tls-cert and --tls-key (PEM files) to serve https and wss instead of http and ws.

            Storage: a SQLite database (--database, default ./chatkit.sqlite). The token signing secret is \
            generated on first start and kept beside it in PATH.secret: keep both, and keep the secret private. \
            Files the server creates are readable by its user only. With --in-memory everything is lost when the \
            server stops, and the secret is generated at each start, so tokens from an earlier run are refused.

            Backups: `chatkit-server --database PATH --backup-to COPY` copies the database while a server runs \
            on it (a consistent snapshot, taken as the file is: not migrated, so any version may copy it) and \
            exits; keep PATH.secret with the copy. To restore, stop the server (and its supervisor), delete \
            PATH-wal and PATH-shm, copy the backup beside PATH and rename it over PATH (Operations.md, Backups); \
            the search index's file, PATH-search, is made again from the messages at the next start.
            """
    )

    @Option(help: "The address to listen on; 0.0.0.0 accepts other hosts.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one (the log says which).")
    var port = 8080

    @Option(help: "The SQLite database file, created if missing.")
    var database = "./chatkit.sqlite"

    @Flag(help: "Keep everything in memory instead of in --database; lost when the server stops.")
    var inMemory = false

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(help: "A PEM certificate chain for TLS (https and wss); needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Flag(help: "Offer permessage-deflate compression to WebSocket clients (saves bandwidth, costs CPU).")
    var compression = false

    @Option(
        name: .customLong("trusted-proxy"),
        help: """
            The address of a reverse proxy in front of the server (repeat for several). Sign-up and login limits \
            then count each client by the address the proxy appends to X-Forwarded-For, not by the proxy's. The \
            proxy must append it (nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for).
            """
    )
    var trustedProxies: [String] = []

    @Option(
        name: .customLong("allowed-origin"),
        help: """
            A web origin whose pages may call the HTTP API from a browser (CORS), such as \
            https://chat.example.com (repeat for several), or * for any. Not needed for the web chat the server \
            serves itself, nor for the WebSocket.
            """
    )
    var allowedOrigins: [String] = []

    @Option(
        help: """
            Serve the web chat from this folder instead of the copy built in (for working on it). Every file in \
            it but hidden ones can be downloaded: not the folder of the database.
            """
    )
    var webRoot: String?

    @Option(
        help: """
            Copy the database (--database) to this file while a server may be running on it, then exit. The file \
            is copied as it is, not migrated: any version may back up a database that another version serves.
            """
    )
    var backupTo: String?

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("Unknown log level '\(logLevel)'.")
        }
        guard (0...65535).contains(port) else { throw ValidationError("The port must be 0 to 65535.") }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("TLS needs both --tls-cert and --tls-key.")
        }
        for proxy in trustedProxies where !HTTPRoutes.Configuration.isProxyAddress(proxy) {
            throw ValidationError("--trusted-proxy takes an IP address such as 127.0.0.1 or ::1, not '\(proxy)'.")
        }
        for origin in allowedOrigins where origin != "*" && !HTTPRoutes.Configuration.isOrigin(origin) {
            throw ValidationError(
                "--allowed-origin takes * or an origin such as https://chat.example.com (no path), not '\(origin)'."
            )
        }
        guard !(inMemory && backupTo != nil) else {
            throw ValidationError("--backup-to copies a database file; there is none with --in-memory.")
        }
        if let webRoot {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: webRoot, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--web-root \(webRoot) is not a folder.")
            }
        }
        if let backupTo, [".secret", ".lock"].contains(where: { Self.samePath(backupTo, database + $0) }) {
            throw ValidationError("--backup-to \(backupTo) is the database's own file: give another path.")
        }
        // With --in-memory too when an earlier run left the database and its secret there: its secret signs tokens
        // that the next run on that file accepts.
        let databaseExists = !inMemory || FileManager.default.fileExists(atPath: database + ".secret")
        if let webRoot, databaseExists, Self.isInside(database, folder: webRoot) {
            throw ValidationError(
                "--web-root \(webRoot) holds the database \(database) and its signing secret (\(database).secret): "
                    + "anyone could download them. Serve a folder holding the web files only, or keep the database "
                    + "elsewhere (--database)."
            )
        }
    }

    /// Whether two paths name the same file, however spelled (`./`, `..`, symbolic links followed).
    private static func samePath(_ a: String, _ b: String) -> Bool {
        let resolved = { (path: String) in
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        return resolved(a) == resolved(b)
    }

    /// Whether the file at `path` is in `folder` or in a folder below it, symbolic links followed.
    private static func isInside(_ path: String, folder: String) -> Bool {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        // The file itself may not exist yet; its folder does (or opening the database fails anyway).
        let parent = file.deletingLastPathComponent().resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: folder).standardizedFileURL.resolvingSymlinksInPath().path
        return parent == root || parent.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    func run() async throws {
        // The database, its log and the signing secret hold password hashes, sessions and every message: files
        // this process creates are its user's alone.
        umask(0o077)
        if let backupTo {
            try await Self.backUp(database, to: backupTo)
            return
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "chatkit")
        let metrics = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: metrics)
        // Store and delivery latencies are mostly well under the default buckets' first 5 ms.
        metricsFactory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(metricsFactory)
        Self.raiseOpenFileLimit(logger: logger)
        let tls = try tlsCert.flatMap { certificate in
            try tlsKey.map { key in
                try WebSocketServerTransport.tlsConfiguration(certificateFile: certificate, privateKeyFile: key)
            }
        }
        let scheme = tls == nil ? (http: "http", ws: "ws") : (http: "https", ws: "wss")
        let store: any ChatStore
        let secret: [UInt8]
        var sqlite: SQLiteChatStore?
        if inMemory {
            store = InMemoryChatStore()
            // Per run: an in-memory store keeps no accounts across runs, so no token needs to outlive the process.
            secret = Self.randomSecret()
            logger.notice("Using an in-memory store and a signing secret generated for this run")
        } else {
            // Held until the process exits: a second server on this database refuses to start, rather than
            // migrating it under this one (an upgrade started before the old server stopped).
            try Self.lock(database)
            let databaseExisted = try Self.checkDatabaseFiles(database, logger: logger)
            let opened = try SQLiteChatStore(path: database)
            sqlite = opened
            store = opened
            secret = try Self.secret(beside: database, databaseExisted: databaseExisted, logger: logger)
            logger.notice("Using the SQLite database", metadata: ["chatkit.database": "\(database)"])
        }
        // On a failure to start; a server that ran closes its store below, before saying it stopped.
        defer { if let sqlite { Self.closeStore(sqlite, logger: logger) } }
        let auth = AuthService(store: store, secret: secret)
        let transport = WebSocketServerTransport(
            configuration: .init(
                host: host, port: port, serverName: "chatkit-server", compression: compression, tls: tls
            ),
            httpRoutes: HTTPRoutes(
                auth: auth, store: store, metrics: metrics,
                configuration: .init(trustedProxies: trustedProxies, allowedOrigins: allowedOrigins), logger: logger
            ),
            webFiles: (webRoot ?? Self.bundledWebRoot(logger: logger)).map { WebFiles(directory: $0) },
            logger: logger,
            onListening: { host, port in
                let address = "\(Self.urlHost(host)):\(port)"
                logger.notice(
                    "ChatKit server listening",
                    metadata: [
                        "chatkit.http": "\(scheme.http)://\(address)",
                        "chatkit.ws": "\(scheme.ws)://\(address)/v1/ws",
                    ]
                )
            }
        )
        let server = ChatServer(
            store: store, transports: [transport], authenticators: [auth.authenticator], logger: logger
        )
        // Logging out or changing the password also closes the connections opened with the revoked sessions:
        // HTTPRoutes asks the server it serves to (AuthService.whenSessionsRevoked).
        // SIGINT (Ctrl-C) or SIGTERM: stop accepting, close every socket with `shutdown`, then exit. (Not SIGHUP:
        // handling it would undo `nohup`, which leaves it ignored.)
        var serviceConfiguration = ServiceGroupConfiguration(
            services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        // A backstop: the transport closes sockets whose peers read nothing within its closeTimeout; whatever still
        // holds the graceful stop past this is cancelled.
        serviceConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        // And past this after the cancellation, the process ends (swift-service-lifecycle stops it with a fatal
        // error) rather than hang on work that ignores cancellation.
        serviceConfiguration.maximumCancellationDuration = .seconds(10)
        let services = ServiceGroup(configuration: serviceConfiguration)
        do {
            try await services.run()
        } catch let error as IOError where [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) {
            throw StartupError("Could not listen on \(host) port \(port): \(Self.listenFailure(error.errnoCode)).")
        }
        if let opened = sqlite {
            sqlite = nil
            await Self.finishRedactions(opened, logger: logger)
            Self.closeStore(opened, logger: logger)
        }
        logger.notice("ChatKit server stopped")
    }

    /// Why listening failed, and what to do.
    private static func listenFailure(_ code: Int32) -> String {
        switch code {
        case EADDRINUSE: "the port is in use (another server?); stop that or pick another --port"
        case EACCES: "permission denied (ports below 1024 need privileges); pick another --port"
        default: "the address is not one of this machine's; check --host"
        }
    }

    /// Rewrites the copies of deleted messages that the store had yet to rewrite in stored events, for at most 10
    /// seconds, so that a stopped server's file holds no deleted text (Operations.md, "Deleted messages"); what is
    /// left is rewritten after the next start.
    private static func finishRedactions(_ store: SQLiteChatStore, logger: Logger) async {
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await store.finishRedactions()) != nil }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished {
            logger.warning(
                "Some deleted messages' copies in stored events are not rewritten yet; the next start goes on with them"
            )
        }
    }

    /// Closes the store; a failure is logged, not thrown: what was committed is in the database or its log,
    /// which the next start recovers, but the database is not one file until then.
    private static func closeStore(_ store: SQLiteChatStore, logger: Logger) {
        do {
            try store.close()
        } catch {
            logger.error(
                "The database was not closed cleanly: its -wal and -shm files stay until the next start recovers them",
                metadata: ["chatkit.error": "\(error)"]
            )
        }
    }

    /// Checks the database, its log files and its search index's files before opening them: files this user cannot
    /// read or write (a restore copied as root) are refused with their owner and mode, and files others may read are
    /// made this user's alone (SQLite gives the log files the database's mode, whatever the umask says). Returns
    /// whether the database exists.
    private static func checkDatabaseFiles(_ database: String, logger: Logger) throws -> Bool {
        var databaseExists = false
        let searchIndex = database + "-search"  // the search index's file (SQLiteChatStore, schema v20)
        for path in [
            database, database + "-wal", database + "-shm", searchIndex, searchIndex + "-wal", searchIndex + "-shm",
        ] {
            var status = stat()
            guard stat(path, &status) == 0 else { continue }
            if path == database { databaseExists = true }
            let mode = String(status.st_mode & 0o777, radix: 8)
            guard access(path, R_OK | W_OK) == 0 else {
                guard status.st_uid != geteuid() else {
                    throw StartupError(
                        "\(path) (mode \(mode)) cannot be read and written by its owner, this server's user: "
                            + "chmod 600 it."
                    )
                }
                let owner = getpwuid(status.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "\(status.st_uid)"
                let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "\(geteuid())"
                throw StartupError(
                    "\(path) belongs to \(owner) (mode \(mode)), and this server runs as \(user), who cannot read "
                        + "and write it: chown it to \(user) (a restored copy made as root is root's)."
                )
            }
            guard status.st_mode & 0o077 != 0, status.st_uid == geteuid() else { continue }
            if chmod(path, status.st_mode & 0o700) == 0 {
                logger.warning(
                    "A database file could be read by other users; it is now readable by its owner only",
                    metadata: ["chatkit.file": "\(path)", "chatkit.mode.before": "\(mode)"]
                )
            } else {
                logger.warning(
                    "A database file may be read by other users",
                    metadata: ["chatkit.file": "\(path)", "chatkit.fix": "chmod 600 \(path)"]
                )
            }
        }
        return databaseExists
    }

    /// Takes an exclusive lock on `<database>.lock` for the life of the process (the kernel lets it go when the
    /// process ends, however it ends), or throws if another process holds it.
    private static func lock(_ database: String) throws {
        let path = database + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StartupError(
                "Could not open the lock file \(path): \(String(cString: strerror(errno))). Check that its folder "
                    + "exists and is writable."
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            close(descriptor)
            if failure == EWOULDBLOCK {
                throw StartupError(
                    "Another chatkit-server is using \(database) (it holds \(path)); stop it first. Backups while it "
                        + "runs: --backup-to."
                )
            }
            throw StartupError("Could not lock \(path): \(String(cString: strerror(failure))).")
        }
        // Deliberately never closed: closing the descriptor would release the lock.
    }

    /// Raises the soft limit on open files to the hard limit: each connection holds one.
    private static func raiseOpenFileLimit(logger: Logger) {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let previous = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            logger.notice(
                "Raised the open-file limit to the hard limit",
                metadata: ["chatkit.files.before": "\(previous)", "chatkit.files.now": "\(limit.rlim_max)"]
            )
        }
        #endif
    }

    /// `host` as a URL writes it: an IPv6 address in brackets (`[::1]`), so that the logged URLs can be opened.
    static func urlHost(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    /// The web chat's files, copied into the executable's resource bundle at build time: the bundle beside the
    /// executable, as SwiftPM builds it; `nil` (no web chat, with a warning) when the executable was copied
    /// without it. (SwiftPM's `Bundle.module` would stop the process instead.)
    private static func bundledWebRoot(logger: Logger) -> String? {
        // The running file itself (`/proc/self/exe`), wherever it was started from (`PATH`, a symbolic link).
        let executable = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath()
        let web = executable.deletingLastPathComponent()
            .appendingPathComponent("chatkit_chatkit-server.resources").appendingPathComponent("Web")
        if FileManager.default.fileExists(atPath: web.appendingPathComponent("index.html").path) { return web.path }
        logger.warning(
            """
            The web chat's files are not beside the executable, so / serves nothing: copy the folder \
            chatkit_chatkit-server.resources with it, or pass --web-root
            """,
            metadata: ["chatkit.web.expected": "\(web.path)"]
        )
        return nil
    }

    /// Copies the database at `path` to `destination` with SQLite's online backup, as it is: the file is not
    /// opened as a store, so it is neither migrated nor written to, and any version of chatkit-server may copy a
    /// database that another version serves.
    private static func backUp(_ path: String, to destination: String) async throws {
        do {
            try await SQLiteChatStore.backup(databaseAt: path, to: destination)
        } catch let error as ChatError {
            throw StartupError(error.reason ?? "\(error)")
        }
        print("Backed up \(path) to \(destination). Keep \(path).secret with it.")
    }

    private static func randomSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The signing secret kept in `<database>.secret`, created (readable by the owner only) on first start; a new
    /// one for a database that existed before is warned about (every user must log in again).
    private static func secret(beside database: String, databaseExisted: Bool, logger: Logger) throws -> [UInt8] {
        let path = database + ".secret"
        if let secret = try readSecret(at: path, logger: logger) { return secret }
        let secret = randomSecret()
        // Written whole to a file of its own (mode 0600 from its creation, synced), then linked into place: the
        // secret file never exists half written, and of two processes starting at once, the second to link finds
        // the first one's secret and uses it.
        let temporary = path + ".new-\(UInt64.random(in: .min ... .max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StartupError(
                "Could not create the signing secret file \(path): \(String(cString: strerror(errno))). Check that "
                    + "its folder exists and is writable."
            )
        }
        defer { unlink(temporary) }
        let written = secret.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = written == secret.count && fsync(descriptor) == 0
        let failure = errno  // before close() may set it
        close(descriptor)
        guard synced else {
            throw StartupError(
                "Could not write the signing secret file \(path): \(String(cString: strerror(failure)))."
            )
        }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST, let secret = try readSecret(at: path, logger: logger) { return secret }
            throw StartupError("Could not create the signing secret file \(path): \(String(cString: strerror(errno))).")
        }
        if databaseExisted {
            logger.warning(
                """
                Generated a new signing secret for an existing database: every user must log in again (restore the \
                secret file kept with the backup to avoid it)
                """,
                metadata: ["chatkit.secret.file": "\(path)"]
            )
        } else {
            logger.notice("Generated a signing secret", metadata: ["chatkit.secret.file": "\(path)"])
        }
        return secret
    }

    /// The secret at `path`, `nil` if there is no file; an error if it exists but cannot be read (a new secret
    /// would end every session) or is too short. Warns when others may read it.
    private static func readSecret(at path: String, logger: Logger) throws -> [UInt8]? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw StartupError("Could not read the signing secret file \(path): \(String(cString: strerror(errno))).")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartupError(
                "Could not read the signing secret file \(path); check its owner and permissions (a new secret "
                    + "would log every user out, so none is made)."
            )
        }
        guard data.count >= 32 else { throw StartupError("\(path) holds fewer than 32 bytes.") }
        if status.st_mode & 0o077 != 0 {
            logger.warning(
                "The signing secret file may be read by other users: anyone who reads it can make access tokens",
                metadata: ["chatkit.secret.file": "\(path)", "chatkit.fix": "chmod 600 \(path)"]
            )
        }
        return Array(data)
    }
}

/// A reason the server cannot start, said plainly (not as a usage error).
struct StartupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
