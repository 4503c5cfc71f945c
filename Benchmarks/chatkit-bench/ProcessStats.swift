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

#if canImport(Glibc)
import Glibc
#endif

/// CPU time and resident memory of this process and of the server's, from getrusage and /proc.
enum ProcessStats {
    /// User + system CPU seconds this process has used.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// User + system CPU seconds of process `pid` (from /proc/PID/stat), or `nil`.
    static func cpuSeconds(of pid: Int32) -> Double? {
        guard pid > 0 else { return nil }
        if pid == getpid() { return ownCPUSeconds() }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ", fields start at 3 (state); utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size of process `pid` in KiB (VmRSS from /proc/PID/status), or `nil`.
    static func residentKiB(of pid: Int32) -> Int? {
        guard pid > 0, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            return nil
        }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Raises the soft open-files limit to the hard limit; returns both.
    @discardableResult
    static func raiseOpenFilesLimit() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }
}

/// CPU and memory over a measured phase: the generator's (this process) and the server's.
struct ResourceMeter {
    let serverPID: Int32
    let start = monotonicNanoseconds()
    let ownCPU = ProcessStats.ownCPUSeconds()
    let serverCPU: Double?

    init(serverPID: Int32) {
        self.serverPID = serverPID
        self.serverCPU = ProcessStats.cpuSeconds(of: serverPID)
    }

    var inProcess: Bool { serverPID == getpid() }

    /// The usage since `init`.
    func finish() -> ResourceUsage {
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let own = ProcessStats.ownCPUSeconds() - ownCPU
        let server = serverCPU.flatMap { before in ProcessStats.cpuSeconds(of: serverPID).map { $0 - before } }
        return ResourceUsage(
            seconds: seconds, inProcess: inProcess,
            generatorCPUSeconds: inProcess ? nil : own,
            serverCPUSeconds: inProcess ? nil : server,
            processCPUSeconds: inProcess ? own : nil,
            generatorRSSKiB: ProcessStats.residentKiB(of: getpid()),
            serverRSSKiB: inProcess ? nil : ProcessStats.residentKiB(of: serverPID)
        )
    }
}

/// What a phase cost. In process, server and generator share one process: only the sum is known.
struct ResourceUsage: Sendable, Codable {
    var seconds: Double
    var inProcess: Bool
    var generatorCPUSeconds: Double?
    var serverCPUSeconds: Double?
    /// Server and generator together (in-process runs).
    var processCPUSeconds: Double?
    var generatorRSSKiB: Int?
    var serverRSSKiB: Int?

    var summary: String {
        func percent(_ cpu: Double) -> String { String(format: "%.2f s (%.0f%% of a core)", cpu, 100 * cpu / max(seconds, 1e-9)) }
        var parts: [String] = []
        if let processCPUSeconds { parts.append("CPU server+generator (one process): " + percent(processCPUSeconds)) }
        if let generatorCPUSeconds { parts.append("generator CPU: " + percent(generatorCPUSeconds)) }
        if let serverCPUSeconds { parts.append("server CPU: " + percent(serverCPUSeconds)) }
        if let generatorRSSKiB { parts.append("\(inProcess ? "process" : "generator") RSS: \(generatorRSSKiB / 1024) MiB") }
        if let serverRSSKiB { parts.append("server RSS: \(serverRSSKiB / 1024) MiB") }
        return parts.joined(separator: "; ")
    }
}
