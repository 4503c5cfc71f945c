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

import ChatKitSQLite
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What an operator meets starting the bundled `chatkit-server`: its start-up checks, run as a child process.
/// (`CLIRun` and `CLISession` run any executable; they were made for chatkit-cli.)
@Suite("chatkit-server start-up")
struct ServerCommandTests {
    /// The chatkit-server built next to the test bundle by `swift build --build-tests`.
    static var executable: URL? {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = directory.appendingPathComponent("chatkit-server")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    static let buildFirst: Comment = "build the chatkit-server product first (swift build --build-tests)"

    /// A fresh folder, removed when `body` returns or throws.
    private static func withDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("chatkit-server-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }

    private static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue
    }

    @Test("a database and log files others may read are made the owner's at start, and the store is closed at stop")
    func looseDatabaseFilesAreTightened() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        try await Self.withDirectory { directory in
            let database = directory.appendingPathComponent("chat.sqlite").path
            try SQLiteChatStore(path: database).close()
            // As a server from before the umask, or a careless restore, left them.
            #expect(chmod(database, 0o644) == 0)
            #expect(FileManager.default.createFile(atPath: database + "-wal", contents: nil))
            #expect(chmod(database + "-wal", 0o644) == 0)
            let server = try CLISession(
                executable, ["--database", database, "--host", "127.0.0.1", "--port", "0", "--log-level", "info"]
            )
            try await server.waitFor("ChatKit server listening")
            try await server.waitFor("it is now readable by its owner only")
            for path in [database, database + "-wal", database + "-shm"] {
                #expect(try Self.mode(path) == 0o600, "\(path)")
            }
            // A database that existed without its secret file (a restore that forgot it): said as a warning.
            try await server.waitFor("Generated a new signing secret for an existing database")
            server.terminate()
            try await server.waitFor("ChatKit server stopped")
            // Closed before it said so: the log was checkpointed into the database and removed by then.
            #expect(!FileManager.default.fileExists(atPath: database + "-wal"))
            #expect(try await server.exitStatus() == 0)
        }
    }

    @Test("a port in use is named, with what to do")
    func aPortInUseIsNamed() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let run = try await CLIRun.run(
            executable, ["--in-memory", "--host", "127.0.0.1", "--port", "\(port)", "--log-level", "error"], input: nil
        )
        #expect(run.status != 0)
        #expect(run.errors.contains("Could not listen on 127.0.0.1 port \(port): the port is in use"), "\(run.errors)")
    }

    @Test("a backup onto the database's own files, or a web root that is not a folder, is refused before anything")
    func selfDefeatingArgumentsAreRefused() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        try await Self.withDirectory { directory in
            let database = directory.appendingPathComponent("chat.sqlite").path
            try SQLiteChatStore(path: database).close()
            try Data(repeating: 7, count: 32).write(to: URL(fileURLWithPath: database + ".secret"))
            // However spelled: the default database is ./chatkit.sqlite, named as chatkit.sqlite.secret.
            let respelled = directory.appendingPathComponent("sub/../chat.sqlite").path
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("sub"), withIntermediateDirectories: true
            )
            for destination in [database + ".secret", respelled + ".secret", respelled + ".lock", database + "-wal"] {
                let run = try await CLIRun.run(
                    executable, ["--database", database, "--backup-to", destination], input: nil
                )
                #expect(run.status != 0, "\(destination)")
                #expect(run.errors.contains("give another path"), "\(run.errors)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: database + ".secret")) == Data(repeating: 7, count: 32))
            #expect(!FileManager.default.fileExists(atPath: database + "-wal"))
            let missing = directory.appendingPathComponent("no-such-folder").path
            let run = try await CLIRun.run(
                executable, ["--in-memory", "--port", "0", "--web-root", missing], input: nil
            )
            #expect(run.status != 0)
            #expect(run.errors.contains("--web-root \(missing) is not a folder"), "\(run.errors)")
            // A folder holding an earlier run's database and secret is not served, with --in-memory either. (The
            // host is no address of this machine: a server that started anyway fails to listen, and ends.)
            let leftovers = try await CLIRun.run(
                executable,
                [
                    "--in-memory", "--host", "203.0.113.1", "--port", "0", "--database", database,
                    "--web-root", directory.path,
                ],
                input: nil
            )
            #expect(leftovers.status != 0)
            #expect(leftovers.errors.contains("anyone could download them"), "\(leftovers.errors)")
        }
    }

    @Test("--allowed-origin lets that origin's pages call the HTTP API, and no other's")
    func anAllowedOriginIsAnswered() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let server = try CLISession(
            executable,
            ["--in-memory", "--host", "127.0.0.1", "--port", "0", "--allowed-origin", "https://chat.example.com"]
        )
        defer { server.terminate() }
        try await server.waitFor("chatkit.ws=")
        let line = try #require(server.printedLines.first { $0.contains("chatkit.http=") })
        let address = try #require(line.firstRange(of: "chatkit.http=").map { line[$0.upperBound...] })
            .prefix { !$0.isWhitespace && $0 != "," && $0 != "]" }
        for (origin, allowed) in [("https://chat.example.com", true), ("https://other.example.com", false)] {
            var request = URLRequest(url: try #require(URL(string: "\(address)/v1/requests")))
            request.httpMethod = "OPTIONS"
            request.setValue(origin, forHTTPHeaderField: "Origin")
            request.setValue("POST", forHTTPHeaderField: "Access-Control-Request-Method")
            let (_, response) = try await URLSession.shared.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            #expect((http.statusCode == 204) == allowed, "\(origin)")
            #expect(http.value(forHTTPHeaderField: "Access-Control-Allow-Origin") == (allowed ? origin : nil))
        }
    }

    @Test("an --allowed-origin that is not an origin is refused, naming what it takes")
    func aMalformedAllowedOriginIsRefused() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        for origin in ["chat.example.com", "https://chat.example.com/"] {
            // The host is no address of this machine: a server that started anyway fails to listen, and ends.
            let run = try await CLIRun.run(
                executable,
                ["--in-memory", "--host", "203.0.113.1", "--port", "0", "--allowed-origin", origin],
                input: nil
            )
            #expect(run.status != 0)
            #expect(run.errors.contains("--allowed-origin takes * or an origin"), "\(run.errors)")
            #expect(run.errors.contains("'\(origin)'"), "\(run.errors)")
        }
    }
}
