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

import Foundation
import GRDBSQLite
import Synchronization

/// A SQLite VFS that hands each commit's frames to the write-ahead log in one write instead of two per frame.
///
/// SQLite writes a frame of the log as two system calls, its 24-byte header and then its page, so a page of 4,096
/// bytes straddles two pages of the kernel's cache: a batch of appends (about 35 frames) made some 70 `pwrite`s,
/// a fifth of the appending thread's time. This VFS wraps the process's default VFS (`unix` on Linux) and changes
/// one thing: writes to a log file that continue where the previous one ended are gathered in memory and written
/// as one when the commit frame is complete.
///
/// Why no connection can read a frame before it is in the file:
/// - Other connections read only the frames up to the last commit that the log's index (shared memory) names,
///   and SQLite updates the index after the call that writes a commit's frames has returned.
/// - The commit frame is the one whose header holds the database's size in pages (zero in every other frame), and
///   SQLite writes a frame's page right after its header: the write that completes the commit frame writes out
///   everything gathered. Its failure (a full disk) is the commit's failure, so the index never names a frame that
///   did not reach the file.
/// - A write elsewhere in the log (SQLite rewrites the headers of frames a transaction wrote twice, after reading
///   them) goes straight to the file once what was gathered is written. So does any write once the gathering
///   reached ``capacity``.
/// - What was gathered is written before the same connection reads those bytes, and before it syncs, truncates,
///   measures or closes the log, so its own reads and the durability of `synchronous = FULL` are as before.
///
/// - What a rolled-back transaction gathered (frames it spilled before its end) is dropped when the connection
///   releases the log's write lock, which it takes through the database file: a database file of the VFS watches
///   its connection's lock, so no later write of this connection puts those frames where another process may have
///   committed its own since.
/// - A log file that does not promise power-safe overwrites (`psow=0`), for which SQLite pads a commit to a sector
///   with `synchronous = FULL` and syncs in the middle of a frame, is written as the default VFS writes it.
///
/// The database file, its locks and the log's index are the default VFS's own. A store opens through this VFS
/// with a URI file name, which needs SQLite built with URI file names on (`SQLITE_USE_URI`, as Debian's and Apple's
/// builds are; GRDB needs them for named in-memory databases too); without them a store opens as before.
enum LogWriteBatching {
    /// The VFS's name, as a URI file name's `vfs` parameter names it.
    static let name = "chatkit-log-batching"

    /// The most bytes gathered before they are written: 31 pages of 4 KiB, under the 128 KiB that SQLite's `unix` VFS
    /// writes at most per call (it masks a write's length to 17 bits, so a longer one would be cut short). A commit
    /// of 16 appends (about 140 KiB) is two writes.
    static let capacity = 0x1F000

    /// Whether the VFS is registered and URI file names can name it.
    static var isAvailable: Bool { registration != nil }

    /// The file name that opens the database at `path` through this VFS: a URI file name, or `path` itself where
    /// the VFS is not available.
    static func fileName(forPath path: String) -> String {
        guard isAvailable, !path.isEmpty else { return path }
        var escaped = ""
        for character in path.unicodeScalars {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3f"
            case "#": escaped += "%23"
            default: escaped.unicodeScalars.append(character)
            }
        }
        // An absolute path after an empty authority ("file:///…"); a relative one right after the scheme.
        return (path.hasPrefix("/") ? "file://" : "file:") + escaped + "?vfs=" + name
    }

    /// How many writes SQLite made to one log file through this VFS, and how many reached the default VFS.
    struct Counts: Equatable {
        var writesAsked = 0
        var writesMade = 0
    }

    /// The counts of the log file `file`, if it is one of this VFS (tests find the log with
    /// `SQLITE_FCNTL_JOURNAL_POINTER`).
    static func counts(of file: UnsafeMutablePointer<sqlite3_file>) -> Counts? {
        guard let log = LogFile.ofThisVFS(file), log.state.pointee.isLog else { return nil }
        return log.state.pointee.counts
    }

    /// Makes the next write of gathered bytes to `file` fail with `code` without writing them (tests: a disk that
    /// fills at a commit). Returns false if `file` is not a log file of this VFS.
    static func failNextGatheredWrite(of file: UnsafeMutablePointer<sqlite3_file>, with code: Int32) -> Bool {
        guard let log = LogFile.ofThisVFS(file), log.state.pointee.isLog else { return false }
        log.state.pointee.injectedFailure = code
        return true
    }
}

/// The registered VFS and the methods of its log and database files, made once per process.
private struct Registration: @unchecked Sendable {
    let vfs: UnsafeMutablePointer<sqlite3_vfs>
    let methods: UnsafeMutablePointer<sqlite3_io_methods>
    let base: UnsafeMutablePointer<sqlite3_vfs>

    static func make() -> Registration? {
        guard sqlite3_compileoption_used("USE_URI") != 0, let base = sqlite3_vfs_find(nil) else { return nil }
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: base.pointee)
        vfs.pointee.zName = UnsafePointer(strdup(LogWriteBatching.name))
        vfs.pointee.pNext = nil
        vfs.pointee.szOsFile = Int32(LogFile.baseFileOffset) + base.pointee.szOsFile
        vfs.pointee.xOpen = { _, name, file, flags, outFlags in LogFile.open(name, file, flags, outFlags) }
        let methods = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        methods.initialize(to: LogFile.makeMethods())
        guard sqlite3_vfs_register(vfs, 0) == SQLITE_OK else { return nil }
        return Registration(vfs: vfs, methods: methods, base: base)
    }
}

private let registration = Registration.make()

/// The open database files of the VFS, by the address of the name SQLite opened them with (the name a log's name
/// leads back to with `sqlite3_filename_database`), as addresses of their states.
private let openDatabases = Mutex<[UInt: UInt]>([:])

/// What a log file of the VFS keeps besides the default VFS's file.
private struct LogFileState {
    /// The gathered bytes (allocated at the first write that gathers), of ``LogWriteBatching/capacity``.
    var buffer: UnsafeMutableRawPointer?
    /// Where in the file the gathered bytes go, and how many there are.
    var start: Int64 = 0
    var count = 0
    /// Where the previous write ended (-1 when unknown: none yet, or it failed).
    var end: Int64 = -1
    /// Whether the previous write was a commit frame's header: the next one that continues it completes the commit.
    var isCompletingCommit = false
    var counts = LogWriteBatching.Counts()
    /// A failure the next write of gathered bytes returns instead of writing (tests).
    var injectedFailure: Int32?
    /// Whether the log gathers writes: its database file promises power-safe overwrites (for a database file,
    /// whether it does).
    var gathers = true
    /// For a database file, its connection's log; for a log, its connection's database file.
    var linked: UnsafeMutablePointer<LogFileState>?
    /// For a database file, the address of the name it was opened with.
    var nameAddress: UInt = 0
    /// Whether the file is a log (else a database file, whose writes are not gathered).
    var isLog = false
}

/// A file opened by the VFS, in the memory SQLite gave it (`szOsFile` bytes): the `sqlite3_file` header, a pointer
/// to its ``LogFileState`` (log and database files), then the default VFS's file.
private struct LogFile {
    static let stateOffset = MemoryLayout<sqlite3_file>.stride
    static let baseFileOffset = (stateOffset + MemoryLayout<UnsafeMutableRawPointer>.stride + 15) & ~15
    static let frameHeaderSize: Int32 = 24

    let file: UnsafeMutablePointer<sqlite3_file>

    init(_ file: UnsafeMutablePointer<sqlite3_file>) { self.file = file }

    /// `file` as a file of this VFS (a log or database file), or `nil`.
    static func ofThisVFS(_ file: UnsafeMutablePointer<sqlite3_file>) -> LogFile? {
        guard let registration, file.pointee.pMethods == UnsafePointer(registration.methods) else { return nil }
        return LogFile(file)
    }

    var base: UnsafeMutablePointer<sqlite3_file> {
        (UnsafeMutableRawPointer(file) + Self.baseFileOffset).assumingMemoryBound(to: sqlite3_file.self)
    }

    var state: UnsafeMutablePointer<LogFileState> {
        UnsafeMutableRawPointer(file).load(
            fromByteOffset: Self.stateOffset, as: UnsafeMutablePointer<LogFileState>.self)
    }

    var baseMethods: sqlite3_io_methods { base.pointee.pMethods.pointee }

    /// Opens a file: a log or database file with this VFS's methods around the default VFS's file, any other file
    /// as the default VFS's own (its methods in the header, so SQLite calls them directly).
    static func open(
        _ name: UnsafePointer<CChar>?, _ file: UnsafeMutablePointer<sqlite3_file>?, _ flags: Int32,
        _ outFlags: UnsafeMutablePointer<Int32>?
    ) -> Int32 {
        guard let registration, let file else { return SQLITE_ERROR }
        let base = registration.base
        let isLog = flags & SQLITE_OPEN_WAL != 0
        guard isLog || flags & SQLITE_OPEN_MAIN_DB != 0 else {
            return base.pointee.xOpen!(base, name, file, flags, outFlags)
        }
        file.pointee.pMethods = nil
        let logFile = LogFile(file)
        let result = base.pointee.xOpen!(base, name, logFile.base, flags, outFlags)
        guard result == SQLITE_OK else { return result }
        let state = UnsafeMutablePointer<LogFileState>.allocate(capacity: 1)
        state.initialize(to: LogFileState(isLog: isLog))
        UnsafeMutableRawPointer(file).storeBytes(
            of: state, toByteOffset: stateOffset, as: UnsafeMutablePointer<LogFileState>.self)
        if isLog {
            // SQLite pads a commit when the database file does not promise power-safe overwrites (`wal.c` asks the
            // database file); a log not linked to its database file is not gathered either.
            state.pointee.gathers = false
            if let name, let database = sqlite3_filename_database(name),
                let address = openDatabases.withLock({ $0[UInt(bitPattern: database)] }),
                let databaseState = UnsafeMutablePointer<LogFileState>(bitPattern: address)
            {
                databaseState.pointee.linked = state
                state.pointee.linked = databaseState
                state.pointee.gathers = databaseState.pointee.gathers
            }
        } else {
            let characteristics = logFile.baseMethods.xDeviceCharacteristics!(logFile.base)
            state.pointee.gathers = characteristics & SQLITE_IOCAP_POWERSAFE_OVERWRITE != 0
            if let name {
                state.pointee.nameAddress = UInt(bitPattern: name)
                openDatabases.withLock { $0[UInt(bitPattern: name)] = UInt(bitPattern: state) }
            }
        }
        file.pointee.pMethods = UnsafePointer(registration.methods)
        return SQLITE_OK
    }

    /// Drops what the log gathered: frames of a transaction that ended without committing them. (A commit wrote
    /// its own: then nothing is gathered, and the next transaction's frames continue where the commit's ended.)
    static func dropGathered(_ state: UnsafeMutablePointer<LogFileState>) {
        guard state.pointee.count > 0 else { return }
        state.pointee.count = 0
        state.pointee.end = -1
        state.pointee.isCompletingCommit = false
    }

    /// Writes the gathered bytes, if any. They are dropped whether or not the write succeeds: a failed write fails
    /// the transaction that made them, and SQLite writes its frames again.
    func writeGathered() -> Int32 {
        let state = self.state
        guard state.pointee.count > 0, let buffer = state.pointee.buffer else { return SQLITE_OK }
        defer { state.pointee.count = 0 }
        state.pointee.counts.writesMade += 1
        if let failure = state.pointee.injectedFailure {
            state.pointee.injectedFailure = nil
            state.pointee.end = -1
            return failure
        }
        let result = baseMethods.xWrite!(base, buffer, Int32(state.pointee.count), state.pointee.start)
        if result != SQLITE_OK { state.pointee.end = -1 }
        return result
    }

    func write(_ data: UnsafeRawPointer, _ amount: Int32, _ offset: Int64) -> Int32 {
        let state = self.state
        guard state.pointee.isLog else { return baseMethods.xWrite!(base, data, amount, offset) }
        state.pointee.counts.writesAsked += 1
        let continues = offset == state.pointee.end
        // A frame header holds the database's size in pages (big-endian, bytes 4-7) in a commit frame only.
        let isCommitHeader =
            amount == Self.frameHeaderSize && data.loadUnaligned(fromByteOffset: 4, as: UInt32.self) != 0
        let completesCommit = state.pointee.isCompletingCommit && continues && !isCommitHeader
        state.pointee.isCompletingCommit = isCommitHeader
        if state.pointee.count > 0, !continues || state.pointee.count + Int(amount) > LogWriteBatching.capacity {
            let result = writeGathered()
            guard result == SQLITE_OK else { return result }
        }
        if !continues || Int(amount) > LogWriteBatching.capacity || !state.pointee.gathers {
            state.pointee.counts.writesMade += 1
            let result = baseMethods.xWrite!(base, data, amount, offset)
            state.pointee.end = result == SQLITE_OK ? offset + Int64(amount) : -1
            return result
        }
        if state.pointee.buffer == nil {
            state.pointee.buffer = UnsafeMutableRawPointer.allocate(byteCount: LogWriteBatching.capacity, alignment: 16)
        }
        if state.pointee.count == 0 { state.pointee.start = offset }
        (state.pointee.buffer! + state.pointee.count).copyMemory(from: data, byteCount: Int(amount))
        state.pointee.count += Int(amount)
        state.pointee.end = offset + Int64(amount)
        return completesCommit ? writeGathered() : SQLITE_OK
    }

    func read(_ data: UnsafeMutableRawPointer?, _ amount: Int32, _ offset: Int64) -> Int32 {
        let state = self.state.pointee
        if state.count > 0, offset < state.start + Int64(state.count), offset + Int64(amount) > state.start {
            // A failure here is an I/O error, which rolls the whole transaction back (SQLite rolls back only the
            // statement after `SQLITE_FULL`, and the transaction could commit without the frames it lost).
            guard writeGathered() == SQLITE_OK else { return Self.ioErrorWrite }
        }
        return baseMethods.xRead!(base, data, amount, offset)
    }

    /// Runs `body` on the default VFS's file once the gathered bytes are written.
    /// A failure to write them is an I/O error, as in ``read(_:_:_:)``.
    func afterWritingGathered(_ body: (UnsafeMutablePointer<sqlite3_file>, sqlite3_io_methods) -> Int32) -> Int32 {
        guard writeGathered() == SQLITE_OK else { return Self.ioErrorWrite }
        return body(base, baseMethods)
    }

    /// Closes the file: a log once what it gathered is written, a database file leaving the list of open ones.
    func close() -> Int32 {
        let written = writeGathered()
        let state = self.state
        if !state.pointee.isLog {
            let address = state.pointee.nameAddress
            openDatabases.withLock { databases in
                if databases[address] == UInt(bitPattern: state) { databases[address] = nil }
            }
        }
        state.pointee.linked?.pointee.linked = nil
        state.pointee.buffer?.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        let closed = baseMethods.xClose!(base)
        file.pointee.pMethods = nil
        return written == SQLITE_OK ? closed : written
    }

    /// A database file's `xShmLock`: releasing the log's write lock drops what the connection's log still gathers
    /// (a rolled-back transaction's frames: a commit wrote its own).
    func shmLock(_ offset: Int32, _ count: Int32, _ flags: Int32) -> Int32 {
        guard baseMethods.iVersion >= 2 else { return SQLITE_IOERR }
        if !state.pointee.isLog, offset == Self.logWriteLock, flags == SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE,
            let log = state.pointee.linked
        {
            Self.dropGathered(log)
        }
        return baseMethods.xShmLock!(base, offset, count, flags)
    }

    /// `SQLITE_IOERR_WRITE`, which Swift does not import (a macro of an expression).
    static let ioErrorWrite: Int32 = SQLITE_IOERR | (3 << 8)

    /// The index of the log's write lock among the locks of its index (`WAL_WRITE_LOCK` in SQLite's `wal.c`).
    static let logWriteLock: Int32 = 0

    /// The methods of a log or database file: each one the default VFS's, after a log's gathered bytes are written
    /// where their absence could be seen (a database file gathers none), with ``write(_:_:_:)`` and
    /// ``shmLock(_:_:_:)`` telling the two apart.
    static func makeMethods() -> sqlite3_io_methods {
        sqlite3_io_methods(
            iVersion: 3,
            xClose: { file in LogFile(file!).close() },
            xRead: { file, data, amount, offset in LogFile(file!).read(data, amount, offset) },
            xWrite: { file, data, amount, offset in LogFile(file!).write(data!, amount, offset) },
            xTruncate: { file, size in
                LogFile(file!).afterWritingGathered { base, methods in methods.xTruncate!(base, size) }
            },
            xSync: { file, flags in LogFile(file!).afterWritingGathered { base, methods in methods.xSync!(base, flags) }
            },
            xFileSize: { file, size in
                LogFile(file!).afterWritingGathered { base, methods in methods.xFileSize!(base, size) }
            },
            xLock: { file, lock in
                let wrapped = LogFile(file!)
                return wrapped.baseMethods.xLock!(wrapped.base, lock)
            },
            xUnlock: { file, lock in
                let wrapped = LogFile(file!)
                return wrapped.baseMethods.xUnlock!(wrapped.base, lock)
            },
            xCheckReservedLock: { file, result in
                let wrapped = LogFile(file!)
                return wrapped.baseMethods.xCheckReservedLock!(wrapped.base, result)
            },
            xFileControl: { file, operation, argument in
                LogFile(file!).afterWritingGathered { base, methods in methods.xFileControl!(base, operation, argument)
                }
            },
            xSectorSize: { file in
                let wrapped = LogFile(file!)
                return wrapped.baseMethods.xSectorSize!(wrapped.base)
            },
            xDeviceCharacteristics: { file in
                let wrapped = LogFile(file!)
                return wrapped.baseMethods.xDeviceCharacteristics!(wrapped.base)
            },
            xShmMap: { file, page, size, extend, region in
                let wrapped = LogFile(file!)
                guard wrapped.baseMethods.iVersion >= 2 else { return SQLITE_IOERR }
                return wrapped.baseMethods.xShmMap!(wrapped.base, page, size, extend, region)
            },
            xShmLock: { file, offset, count, flags in LogFile(file!).shmLock(offset, count, flags) },
            xShmBarrier: { file in
                let wrapped = LogFile(file!)
                if wrapped.baseMethods.iVersion >= 2 { wrapped.baseMethods.xShmBarrier!(wrapped.base) }
            },
            xShmUnmap: { file, delete in
                let wrapped = LogFile(file!)
                guard wrapped.baseMethods.iVersion >= 2 else { return SQLITE_OK }
                return wrapped.baseMethods.xShmUnmap!(wrapped.base, delete)
            },
            xFetch: { file, offset, amount, page in
                let wrapped = LogFile(file!)
                guard wrapped.baseMethods.iVersion >= 3 else {
                    page?.pointee = nil
                    return SQLITE_OK
                }
                return wrapped.afterWritingGathered { base, methods in methods.xFetch!(base, offset, amount, page) }
            },
            xUnfetch: { file, offset, page in
                let wrapped = LogFile(file!)
                guard wrapped.baseMethods.iVersion >= 3 else { return SQLITE_OK }
                return wrapped.baseMethods.xUnfetch!(wrapped.base, offset, page)
            }
        )
    }
}
