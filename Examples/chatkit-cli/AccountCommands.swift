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
    return String(cString: typed)
}

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
        let tokens = try await AccountAPI(baseURL: options.baseURL)
            .signUp(username: username, password: password, displayName: displayName)
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
        let login = try await LoggedInClient(options: options).login()
        try await AccountAPI(baseURL: options.baseURL).logOut(accessToken: login.accessToken)
        options.sessionFile.remove()
        print("Logged out.")
    }
}
