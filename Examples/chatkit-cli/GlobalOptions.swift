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
    @Option(help: "The server's base URL.")
    var server = "http://127.0.0.1:8080"

    @Option(help: "Where the login is kept (default ~/.chatkit-cli).")
    var home: String?

    /// The server URL without a trailing slash, `http://` put in front when it names no scheme
    /// (`localhost:8080`).
    var baseURL: String {
        let url = server.hasSuffix("/") ? String(server.dropLast()) : server
        return url.contains("://") ? url : "http://" + url
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
