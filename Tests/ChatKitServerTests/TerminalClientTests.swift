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
import ChildProcesses
import Foundation
import Testing

@Suite("chatkit-cli, the terminal client, against a live server")
struct TerminalClientTests {
    /// The chatkit-cli built next to the test bundle by `swift build --build-tests`.
    static var executable: URL? {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = directory.appendingPathComponent("chatkit-cli")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    static let buildFirst: Comment = "build the chatkit-cli product first (swift build --build-tests)"

    @Test func signUpSendListReadAndChatLive() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            func cli(_ user: String, _ arguments: String..., input: String? = nil) async throws -> CLIRun {
                try await CLIRun.run(
                    executable,
                    arguments + ["--server", live.baseURL, "--home", home.appendingPathComponent(user).path],
                    input: input
                )
            }
            let password = "correct horse battery\n"
            let signedUp = try await cli("alice", "signup", "alice", "--password-stdin", input: password)
            #expect(signedUp.output.contains("alice"))
            // The tokens' file is its owner's alone, and nothing is left beside it (but the empty lock file).
            let aliceHome = home.appendingPathComponent("alice")
            let loginFile = aliceHome.appendingPathComponent("login.json").path
            let attributes = try FileManager.default.attributesOfItem(atPath: loginFile)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let files = try FileManager.default.contentsOfDirectory(atPath: aliceHome.path).sorted()
            #expect(files == ["login.json", "login.lock"])
            #expect(try await cli("bob", "signup", "bob", "--password-stdin", input: password).status == 0)
            let wrong = try await cli("carol", "login", "bob", "--password-stdin", input: "not the password\n")
            #expect(wrong.status != 0)
            #expect(wrong.errors.contains("username or password is incorrect"), "\(wrong.errors)")

            let sent = try await cli("alice", "send", "bob", "hello", "from", "the", "terminal")
            #expect(sent.output.contains("Sent (#1)"))
            let list = try await cli("bob", "conversations")
            #expect(list.output.contains("alice  (1 unread)  hello from the terminal"))
            let history = try await cli("bob", "history", "alice")
            #expect(history.output.contains("alice: hello from the terminal"))
            #expect(!(try await cli("bob", "conversations")).output.contains("unread"))
            // Text starting with '-' (read as options among the words: "-hello" printed the help and sent nothing).
            for text in ["-hello", "-1 from me", "-- see above"] {
                let dashed = try await cli("alice", "send", "bob", "--message", text)
                #expect(dashed.status == 0 && dashed.output.contains("Sent"), "\(text): \(dashed.errors)")
            }
            let dashedHistory = try await cli("bob", "history", "alice").output
            #expect(["-hello", "-1 from me", "-- see above"].allSatisfy { dashedHistory.contains("alice: \($0)") })

            // Another user's text cannot drive Bob's terminal (escape sequences: clear the screen, write the
            // clipboard) nor print a line that passes for someone else's message.
            let hostile = "look\u{1B}[2J\u{1B}]52;c;aGk=\u{07}\n12:00 carol: I am not alice\u{202E}"
            #expect(try await cli("alice", "send", "bob", hostile).status == 0)
            let shown = try await cli("bob", "history", "alice").output
            #expect(
                !shown.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(shown.debugDescription)"
            )
            #expect(
                shown.contains("alice: look\\u{1b}[2J\\u{1b}]52;c;aGk=\\u{7}\n    12:00 carol: I am not alice\\u{202e}")
            )
            #expect(!shown.contains("\n12:00 carol"))

            // Live: Bob chats in the terminal while Alice uses the SDK.
            let chat = try CLISession(
                executable,
                ["chat", "alice", "--server", live.baseURL, "--home", home.appendingPathComponent("bob").path]
            )
            defer { chat.terminate() }
            try await chat.waitFor("== alice ==")
            try await chat.waitFor("alice: hello from the terminal")
            let aliceTokens = try await live.auth.logIn(username: "alice", password: "correct horse battery")
            let alice = try await live.connect(aliceTokens.accessToken)
            let conversation = try #require(try await alice.client.conversations().first?.conversation)
            try await alice.client.setTyping(true, in: conversation.id)
            try await chat.waitFor("alice is typing")
            _ = try await alice.client.send("are you there?", to: conversation.id)
            try await chat.waitFor("alice: are you there?")
            chat.type("yes, in the terminal")
            try await alice.waitFor("Bob's reply") { events in
                TestClient.bodies(in: conversation.id, events).contains("yes, in the terminal")
            }
            try await chat.quit()
            await alice.disconnect()
        }
    }
}

extension TerminalClientTests {
    /// Signs `user` up with the CLI (home `home/user`) on the server at `baseURL`.
    static func signUp(_ user: String, at baseURL: String, home: URL) async throws {
        let executable = try #require(Self.executable)
        let run = try await CLIRun.run(
            executable,
            ["signup", user, "--password-stdin", "--server", baseURL, "--home", home.appendingPathComponent(user).path],
            input: "correct horse battery\n"
        )
        #expect(run.status == 0, "\(run.errors)")
    }

    /// `--server 127.0.0.1:8080` (no scheme) reached the realtime endpoint but failed every HTTP call ("unsupported
    /// URL"): the server URL is now taken as `http://` when it names no scheme.
    @Test func aServerGivenWithoutASchemeIsReachedOverHTTP() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await Self.signUp("alice", at: "127.0.0.1:\(live.port)", home: home)
        }
    }

    /// The terminal had no way to change a password (nor the server a route for it).
    @Test func aPasswordChangeKeepsThisLoginAndEndsTheOthers() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            func cli(_ device: String, _ arguments: String..., input: String? = nil) async throws -> CLIRun {
                try await CLIRun.run(
                    executable,
                    arguments + ["--server", live.baseURL, "--home", home.appendingPathComponent(device).path],
                    input: input
                )
            }
            let password = "correct horse battery\n"
            #expect(try await cli("laptop", "signup", "alice", "--password-stdin", input: password).status == 0)
            #expect(try await cli("phone", "login", "alice", "--password-stdin", input: password).status == 0)

            let wrong = try await cli(
                "laptop", "password", "--password-stdin", input: "not it at all\nnew good password\n"
            )
            #expect(wrong.status != 0)
            #expect(wrong.errors.contains("current password is incorrect"), "\(wrong.errors)")
            let changed = try await cli(
                "laptop", "password", "--password-stdin", input: "correct horse battery\nnew good password\n"
            )
            #expect(changed.status == 0, "\(changed.errors)")
            #expect(changed.output.contains("Password changed"))
            // This login goes on with the new session; the phone's ended; the new password logs in.
            #expect(try await cli("laptop", "conversations").status == 0)
            let phone = try await cli("phone", "conversations")
            #expect(phone.status != 0)
            #expect(try await cli("phone", "login", "alice", "--password-stdin", input: password).status != 0)
            let new = try await cli("phone", "login", "alice", "--password-stdin", input: "new good password\n")
            #expect(new.status == 0)
        }
    }

    /// A chat started while the server was out of reach (down, a wrong URL) printed nothing and read nothing, its
    /// client retrying for ever: it now fails as the other commands do, saying why.
    @Test func aChatThatCannotReachTheServerSaysSoAndEnds() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        // A login made moments ago (its access token needs no refresh), for a server that then stopped.
        let server = Locked("")
        try await LiveServer.run { live in
            server.withLock { $0 = live.baseURL }
            try await Self.signUp("bob", at: live.baseURL, home: home)
        }
        let baseURL = server.value
        let run = try await CLIRun.run(
            executable, ["chat", "alice", "--server", baseURL, "--home", home.appendingPathComponent("bob").path],
            input: nil
        )
        #expect(run.status != 0)
        #expect(run.errors.contains("connect"), "\(run.errors)")
    }

    /// Lines typed while the connection is down go to the outbox at once, and the chat goes on reading: with the
    /// server out of reach, a first line waited to be stored and held every line after it, /quit included.
    @Test func linesTypedWhileOfflineAreQueuedAndTheChatGoesOn() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            let chat = Locked<CLISession?>(nil)
            defer { chat.value?.terminate() }
            try await TCPRelay.run(to: live.port) { relay in
                let baseURL = "http://127.0.0.1:\(relay.port)"
                try await Self.signUp("alice", at: baseURL, home: home)
                try await Self.signUp("bob", at: baseURL, home: home)
                let session = try CLISession(
                    executable,
                    ["chat", "alice", "--server", baseURL, "--home", home.appendingPathComponent("bob").path]
                )
                chat.withLock { $0 = session }
                try await session.waitFor("== alice ==")
                // Lines are read once the conversation is open (its history shown): the chat is up.
                session.type("/help")
                try await session.waitFor("Commands:")
            }
            // The relay is gone: the chat cannot reach the server, nor reconnect.
            let session = try #require(chat.value)
            try await session.waitFor("Connection lost")
            session.type("first while offline")
            session.type("second while offline")
            session.type("/quit")
            try await session.waitFor("2 line(s) wait in the outbox")
            try await session.waitFor("Bye.")
            #expect(try await session.exitStatus() == 0)
            let folder = home.appendingPathComponent("bob")
            let outbox = try #require(
                try FileManager.default.contentsOfDirectory(atPath: folder.path).first {
                    $0.hasPrefix("outbox-") && $0.hasSuffix(".json")
                }
            )
            let saved = try String(contentsOf: folder.appendingPathComponent(outbox), encoding: .utf8)
            #expect(saved.contains("first while offline") && saved.contains("second while offline"), "\(saved)")
        }
    }

    /// Lines the server refused for good stayed in the outbox (and its file) with no way to see, retry or drop them
    /// from the chat: /failed lists them, /retry and /discard take a number or `all`.
    @Test func refusedLinesAreListedRetriedAndDiscarded() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await Self.signUp("bob", at: live.baseURL, home: home)
            let aliceTokens = try await live.signUp("alice")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try #require(try await alice.client.findUser(username: "bob"))
            let team = try await alice.client.createGroup("Team", members: [bob.id])
            let chat = try CLISession(
                executable,
                ["chat", team.id.rawValue, "--server", live.baseURL, "--home", home.appendingPathComponent("bob").path]
            )
            defer { chat.terminate() }
            try await chat.waitFor("== #Team ==")
            // Lines are read once the conversation is open (its history shown): a removal before that refuses the
            // history, and the chat ends with it.
            chat.type("/help")
            try await chat.waitFor("Commands:")
            // Bob is removed: what he types now is refused (the group is not found for him).
            try await alice.client.removeMember(bob.id, from: team.id)
            chat.type("first refused line")
            try await chat.waitFor("Not sent: first refused line")
            chat.type("second refused line")
            try await chat.waitFor("Not sent: second refused line")
            chat.type("/failed")
            try await chat.waitFor("2. second refused line")
            chat.type("/discard 2")
            try await chat.waitFor("Discarded: 1 line(s).")
            // Numbers stay those of the last list: 2 is the line discarded, not the one after it.
            chat.type("/discard 2")
            try await chat.waitFor("Discarded: 0 line(s). (1 no longer failed)")
            chat.type("/retry 7")
            try await chat.waitFor("No failed line 7")
            // Back in the group, the first line is sent again and arrives.
            _ = try await alice.client.addMembers([bob.id], to: team.id)
            chat.type("/retry all")
            try await chat.waitFor("Queued again: 1 line(s).")
            try await alice.waitFor("Bob's retried line") { events in
                TestClient.bodies(in: team.id, events) == ["first refused line"]
            }
            chat.type("/failed")
            try await chat.waitFor("No failed lines.")
            try await chat.quit()
            await alice.disconnect()
        }
    }

    /// A burst of messages took a request each: a read marker per message of the open conversation, and the
    /// conversation and its members per message of another one. Under the server's rate limit most were refused
    /// (and each refusal printed). Now the read markers of a burst go in a request or two, titles are looked up
    /// once, and the last message shown ends up read.
    @Test func aBurstOfMessagesTakesAFewRequests() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 5  // bursts of 10
        try await LiveServer.run(configuration: configuration) { live in
            for user in ["alice", "bob", "carol"] { try await Self.signUp(user, at: live.baseURL, home: home) }
            for sender in ["alice", "carol"] {
                let senderHome = home.appendingPathComponent(sender).path
                let sent = try await CLIRun.run(
                    executable, ["send", "bob", "hello", "--server", live.baseURL, "--home", senderHome], input: nil
                )
                #expect(sent.status == 0, "\(sent.errors)")
            }
            func user(_ name: String) async throws -> UserID {
                try #require(try await live.store.user(username: name)).id
            }
            let (alice, bob, carol) = (try await user("alice"), try await user("bob"), try await user("carol"))
            let chats = try await live.store.conversations(of: bob).map(\.conversation)
            let withAlice = try #require(chats.first { $0.createdBy == alice }).id
            let withCarol = try #require(chats.first { $0.createdBy == carol }).id
            let chat = try CLISession(
                executable,
                ["chat", "alice", "--server", live.baseURL, "--home", home.appendingPathComponent("bob").path]
            )
            defer { chat.terminate() }
            try await chat.waitFor("== alice ==")
            chat.type("/help")
            try await chat.waitFor("Commands:")
            // Stored directly, past the senders' own limits, then routed at once: the server pushes them to Bob as
            // fast as it can.
            var last: Int64 = 0
            for index in 1...40 {
                last = try await live.store.append(
                    NewMessage(conversationID: withAlice, senderID: alice, body: "from alice \(index)")
                ).seq
                _ = try await live.store.append(
                    NewMessage(conversationID: withCarol, senderID: carol, body: "from carol \(index)")
                )
            }
            live.server.storeDidChange()
            try await chat.waitFor("alice: from alice 40")
            try await chat.waitFor("[carol] ")
            try await chat.waitFor("carol: from carol 40")
            try await waitUntilAsync("Bob's read marker to reach the last message") {
                try await live.store.markers(of: withAlice, as: bob).first { $0.userID == bob }?.readSeq == last
            }
            try await chat.quit()
            let refusals = chat.printedLines.filter { $0.hasPrefix("!") }
            #expect(refusals.isEmpty, "\(refusals)")
        }
    }

    /// A login ended on the server (a logout elsewhere, a password change): the chat said "reconnecting" forever
    /// and deleted the lines waiting in its outbox. It now stops with an error that says to log in again.
    @Test func theChatStopsWhenItsLoginEnds() async throws {
        let executable = try #require(Self.executable, Self.buildFirst)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try await LiveServer.run { live in
            try await Self.signUp("alice", at: live.baseURL, home: home)
            try await Self.signUp("bob", at: live.baseURL, home: home)
            let chat = try CLISession(
                executable,
                ["chat", "alice", "--server", live.baseURL, "--home", home.appendingPathComponent("bob").path]
            )
            defer { chat.terminate() }
            try await chat.waitFor("== alice ==")
            // The history shown (lines are read after it): a logout before that ended the chat with the history's
            // error instead.
            chat.type("/help")
            try await chat.waitFor("Commands:")
            let stored = try Data(contentsOf: home.appendingPathComponent("bob/login.json"))
            let refreshToken = try #require(
                (try JSONSerialization.jsonObject(with: stored) as? [String: Any])?["refreshToken"] as? String
            )
            let logout = try await live.http("POST", "/v1/auth/logout", json: ["refreshToken": refreshToken])
            #expect(logout.status == 204)
            try await chat.waitFor("log in again")
            #expect(try await chat.exitStatus() != 0)
        }
    }
}

/// A finished run of the CLI: its exit status and what it printed.
struct CLIRun: Sendable {
    var status: Int32
    var output: String
    var errors: String

    /// Runs the CLI to its end. One still running after ``failsafeTimeout`` is killed and the run fails: the wait
    /// blocks a thread of its own, which a timeout alone cannot end (the test would hang instead of failing).
    static func run(_ executable: URL, _ arguments: [String], input: String?) async throws -> CLIRun {
        let process = try SpawnedProcess(executable.path, arguments, writesInput: true)
        defer { process.send(SIGKILL) }
        return try await withTimeout("chatkit-cli \(arguments.first ?? "")") {
            try await withTaskCancellationHandler {
                try await Self.waitForEnd(of: process, input: input)
            } onCancel: {
                process.send(SIGKILL)
            }
        }
    }

    /// Writes `input` to the running CLI, then reads what it prints until it exits.
    private static func waitForEnd(of process: SpawnedProcess, input: String?) async throws -> CLIRun {
        try await onDedicatedThread {
            if let input { process.write(input) }
            process.closeInput()
            // The errors on a thread of their own: a child filling one pipe while this one waits on the other
            // would wait for ever.
            let errors = Locked<[UInt8]>([])
            let errorsRead = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                if let descriptor = process.errors {
                    let read = SpawnedProcess.readAll(descriptor)
                    errors.withLock { $0 = read }
                }
                errorsRead.signal()
            }
            let output = process.output.map(SpawnedProcess.readAll) ?? []
            let status = process.waitForExit()
            errorsRead.wait()
            return CLIRun(
                status: status,
                output: String(decoding: output, as: UTF8.self),
                errors: String(decoding: errors.value, as: UTF8.self)
            )
        }
    }
}

/// A running interactive CLI: type lines into it, await lines it prints.
final class CLISession: Sendable {
    private let process: SpawnedProcess
    private let printed = StringCollector()
    private let arrivals: AsyncStream<Void>

    init(_ executable: URL, _ arguments: [String]) throws {
        process = try SpawnedProcess(executable.path, arguments, writesInput: true, errors: nil)
        let (arrivals, arrived) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.arrivals = arrivals
        let (printed, output) = (printed, process.output)
        // Blocking reads on a thread of their own, as the SQLite tests' ChildProcess reads.
        Thread.detachNewThread {
            if let output {
                SpawnedProcess.readChunks(output) { chunk in
                    printed.append(String(decoding: chunk, as: UTF8.self))
                    arrived.yield()
                }
            }
            arrived.finish()
        }
    }

    func type(_ line: String) {
        process.write(line + "\n")
    }

    /// Types `/quit` and waits until the CLI says goodbye.
    func quit() async throws {
        type("/quit")
        try await waitFor("Bye.")
    }

    /// The lines printed so far.
    var printedLines: [String] {
        printed.all.joined().split(separator: "\n").map(String.init)
    }

    /// Waits until the CLI has printed `text`.
    func waitFor(_ text: String) async throws {
        do {
            try await waitFor(text, printed: printed, arrivals: arrivals)
        } catch is TimeoutError {
            throw TimeoutError(what: "chatkit-cli to print '\(text)'; it printed:\n\(printed.all.joined())", events: 0)
        }
    }

    private func waitFor(_ text: String, printed: StringCollector, arrivals: AsyncStream<Void>) async throws {
        try await withTimeout("chatkit-cli to print '\(text)'") {
            var iterator = arrivals.makeAsyncIterator()
            while !printed.all.joined().contains(text) {
                guard await iterator.next() != nil else {
                    throw TimeoutError(what: "'\(text)' (the CLI ended): \(printed.all.joined())", events: 0)
                }
            }
        }
    }

    func terminate() {
        process.send(SIGTERM)
        process.closeInput()
    }

    /// Waits until the CLI has exited; returns its exit status.
    func exitStatus() async throws -> Int32 {
        try await waitUntil("chatkit-cli to exit") { process.hasExited }
        return process.exitCode ?? -1
    }
}
