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
import ChatKitClient
import ChatKitCore
import Foundation

/// The tokens of the logged-in user, kept in a file only its owner can read.
struct StoredLogin: Codable {
    var server: String
    var accessToken: String
    var accessTokenExpiresAt: Date
    var refreshToken: String
    var userID: String
    var username: String
}

/// Where StoredLogin lives: `login.json` in the CLI's folder, mode 0600.
///
/// Several chatkit-cli processes can share a home (a `chat` in one terminal, a `send` or `password` in another), so
/// whoever reads the login to refresh it, or writes it, holds ``lockLogin()`` from the read to the write: a refresh
/// made with a token another process had just rotated would be refused (and end the login), and a slow process
/// could save an older token over a newer one.
struct SessionFile {
    let folder: String

    private var path: String { folder + "/login.json" }
    private var url: URL { URL(fileURLWithPath: path) }

    func load() throws -> StoredLogin {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("Not logged in: run 'chatkit-cli login USERNAME' (or 'signup') first.")
        }
        return try JSONDecoder().decode(StoredLogin.self, from: data)
    }

    /// Waits for, and takes, the lock that serializes the reads-then-writes of `login.json` between processes
    /// (`login.lock` beside it). Release it when the login is saved.
    func lockLogin() async throws -> FileLock {
        try createFolder()
        return try await FileLock.acquire(folder + "/login.lock")
    }

    /// Takes the lock of `userID`'s live chat (`outbox-<user>.lock`), held for the chat's life: two chats of a user
    /// in one home would share the outbox file, each saving its own lines over the other's.
    ///
    /// - Throws: `ValidationError` when another chat of this user holds it.
    func lockChat(for userID: String, username: String) throws -> FileLock {
        try createFolder()
        guard let lock = try FileLock.acquireIfFree(folder + "/outbox-\(userID).lock") else {
            throw ValidationError(
                "Another chat is running for \(TerminalText.inline(username)) with this home (\(folder)): quit it "
                    + "first (two chats would lose each other's waiting lines), or use another --home."
            )
        }
        return lock
    }

    /// Replaces the login. Call it holding ``lockLogin()``.
    ///
    /// Written whole to a file that is 0600 from its creation, flushed, renamed over the old one, and the folder
    /// flushed (ChatKitClient's `DurableFileReplacement`): the tokens are never readable by others, not even for a
    /// moment (FileManager writes with the default mode and narrows it after), the file is never half written, and
    /// after a power loss the login is the new one (an old refresh token, used after the server's grace, would end
    /// the session).
    func save(_ login: StoredLogin) throws {
        try createFolder()
        // Saves a kill interrupted (the lock is held: no save runs now) hold tokens; nothing else removes them.
        removeLeftovers()
        let data = try JSONEncoder().encode(login)
        do {
            try DurableFileReplacement.replace(url, with: data)
        } catch {
            throw ValidationError("Could not save the login in \(path): \(error.reason ?? "\(error.code)")")
        }
    }

    /// Removes the temporary files of saves that did not finish (the process was killed during one), also those
    /// of chatkit-cli versions that named them `login.json.new-…`.
    private func removeLeftovers() {
        DurableFileReplacement.removeLeftovers(of: url)
        let prefix = "login.json.new-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }

    private func createFolder() throws {
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
    }

    /// The live chat's outbox for `userID`: lines typed while the connection was down, sent by the next `chat`
    /// if this one quits first. Use it holding ``lockChat(for:username:)``.
    func outboxStorage(for userID: String) throws -> FileOutboxStorage {
        try createFolder()
        return FileOutboxStorage(fileURL: URL(fileURLWithPath: folder + "/outbox-\(userID).json"))
    }

    /// Forgets the login and any outbox kept for it (logging out). Call it holding ``lockLogin()``.
    func remove() {
        if let login = try? load() {
            try? FileManager.default.removeItem(atPath: folder + "/outbox-\(login.userID).json")
        }
        removeLogin()
    }

    /// Forgets the login only (it ended on the server): the outbox is kept for the user's next login. Call it
    /// holding ``lockLogin()``.
    func removeLogin() {
        try? FileManager.default.removeItem(atPath: path)
        removeLeftovers()
    }
}
