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
import Foundation

/// Reads a password from standard input (`--password-stdin`: the next line) or asks for it without echo.
private func readPassword(fromStandardInput: Bool, prompt: String = "Password: ") throws -> String {
    if fromStandardInput {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("No password on standard input.")
        }
        return line
    }
    guard let typed = getpass(prompt) else { throw ValidationError("Could not read a password.") }
    let password = String(cString: typed)
    guard !password.isEmpty else { throw ValidationError("No password typed.") }
    return password
}

/// Saves the tokens as the login. Call it holding the login lock (``SessionFile/lockLogin()``).
private func store(_ tokens: AccountAPI.Tokens, options: GlobalOptions) throws {
    try options.sessionFile.save(
        StoredLogin(
            server: options.baseURL, accessToken: tokens.accessToken, accessTokenExpiresAt: tokens.accessTokenExpiresAt,
            refreshToken: tokens.refreshToken, userID: tokens.user.id.rawValue, username: tokens.user.username
        )
    )
}

struct SignUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signup", abstract: "Create an account and log in.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The username (letters, digits, '.', '_' and '-').") var username: String
    @Option(help: "The name others see.") var displayName: String?
    @Flag(help: "Read the password from standard input instead of asking.") var passwordStdin = false

    func run() async throws {
        let password = try readPassword(fromStandardInput: passwordStdin)
        // A typo would make an account whose password nobody knows.
        if !passwordStdin {
            guard try readPassword(fromStandardInput: false, prompt: "Password again: ") == password else {
                throw ValidationError("The two passwords differ; no account was made.")
            }
        }
        let tokens = try await AccountAPI(baseURL: options.baseURL)
            .signUp(username: username, password: password, displayName: displayName)
        let lock = try await options.sessionFile.lockLogin()
        defer { lock.release() }
        try store(tokens, options: options)
        print("Signed up and logged in as \(tokens.user.username).")
    }
}

struct LogIn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Your username.") var username: String
    @Flag(help: "Read the password from standard input instead of asking.") var passwordStdin = false

    func run() async throws {
        let password = try readPassword(fromStandardInput: passwordStdin)
        let tokens = try await AccountAPI(baseURL: options.baseURL).logIn(username: username, password: password)
        let lock = try await options.sessionFile.lockLogin()
        defer { lock.release() }
        try store(tokens, options: options)
        print("Logged in as \(tokens.user.username).")
    }
}

struct ChangePassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password", abstract: "Change your password; your other devices are logged out."
    )

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Read the current and the new password from standard input, a line each, instead of asking.")
    var passwordStdin = false

    func run() async throws {
        let login = try await LoggedInClient(options: options).login()
        let current = try readPassword(fromStandardInput: passwordStdin, prompt: "Current password: ")
        let new = try readPassword(fromStandardInput: passwordStdin, prompt: "New password: ")
        if !passwordStdin {
            guard try readPassword(fromStandardInput: false, prompt: "New password again: ") == new else {
                throw ValidationError("The two new passwords differ; nothing was changed.")
            }
        }
        // The change ends this login's session too: a `chat` in this home that refreshed with the old token before
        // the new one is saved would be refused and delete the login. It waits for the lock instead, then goes on
        // with the new login.
        let lock = try await options.sessionFile.lockLogin()
        defer { lock.release() }
        let tokens = try await AccountAPI(baseURL: options.baseURL)
            .changePassword(current: current, new: new, accessToken: login.accessToken)
        try store(tokens, options: options)
        print("Password changed; your other devices were logged out.")
    }
}

struct LogOut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out and forget the login.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let file = options.sessionFile
        let lock = try await file.lockLogin()
        defer { lock.release() }
        let login = try file.load()
        // Ended with the refresh token, as stored: no refresh first (it could fail where the logout need not), and
        // sent to the server the login is for, whatever --server says.
        do {
            try await AccountAPI(baseURL: login.server).logOut(refreshToken: login.refreshToken)
        } catch let error as ChatError where error.code == .unauthenticated {
            // Ended already (elsewhere, or expired): there is nothing left to end on the server.
        } catch let error as ChatError where AccountAPI.isUnanswered(error) {
            // Forgotten here all the same: one logs out to leave nothing behind on this machine, offline too (the
            // login stayed, and the command failed). The server goes on taking it until it expires. A server that
            // answered with a failure (busy, or a proxy's) fails the command instead: trying again ends it there.
            file.remove()
            let reason = TerminalText.inline(error.reason ?? "unavailable")
            print(
                "Logged out here, but the server could not be told (\(reason)): the login stays valid there until its"
                    + " refresh token expires (30 days by default). Changing your password ends it."
            )
            return
        }
        file.remove()
        print("Logged out.")
    }
}
