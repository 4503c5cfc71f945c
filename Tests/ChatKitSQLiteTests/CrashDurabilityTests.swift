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

import ChatKitCore
import ChatKitSQLite
import Foundation
import Testing

@Suite("Crash durability")
struct CrashDurabilityTests {
    /// The crash-writer built next to the test bundle by `swift build --build-tests` or `swift test`.
    static var writerExecutable: URL? {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = directory.appendingPathComponent("chatkit-sqlite-crash-writer")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    @Test("every acknowledged append survives SIGKILL, in order and without gaps")
    func acknowledgedAppendsSurviveSIGKILL() async throws {
        let executable = try #require(Self.writerExecutable, "build the chatkit-sqlite-crash-writer product first")
        // Kill moments, counted in acknowledged appends; fixed so that the test is reproducible. 0 kills the
        // child as soon as it is ready, before its first append returns.
        let killAfter = [0, 1, 7, 50, 133, 400, 901, 2500]
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("crash.sqlite").path
            var everAcknowledged: Set<Int64> = []
            for (round, count) in killAfter.enumerated() {
                let child = try ChildProcess(executable: executable, arguments: [path, "8"])
                defer { child.kill() }  // when the round fails before its kill moment
                let acknowledged = try await withTimeout(.seconds(120)) {
                    var acknowledged: [Int64] = []
                    var killed = false
                    for await line in child.lines {
                        if let seq = Int64(line) { acknowledged.append(seq) }
                        if !killed && (line.hasPrefix("ready") ? count == 0 : acknowledged.count >= count) {
                            child.kill()
                            killed = true
                        }
                    }
                    return acknowledged
                }
                #expect(acknowledged.count >= count, "round \(round)")
                everAcknowledged.formUnion(acknowledged)

                let store = try SQLiteChatStore(path: path)
                defer { try? store.close() }
                let writer = try #require(try await store.user(username: "crash-writer"))
                let conversation = try #require(try await store.conversations(of: writer.id).first).conversation
                let history = try await store.messages(
                    in: conversation.id,
                    .after(0, limit: Int(conversation.lastSeq) + 1),
                    as: writer.id
                )
                #expect(history.map(\.seq) == (0..<Int64(history.count)).map { $0 + 1 }, "round \(round): in order")
                #expect(Int64(history.count) == conversation.lastSeq, "round \(round): gapless up to the last seq")
                let stored = Set(history.map(\.seq))
                let lost = everAcknowledged.subtracting(stored)
                #expect(lost.isEmpty, "round \(round): acknowledged but lost: \(lost.sorted().prefix(10))")
            }
        }
    }
}
