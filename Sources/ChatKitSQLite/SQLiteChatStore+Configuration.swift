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

public import Foundation

extension SQLiteChatStore {
    /// Settings of a ``SQLiteChatStore``. Every setting has a documented default.
    ///
    /// ```swift
    /// var configuration = SQLiteChatStore.Configuration(path: "/var/lib/chatkit/chat.sqlite")
    /// configuration.synchronous = .full   // survive power loss too, at some cost in write latency
    /// let store = try SQLiteChatStore(configuration: configuration)
    /// ```
    public struct Configuration: Sendable {
        /// Where the database lives.
        public var location: Location
        /// How hard SQLite works to make each commit durable. Defaults to ``Synchronous/normal``.
        public var synchronous: Synchronous
        /// How long a connection waits for a lock held by another process before failing with
        /// ``ChatKitCore/ChatError/Code/storageFailure``. Defaults to 5 seconds.
        public var busyTimeout: Duration
        /// How many connections read concurrently (file databases only). Defaults to 4. Searches, backups and
        /// member lists hold at most this many minus two (at least one) at once, so that short reads find one free.
        public var readerCount: Int
        /// The most appends committed together in one transaction by group commit. Defaults to 1024.
        public var maximumBatchSize: Int
        /// Size limits. By default there are none.
        public var limits: Limits
        /// The clock timestamps come from (stored with millisecond precision). Defaults to the system time.
        public var now: @Sendable () -> Date
        /// Whether each commit reaches the write-ahead log in one write rather than two per page (file databases
        /// only). Defaults to `true`: a 16-message batch of appends is then one system call instead of about 70,
        /// which measured 10-17 % more appends per second (Performance.md). The durability is the same: a commit
        /// returns once its pages are written to the log, as before. It opens the file through a VFS of the store's
        /// that wraps SQLite's default one, named by a URI file name; with SQLite built without URI file names
        /// (`SQLITE_USE_URI`) it is off whatever this says.
        public var batchesLogWrites = true
        /// Which ways a search may take to find its candidates. Tests change them to check each way against the
        /// others.
        var searchWays = SearchWays()

        /// Which ways a search may take to find its candidates (``SQLiteChatStore/search(_:as:in:limit:)`` tries
        /// the scope filter first, then what ``SearchPlan`` orders).
        struct SearchWays: Sendable {
            /// When a search in a few conversations restricts FTS5 to them (``ScopeFilter``; `Schema.v11`).
            var scopeFilter = ScopeFilter.Limits()
            /// When a search reads the messages of its scope instead of walking the FTS5 index (``ScopeScan``).
            var scopeScan = ScopeScan.Limits()
            /// When a search walks FTS5's matches against its scope's rows instead of reading each match's message
            /// (``ScopedIndexWalk``, chosen by ``SearchPlan``).
            var scopedWalk = SearchPlan.Policy.cheapest
        }

        /// Creates a configuration for a database at `location`.
        public init(
            location: Location,
            synchronous: Synchronous = .normal,
            busyTimeout: Duration = .seconds(5),
            readerCount: Int = 4,
            maximumBatchSize: Int = 1024,
            limits: Limits = Limits(),
            now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.location = location
            self.synchronous = synchronous
            self.busyTimeout = busyTimeout
            self.readerCount = readerCount
            self.maximumBatchSize = maximumBatchSize
            self.limits = limits
            self.now = now
        }

        /// Creates a configuration for a database file at `path`, created if missing.
        public init(path: String) {
            self.init(location: .file(path))
        }

        /// A private in-memory database with default settings: nothing survives the store. Each store opened
        /// with it is a new, empty database.
        public static var inMemory: Configuration { Configuration(location: .inMemory) }
    }

    /// Size limits of a ``SQLiteChatStore``.
    public struct Limits: Sendable, Hashable {
        /// The largest the database file may grow, in bytes (SQLite's `max_page_count`), or `nil` for no limit
        /// but the disk. A write that would pass it fails with ``ChatKitCore/ChatError/Code/storageFailure``
        /// and stores nothing, exactly as a full disk does. Defaults to `nil`.
        ///
        /// The search index's file beside it (`PATH-search`) has the same limit of its own: once full, new and
        /// changed messages are found by scanning them instead (slower), and nothing is lost.
        public var maximumDatabaseSize: Int64?

        /// Creates limits.
        public init(maximumDatabaseSize: Int64? = nil) {
            self.maximumDatabaseSize = maximumDatabaseSize
        }
    }

    /// Where a ``SQLiteChatStore`` keeps its data.
    public struct Location: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: Sendable, Hashable {
            case file(String)
            case inMemory
        }

        fileprivate let base: Base

        /// A database file at `path` (with its `-wal` and `-shm` companions next to it, and its search index's file,
        /// `path-search`, with its own), created if missing.
        /// The file is opened in WAL mode, with a pool of reader connections.
        public static func file(_ path: String) -> Location { Location(base: .file(path)) }

        /// A private in-memory database, gone when the store is released. Used by tests and previews.
        public static let inMemory = Location(base: .inMemory)

        /// The file path, or `nil` for an in-memory database.
        public var path: String? {
            if case .file(let path) = base { return path }
            return nil
        }

        public var description: String { path ?? ":memory:" }
    }

    /// SQLite's `synchronous` setting: what a commit survives once ``SQLiteChatStore/append(_:)`` returns.
    ///
    /// The store runs in WAL mode. With group commit one sync covers a whole batch of appends, so `.full` costs
    /// latency more than throughput.
    public struct Synchronous: Sendable, Hashable, CustomStringConvertible {
        /// The pragma value.
        let pragma: String

        /// The default. An acknowledged commit survives a crash or `kill -9` of the process (it is in the
        /// write-ahead log, which the operating system holds), but the newest commits may be lost, never
        /// half-applied, if the machine loses power or the kernel crashes before the log is checkpointed.
        /// SQLite syncs only at checkpoints: the fastest setting that keeps the database consistent.
        public static let normal = Synchronous(pragma: "NORMAL")
        /// An acknowledged commit also survives power loss and kernel crashes: the write-ahead log is synced
        /// (`fsync`) at every commit, that is once per group-commit batch.
        public static let full = Synchronous(pragma: "FULL")
        /// Like ``full``, and the directory is synced as well when the log is created or deleted.
        public static let extra = Synchronous(pragma: "EXTRA")
        /// No syncing at all: a crash of the process is survived, but power loss can corrupt the database.
        /// Only for throwaway data and benchmarks.
        public static let off = Synchronous(pragma: "OFF")

        public var description: String { pragma.lowercased() }
    }
}
