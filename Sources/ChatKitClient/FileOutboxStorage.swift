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
public import Foundation
import Synchronization

/// An ``OutboxStorage`` in a JSON file: what the outbox holds, replaced atomically at each save (written to a
/// temporary file in the same directory, flushed to the disk, then renamed over the old one, and the directory
/// flushed), so a crash, a kill or a power loss leaves the previous outbox or the new one, never half of one. The
/// file is readable by its owner only. The first save removes the temporary files of saves a kill interrupted.
///
/// ```swift
/// try FileManager.default.createDirectory(at: applicationSupport, withIntermediateDirectories: true)
/// let file = applicationSupport.appendingPathComponent("outbox-\(user.id.rawValue).json")
/// var configuration = ChatClient.Configuration()
/// configuration.outboxStorage = FileOutboxStorage(fileURL: file)
/// ```
///
/// The directory must exist. A file that is not an outbox this version reads (damaged, or written by a newer
/// version) is renamed to `<name>.unreadable-<time>-<random>` by ``load()``, which then throws a
/// ``ChatKitCore/ChatError`` naming both paths: the client starts with an empty outbox, and the next load finds
/// none. A file that cannot be read at all (no permission) stays where it is; the client saves nothing until it
/// can be read.
public struct FileOutboxStorage: OutboxStorage {
    /// The file the outbox is kept in.
    public let fileURL: URL

    /// The version of the file's layout this type writes and reads.
    static let formatVersion = 1

    /// Whether this storage's first save is still to come: it removes what earlier processes' interrupted saves
    /// left (a client saves one change at a time, so none of this client's own is under way then).
    private let leftovers = Leftovers()

    private final class Leftovers: Sendable {
        let toRemove = Atomic<Bool>(true)
    }

    /// The file's contents.
    private struct Contents: Codable {
        var version: Int
        var messages: [OutgoingMessage]
    }

    /// Creates a storage that keeps the outbox in `fileURL`. Nothing is read or written until the client loads.
    ///
    /// - Parameter fileURL: The file; it need not exist yet, its directory must.
    public init(fileURL: URL) {
        self.fileURL = fileURL
    }

    public func load() throws -> [OutgoingMessage] {
        let data: Data
        do {
            data = try Data(contentsOf: fileURL)
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return []
        } catch {
            throw ChatError(
                .storageFailure, "The outbox file at \(fileURL.path) could not be read: \(error.localizedDescription)",
                underlying: error
            )
        }
        do {
            let contents = try JSONDecoder().decode(Contents.self, from: data)
            guard contents.version <= Self.formatVersion else {
                throw ChatError(
                    .invalidArgument,
                    "version \(contents.version) of the outbox file is newer than this client reads "
                        + "(\(Self.formatVersion))"
                )
            }
            return contents.messages
        } catch {
            let suffix = "unreadable-\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8))"
            let aside = fileURL.deletingLastPathComponent().appendingPathComponent(
                "\(fileURL.lastPathComponent).\(suffix)"
            )
            let moved = (try? FileManager.default.moveItem(at: fileURL, to: aside)) != nil
            throw ChatError(
                .storageFailure,
                "The outbox file at \(fileURL.path) is not an outbox this client can read (\(error)); "
                    + (moved
                        ? "it was moved to \(aside.path) and the client starts with an empty outbox."
                        : "it could not be moved aside, and is left where it is."),
                underlying: error
            )
        }
    }

    public func save(_ messages: [OutgoingMessage]) throws {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            data = try encoder.encode(Contents(version: Self.formatVersion, messages: messages))
        } catch {
            throw ChatError(
                .storageFailure, "The outbox could not be encoded to be saved to \(fileURL.path): \(error)",
                underlying: error
            )
        }
        if leftovers.toRemove.exchange(false, ordering: .relaxed) {
            DurableFileReplacement.removeLeftovers(of: fileURL)
        }
        do {
            try DurableFileReplacement.replace(fileURL, with: data)
        } catch {
            throw ChatError(
                .storageFailure, "The outbox could not be saved to \(fileURL.path): \(error.reason ?? "\(error)")",
                underlying: error
            )
        }
    }
}
