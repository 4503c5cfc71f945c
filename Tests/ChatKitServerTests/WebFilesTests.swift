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


import ChatKitServer
import Foundation
import Testing

/// The static files `WebFiles` serves, and those it never serves.
@Suite("Web files")
struct WebFilesTests {
    @Test("hidden files and folders are not served, whatever the path's spelling; the others are")
    func hiddenFilesAreNotServed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-web-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent(".git"), withIntermediateDirectories: true
        )
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("js"), withIntermediateDirectories: true
        )
        try Data("<p>hi</p>".utf8).write(to: folder.appendingPathComponent("index.html"))
        try Data("export {}".utf8).write(to: folder.appendingPathComponent("js/app.js"))
        try Data("SECRET=1".utf8).write(to: folder.appendingPathComponent(".env"))
        try Data("[core]".utf8).write(to: folder.appendingPathComponent(".git/config"))
        try Data("hidden".utf8).write(to: folder.appendingPathComponent("js/.draft.js"))
        try await LiveServer.run(webFiles: WebFiles(directory: folder.path)) { live in
            #expect(try await live.http("GET", "/").status == 200)
            #expect(try await live.http("GET", "/js/app.js").status == 200)
            for path in ["/.env", "/.git/config", "/js/.draft.js", "/%2eenv", "/%2Egit/config", "/js/%2edraft.js"] {
                let answer = try await live.http("GET", path)
                #expect(answer.status == 404, "\(path) answered \(answer.status)")
                #expect(!String(decoding: answer.data, as: UTF8.self).contains("SECRET"), "\(path)")
            }
        }
    }
}
