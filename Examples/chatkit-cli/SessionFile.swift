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
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
struct SessionFile {
    let folder: String

    private var path: String { folder + "/login.json" }

    func load() throws -> StoredLogin {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("Not logged in: run 'chatkit-cli login USERNAME' (or 'signup') first.")
        }
        return try JSONDecoder().decode(StoredLogin.self, from: data)
    }

    func save(_ login: StoredLogin) throws {
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        let data = try JSONEncoder().encode(login)
        // Written whole to a file that is 0600 from its creation, then renamed over the old one: the tokens are
        // never readable by others, not even for a moment (FileManager writes with the default mode and narrows
        // it after), and the file is never half written.
        let temporary = path + ".new-\(UInt64.random(in: .min ... .max))"
        let file = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw ValidationError("Could not write \(path): \(String(cString: strerror(errno))).") }
        let written = data.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        let synced = written == data.count && fsync(file) == 0
        let failure = errno
        close(file)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(synced ? errno : failure))
            unlink(temporary)
            throw ValidationError("Could not write \(path): \(reason).")
        }
    }

    /// The live chat's outbox for `userID`: lines typed while the connection was down, sent by the next `chat`
    /// if this one quits first.
    func outboxStorage(for userID: String) throws -> FileOutboxStorage {
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        return FileOutboxStorage(fileURL: URL(fileURLWithPath: folder + "/outbox-\(userID).json"))
    }

    /// Forgets the login and any outbox kept for it (logging out).
    func remove() {
        if let login = try? load() {
            try? FileManager.default.removeItem(atPath: folder + "/outbox-\(login.userID).json")
        }
        removeLogin()
    }

    /// Forgets the login only (it ended on the server): the outbox is kept for the user's next login.
    func removeLogin() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
