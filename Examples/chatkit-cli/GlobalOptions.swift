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
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help: """
            The server's base URL. Without a scheme, https:// (and wss:// for chatting) is assumed, except for a \
            loopback host (localhost, 127.x.x.x, ::1), which is reached over http:// (ws://).
            """
    )
    var server = "http://127.0.0.1:8080"

    @Option(help: "Where the login is kept (default ~/.chatkit-cli).")
    var home: String?

    /// The server URL without a trailing slash. One that names no scheme is taken as `https://`, so that passwords
    /// and tokens never cross a network in clear text, but for a loopback host (`localhost:8080`), taken as
    /// `http://`: a server on this machine, reached without leaving it.
    var baseURL: String {
        let url = server.hasSuffix("/") ? String(server.dropLast()) : server
        if url.contains("://") { return url }
        return (Self.isLoopback(url) ? "http://" : "https://") + url
    }

    /// Whether a URL without a scheme (`host`, `host:port`, `[v6]:port`, with or without a path) names this
    /// machine: `localhost`, an IPv4 address 127.x.x.x or `::1`.
    static func isLoopback(_ url: String) -> Bool {
        var host = Substring(url.prefix { $0 != "/" })
        if host.hasPrefix("[") {
            guard let end = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<end]
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        let name = host.lowercased()
        if name == "localhost" || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                && (Int(part) ?? 256) <= 255
        }
    }

    /// The WebSocket URL of the realtime endpoint.
    var webSocketURL: String {
        if baseURL.hasPrefix("https://") { return "wss://" + baseURL.dropFirst("https://".count) + "/v1/ws" }
        return "ws://" + baseURL.dropFirst(baseURL.hasPrefix("http://") ? "http://".count : 0) + "/v1/ws"
    }

    var sessionFile: SessionFile {
        let folder = home ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".chatkit-cli").path
        return SessionFile(folder: folder)
    }
}
