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
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// chatkit-cli's fixes from a review (/tmp/review-s35-cli.md): each test runs the built executable against a live
/// server, as ``TerminalClientTests`` do.
@Suite("chatkit-cli: logins, outboxes and transcripts shared between processes")
struct CLIReviewFixesTests {
    /// A fresh home folder; removed by the caller.
    static func temporaryHome() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
    }

    /// Runs the CLI with `--server baseURL --home home/device`.
    static func cli(
        _ arguments: [String], at baseURL: String, home: URL, device: String, input: String? = nil
    ) async throws -> CLIRun {
        let executable = try #require(TerminalClientTests.executable, TerminalClientTests.buildFirst)
        return try await CLIRun.run(
            executable, arguments + ["--server", baseURL, "--home", home.appendingPathComponent(device).path],
            input: input
        )
    }

    /// Ends the session of the login in `loginFile` as another device would (a logout with its refresh token), and
    /// marks its access token expired, so that the CLI's next command refreshes first; returns the login as stored.
    static func endSessionElsewhere(_ loginFile: URL, _ live: LiveServer) async throws -> [String: Any] {
        var stored = try readLogin(loginFile)
        let refreshToken = try #require(stored["refreshToken"] as? String)
        #expect(try await live.http("POST", "/v1/auth/logout", json: ["refreshToken": refreshToken]).status == 204)
        stored["accessTokenExpiresAt"] = 0
        try writeLogin(stored, to: loginFile)
        return stored
    }

    /// The login stored in `loginFile`, as JSON.
    static func readLogin(_ loginFile: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: loginFile)) as? [String: Any])
    }

    /// Replaces the login stored in `loginFile` with `login`, as another process would.
    static func writeLogin(_ login: [String: Any], to loginFile: URL) throws {
        try JSONSerialization.data(withJSONObject: login).write(to: loginFile)
    }

    /// Starts an interactive chat of `device`'s login.
    /// Bob, signed up with the CLI (his chat's home is `home`), and Alice connected to `live`.
    static func bobWithAlice(_ live: LiveServer, home: URL) async throws -> (alice: TestClient, bob: User) {
        try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
        let alice = try await live.connect(try await live.signUp("alice").accessToken)
        return (alice, try #require(try await alice.client.findUser(username: "bob")))
    }

    static func chat(_ arguments: [String], at baseURL: String, home: URL, device: String) throws -> CLISession {
        let executable = try #require(TerminalClientTests.executable, TerminalClientTests.buildFirst)
        return try CLISession(
            executable, ["chat"] + arguments + ["--server", baseURL, "--home", home.appendingPathComponent(device).path]
        )
    }

    /// Two chats of a user in one home shared `outbox-<user>.json`, each saving its own lines over the other's: a
    /// second one is now refused while the first runs.
    @Test func aSecondChatOfTheSameUserInTheSameHomeIsRefused() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await TerminalClientTests.signUp("alice", at: live.baseURL, home: home)
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
            let first = try Self.chat(["alice"], at: live.baseURL, home: home, device: "bob")
            defer { first.terminate() }
            try await first.waitFor("== alice ==")
            let second = try await Self.cli(["chat", "alice"], at: live.baseURL, home: home, device: "bob")
            #expect(second.status != 0)
            #expect(second.errors.contains("Another chat is running for bob"), "\(second.errors)")
            // Once the first has quit, a chat starts again.
            first.type("/quit")
            try await first.waitFor("Bye.")
            #expect(try await first.exitStatus() == 0)
            let third = try await Self.cli(["chat", "alice"], at: live.baseURL, home: home, device: "bob")
            #expect(third.status == 0, "\(third.errors)")
            #expect(third.output.contains("Bye."))
        }
    }

    /// A refresh raced the other processes of the home: one that refreshed a token another had just replaced was
    /// refused and deleted the newer login. Refreshes now wait for the home's login lock, then read the login.
    @Test func aRefreshWaitsForTheLoginLockAndUsesTheLoginSavedMeanwhile() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
            let loginFile = home.appendingPathComponent("bob/login.json")
            // Bob's login is stale: its session ended and its access token expired (a refresh is due).
            _ = try await Self.endSessionElsewhere(loginFile, live)
            // A newer login, made elsewhere, is what another process is about to save.
            let newer = try await Self.cli(
                ["login", "bob", "--password-stdin"], at: live.baseURL, home: home, device: "newer",
                input: "correct horse battery\n"
            )
            #expect(newer.status == 0, "\(newer.errors)")

            // This test holds the lock, as a process saving a login does.
            let lockPath = home.appendingPathComponent("bob/login.lock").path
            let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            #expect(lock >= 0)
            #expect(flock(lock, LOCK_EX) == 0)
            // Let go however the test ends, or the CLI waits on.
            var held = true
            defer { if held { close(lock) } }
            let inode = try #require(
                try FileManager.default.attributesOfItem(atPath: lockPath)[.systemFileNumber] as? NSNumber
            )
            let run = Task { try await Self.cli(["conversations"], at: live.baseURL, home: home, device: "bob") }
            let finished = Locked(false)
            let watcher = Task {
                _ = try? await run.value
                finished.withLock { $0 = true }
            }
            defer { watcher.cancel() }
            // Polled every 20 ms: /proc/locks is long while other tests' SQLite files are open.
            try await withTimeout("the CLI to wait for the login lock (or to end)") {
                while !(finished.value || Self.someoneWaitsForLock(inode: inode.uint64Value)) {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(!finished.value, "the CLI refreshed without waiting for the login lock")
            try Data(contentsOf: home.appendingPathComponent("newer/login.json")).write(to: loginFile)
            close(lock)
            held = false
            let listed = try await run.value
            #expect(listed.status == 0, "\(listed.errors)")
            #expect(FileManager.default.fileExists(atPath: loginFile.path))
        }
    }

    /// Whether a process waits for a `flock` on the file with this inode (Linux's /proc/locks lists waiters as
    /// `N: -> FLOCK ADVISORY WRITE pid major:minor:inode ...`).
    static func someoneWaitsForLock(inode: UInt64) -> Bool {
        guard let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
        return locks.split(separator: "\n").contains { line in
            line.contains("->") && line.contains("FLOCK")
                && line.split(separator: " ").contains { $0.hasSuffix(":\(inode)") }
        }
    }

    /// A message whose sender's name could not be looked up (disconnected, refused) was replaced by an error line,
    /// and the cursor had moved past it: it was never shown. It is now shown with the sender's ID.
    @Test func aMessageIsShownWhenItsSendersNameCannotBeLookedUp() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = InMemoryChatStore()
        let gated = CLIGatedStore(store)
        try await LiveServer.run(store: store, serverStore: gated) { live in
            try await TerminalClientTests.signUp("alice", at: live.baseURL, home: home)
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
            let sent = try await Self.cli(["send", "bob", "first"], at: live.baseURL, home: home, device: "alice")
            #expect(sent.status == 0, "\(sent.errors)")
            let alice = try #require(try await store.user(username: "alice")).id
            gated.failsUserLookups.store(true, ordering: .relaxed)

            let history = try await Self.cli(["history", "alice"], at: live.baseURL, home: home, device: "bob")
            #expect(history.status == 0, "\(history.errors)")
            #expect(history.output.contains("\(alice.rawValue): first"), "\(history.output)")

            let chat = try Self.chat(["alice"], at: live.baseURL, home: home, device: "bob")
            defer { chat.terminate() }
            try await chat.waitFor("\(alice.rawValue): first")
            let again = try await Self.cli(["send", "bob", "second"], at: live.baseURL, home: home, device: "alice")
            #expect(again.status == 0, "\(again.errors)")
            try await chat.waitFor("\(alice.rawValue): second")
            try await chat.quit()
            let errors = chat.printedLines.filter { $0.hasPrefix("!") }
            #expect(errors.isEmpty, "\(errors)")
        }
    }

    /// Messages that arrived while a conversation opened were printed (before its title even) and again in its
    /// history. Each is now printed once, after the title.
    @Test func aMessageArrivingWhileTheConversationOpensIsPrintedOnce() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = InMemoryChatStore()
        let gated = CLIGatedStore(store)
        try await LiveServer.run(store: store, serverStore: gated) { live in
            let (alice, bob) = try await Self.bobWithAlice(live, home: home)
            let team = try await alice.client.createGroup("Team", members: [bob.id])
            let (historyEntered, historyProceeds) = (TestGate(), TestGate())
            defer { historyProceeds.open() }
            gated.holdNextHistory(entered: historyEntered, proceed: historyProceeds)

            let chat = try Self.chat([team.id.rawValue], at: live.baseURL, home: home, device: "bob")
            defer { chat.terminate() }
            try await withTimeout("the chat's history request") { await historyEntered.wait() }
            // Stored after Bob's session opened (pushed to him live) and before his history is read (in it too).
            _ = try await alice.client.send("while the history loads", to: team.id)
            historyProceeds.open()
            try await chat.waitFor("== #Team ==")
            try await chat.waitFor("alice: while the history loads")
            // Events are printed in order: once this one is, the one before was handled.
            _ = try await alice.client.send("after it", to: team.id)
            try await chat.waitFor("alice: after it")
            let lines = chat.printedLines
            let shown = lines.indices.filter { lines[$0].contains("while the history loads") }
            #expect(shown.count == 1, "\(lines)")
            let title = try #require(lines.firstIndex(of: "== #Team =="))
            #expect(shown.allSatisfy { $0 > title }, "\(lines)")
            try await chat.quit()
            await alice.disconnect()
        }
    }

    /// A message that arrived while a conversation was opening was held back until its history had been shown; when
    /// the history could not be read, what was held was never printed. It is now printed as messages of a
    /// conversation that is not open are.
    @Test func aMessageArrivingWhileAnOpeningFailsIsPrintedAnyway() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = InMemoryChatStore()
        let gated = CLIGatedStore(store)
        try await LiveServer.run(store: store, serverStore: gated) { live in
            let (alice, bob) = try await Self.bobWithAlice(live, home: home)
            let team = try await alice.client.createGroup("Team", members: [bob.id])
            let chat = try Self.chat(["alice"], at: live.baseURL, home: home, device: "bob")
            defer { chat.terminate() }
            try await chat.waitFor("== alice ==")

            let (historyEntered, historyProceeds) = (TestGate(), TestGate())
            defer { historyProceeds.open() }
            gated.holdNextHistory(entered: historyEntered, proceed: historyProceeds, fails: true)
            chat.type("/open \(team.id.rawValue)")
            try await withTimeout("the history request of #Team") { await historyEntered.wait() }
            _ = try await alice.client.send("while the opening fails", to: team.id)
            // Stored events reach the chat in order, and the open conversation's are printed while another opens:
            // once this one is printed, the chat holds the one before.
            let direct = try await alice.client.createDirectConversation(with: bob.id)
            _ = try await alice.client.send("in the open conversation", to: direct.id)
            try await chat.waitFor("alice: in the open conversation")
            historyProceeds.open()
            try await chat.waitFor("could not read or write its storage")
            try await chat.waitFor("alice: while the opening fails")
            let shown = chat.printedLines.filter { $0.contains("while the opening fails") }
            #expect(shown.count == 1 && shown.allSatisfy { $0.hasPrefix("[#Team] ") }, "\(chat.printedLines)")
            try await chat.quit()
            await alice.disconnect()
        }
    }

    /// The server tells a user's presence again as new relations make it known (a group, a direct conversation),
    /// and the chat printed "* alice is online" each time: three times in a row here. It is now printed when it
    /// changes.
    @Test func presenceIsPrintedWhenItChangesOnly() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            let (alice, bob) = try await Self.bobWithAlice(live, home: home)
            _ = try await alice.client.createGroup("Team", members: [bob.id])
            let chat = try Self.chat(["alice"], at: live.baseURL, home: home, device: "bob")
            defer { chat.terminate() }
            try await chat.waitFor("== alice ==")
            _ = try await alice.client.createGroup("Another team", members: [bob.id])
            let direct = try await alice.client.createDirectConversation(with: bob.id)
            // Stored events and presence reach the chat in the order the server sent them.
            _ = try await alice.client.send("after the introductions", to: direct.id)
            try await chat.waitFor("alice: after the introductions")
            #expect(chat.printedLines.filter { $0 == "* alice is online" }.count == 1, "\(chat.printedLines)")
            try await chat.quit()
            await alice.disconnect()
        }
    }

    /// A command whose access token the server refused at `hello`, though this machine's clock took it for valid
    /// (the server's clock ahead, or a key changed by a restart), failed with "unauthenticated" while the refresh
    /// token would have done. The token is now refreshed and the command tried once more.
    @Test func aTokenTheServerRefusesThoughItLooksValidIsRefreshedOnce() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
            let loginFile = home.appendingPathComponent("bob/login.json")
            var stored = try Self.readLogin(loginFile)
            // Not expiring for minutes by the stored time, and refused by the server.
            stored["accessToken"] = "a token the server does not take"
            try Self.writeLogin(stored, to: loginFile)

            let listed = try await Self.cli(["conversations"], at: live.baseURL, home: home, device: "bob")
            #expect(listed.status == 0, "\(listed.errors)")
            let saved = try Self.readLogin(loginFile)
            #expect(saved["accessToken"] as? String != "a token the server does not take")
            #expect(saved["refreshToken"] as? String != stored["refreshToken"] as? String, "refreshed")
        }
    }

    /// `logout` while the server could not be reached failed and kept the login, tokens included: one logs out to
    /// leave nothing behind on the machine. The login is now forgotten here all the same, and the command says
    /// the server was not told.
    @Test func aLogoutWhileTheServerIsDownForgetsTheLoginHere() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
        }
        // The login moved to a server nothing answers for (port 1: not one a test's server could have taken since).
        let loginFile = home.appendingPathComponent("bob/login.json")
        let unreachable = "http://127.0.0.1:1"
        var stored = try Self.readLogin(loginFile)
        stored["server"] = unreachable
        try Self.writeLogin(stored, to: loginFile)
        let logout = try await Self.cli(["logout"], at: unreachable, home: home, device: "bob")
        #expect(logout.status == 0, "\(logout.errors)")
        #expect(logout.output.contains("could not be told"), "\(logout.output)")
        #expect(!FileManager.default.fileExists(atPath: loginFile.path))
    }

    /// The lines an earlier chat left in the outbox are sent as the session opens; a refusal that came while the
    /// first conversation opened was told nowhere (the refusals were watched only after it).
    @Test func aRefusalOfALineFromAnEarlierChatIsToldWhileTheConversationOpens() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = InMemoryChatStore()
        let gated = CLIGatedStore(store)
        try await LiveServer.run(store: store, serverStore: gated) { live in
            try await TerminalClientTests.signUp("alice", at: live.baseURL, home: home)
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
            let bob = try #require(try await store.user(username: "bob")).id
            // An earlier chat queued a line to a conversation Bob is not in (removed since): the server refuses it.
            let earlier = ChatClient(
                transport: WebSocketClientTransport.loadTolerant(url: live.webSocketURL), token: "never used",
                configuration: {
                    var configuration = ChatClient.Configuration()
                    configuration.outboxStorage = FileOutboxStorage(
                        fileURL: home.appendingPathComponent("bob/outbox-\(bob.rawValue).json")
                    )
                    return configuration
                }()
            )
            try earlier.queue("from the earlier chat", to: ConversationID(rawValue: "gone"))
            #expect(earlier.outboxStorageError == nil)

            // The refusal comes once the chat has counted the lines refused before (none) and while its first
            // conversation opens (the server answers the requests read after a send once the send is answered).
            let (appendEntered, proceeds) = (TestGate(), TestGate())
            defer { proceeds.open() }
            gated.holdNextAppend(of: "from the earlier chat", entered: appendEntered, proceed: proceeds)
            let chat = try Self.chat(["alice"], at: live.baseURL, home: home, device: "bob")
            defer { chat.terminate() }
            try await chat.waitFor("Connected as bob.")
            try await withTimeout("the earlier chat's line to be sent") { await appendEntered.wait() }
            proceeds.open()
            try await chat.waitFor("== alice ==")
            try await chat.waitFor("Not sent: from the earlier chat")
            try await chat.quit()
        }
    }

    /// A one-shot `send` whose connection dropped before the answer said the message "stays in the outbox", which
    /// nothing ever sends; it may also have been stored. It now says so, and to check the history.
    @Test func aSendLostWithItsConnectionSaysToCheckTheHistory() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = InMemoryChatStore()
        let gated = CLIGatedStore(store)
        try await LiveServer.run(store: store, serverStore: gated) { live in
            try await TCPRelay.run(to: live.port) { relay in
                let baseURL = "http://127.0.0.1:\(relay.port)"
                try await TerminalClientTests.signUp("alice", at: baseURL, home: home)
                try await TerminalClientTests.signUp("bob", at: baseURL, home: home)
                let (appendEntered, appendProceeds) = (TestGate(), TestGate())
                defer { appendProceeds.open() }
                gated.holdNextAppend(of: "lost on the way", entered: appendEntered, proceed: appendProceeds)
                async let sent = Self.cli(["send", "alice", "lost on the way"], at: baseURL, home: home, device: "bob")
                try await withTimeout("the message to reach the store") { await appendEntered.wait() }
                relay.cutAll()
                let run = try await sent
                #expect(run.status != 0)
                #expect(run.errors.contains("may or may not have been stored"), "\(run.errors)")
                #expect(run.errors.contains("history alice"), "\(run.errors)")
                #expect(!run.errors.contains("outbox"), "\(run.errors)")
            }
        }
    }

    /// `--server chat.example.com` meant `http://`: the password and the tokens crossed the network in clear text.
    /// A host without a scheme is now reached over https, but for a loopback one.
    @Test func aRemoteServerGivenWithoutASchemeIsReachedOverHTTPS() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let remote = try await Self.cli(
            ["login", "bob", "--password-stdin"], at: "chat.example.invalid", home: home, device: "bob",
            input: "correct horse battery\n"
        )
        #expect(remote.status != 0)
        #expect(remote.errors.contains("https://chat.example.invalid"), "\(remote.errors)")
        try await LiveServer.run { live in
            try await TerminalClientTests.signUp("alice", at: "localhost:\(live.port)", home: home)
            let listed = try await Self.cli(
                ["conversations"], at: "localhost:\(live.port)", home: home, device: "alice"
            )
            #expect(listed.status == 0, "\(listed.errors)")
        }
    }

    /// A save killed before its rename left `login.json.saving-*` (before, `login.json.new-*`), holding tokens,
    /// which nothing removed (logging out included). A save, and a logout, now remove them.
    @Test func leftoverTemporaryLoginFilesAreRemoved() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
            let folder = home.appendingPathComponent("bob")
            // Named as saves name them now, and as earlier versions did.
            let leftovers = ["login.json.saving-1234abcd", "login.json.new-1234"].map(folder.appendingPathComponent)
            for leftover in leftovers { try Data("{\"refreshToken\":\"secret\"}".utf8).write(to: leftover) }
            let login = try await Self.cli(
                ["login", "bob", "--password-stdin"], at: live.baseURL, home: home, device: "bob",
                input: "correct horse battery\n"
            )
            #expect(login.status == 0, "\(login.errors)")
            #expect(leftovers.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
            for leftover in leftovers { try Data("{\"refreshToken\":\"secret\"}".utf8).write(to: leftover) }
            let logout = try await Self.cli(["logout"], at: live.baseURL, home: home, device: "bob")
            #expect(logout.status == 0, "\(logout.errors)")
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(left.allSatisfy { $0.hasSuffix(".lock") }, "\(left)")
        }
    }

    /// `logout` after the session ended elsewhere, with the access token expired, refreshed first: refused, it
    /// deleted the login but kept the outbox (message bodies), and failed ("log in again"). It now ends the session
    /// with the stored refresh token, and forgets the login and its outbox also when the session had ended.
    @Test func logoutForgetsALoginWhoseSessionEndedElsewhere() async throws {
        let home = Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await TerminalClientTests.signUp("bob", at: live.baseURL, home: home)
            let loginFile = home.appendingPathComponent("bob/login.json")
            let stored = try await Self.endSessionElsewhere(loginFile, live)
            let userID = try #require(stored["userID"] as? String)
            let outbox = home.appendingPathComponent("bob/outbox-\(userID).json")
            try Data("[]".utf8).write(to: outbox)
            let logout = try await Self.cli(["logout"], at: live.baseURL, home: home, device: "bob")
            #expect(logout.status == 0, "\(logout.errors)")
            #expect(logout.output.contains("Logged out."))
            #expect(!FileManager.default.fileExists(atPath: loginFile.path))
            #expect(!FileManager.default.fileExists(atPath: outbox.path))
        }
    }
}
