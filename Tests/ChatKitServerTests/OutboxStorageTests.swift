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
import ChatKitClientTesting
import ChatKitCore
import ChatKitTesting
import Foundation
import Testing

@Suite("Outbox storage in a file")
struct OutboxStorageTests {
    @Test(arguments: OutboxStorageConformance.cases)
    func conformance(_ check: OutboxStorageConformance.Case) async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let file = directory.url.appendingPathComponent("outbox.json")
        try await check.run {
            OutboxStorageConformance.Subject(corrupt: { try Data("{\"version\": 1, \"mess".utf8).write(to: file) }) {
                FileOutboxStorage(fileURL: file)
            }
        }
    }

    @Test func anUnreadableFileIsMovedAsideWithAClearErrorAndNothingIsOverwritten() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let file = directory.url.appendingPathComponent("outbox.json")
        try Data("{\"version\": 1, \"messages\": [tru".utf8).write(to: file)
        let storage = FileOutboxStorage(fileURL: file)
        let error = try #require(throws: ChatError.self) { try storage.load() }
        #expect(error.code == .storageFailure)
        let reason = try #require(error.reason)
        #expect(reason.contains(file.path))
        let aside = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
            .filter { $0.hasPrefix("outbox.json.unreadable-") }
        #expect(aside.count == 1)
        #expect(reason.contains(aside.first ?? "?"))
        let kept = try Data(contentsOf: directory.url.appendingPathComponent(aside.first ?? "?"))
        #expect(String(decoding: kept, as: UTF8.self) == "{\"version\": 1, \"messages\": [tru")
        // The place is free again: the next load is empty, and a save goes to a new file.
        #expect(try storage.load() == [])
        try storage.save(OutboxStorageConformance.sampleMessages())
        #expect(try storage.load() == OutboxStorageConformance.sampleMessages())
    }

    @Test func aFileFromANewerVersionIsNotReadAsAnEmptyOutbox() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let file = directory.url.appendingPathComponent("outbox.json")
        try Data("{\"version\": 99, \"messages\": []}".utf8).write(to: file)
        let error = try #require(throws: ChatError.self) { try FileOutboxStorage(fileURL: file).load() }
        #expect(error.reason?.contains("version 99") == true)
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    /// Saves went through Foundation's atomic write, which leaves a temporary file behind when the process is
    /// killed during a save (one per kill, for good), and flushes neither the directory nor, on Apple platforms,
    /// the drive's cache.
    @Test func savesLeaveNoTemporaryFilesAndTheFirstRemovesThoseAKillLeft() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let file = directory.url.appendingPathComponent("outbox.json")
        for _ in 0..<3 { try FileOutboxStorage(fileURL: file).save(OutboxStorageConformance.sampleMessages()) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["outbox.json"])
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // What a kill during a save leaves; another file's leftovers are not this storage's to remove.
        let leftover = directory.url.appendingPathComponent("outbox.json.saving-1234abcd")
        let other = directory.url.appendingPathComponent("other.json.saving-1234abcd")
        for path in [leftover, other] { try Data("{\"ver".utf8).write(to: path) }
        let storage = FileOutboxStorage(fileURL: file)
        #expect(try storage.load() == OutboxStorageConformance.sampleMessages())
        try storage.save([])
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(names == ["other.json.saving-1234abcd", "outbox.json"])
        #expect(try storage.load() == [])
    }

    @Test func aSaveIntoADirectoryThatDoesNotExistThrowsAStorageFailureNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let file = directory.url.appendingPathComponent("missing/outbox.json")
        let error = try #require(throws: ChatError.self) {
            try FileOutboxStorage(fileURL: file).save(OutboxStorageConformance.sampleMessages())
        }
        #expect(error.code == .storageFailure)
        #expect(error.reason?.contains(file.path) == true)
    }
}

/// A directory of its own under the system's temporary directory, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
