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

import ChildProcesses
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tests' child processes: writing to one that has ended must not end the test process (a CLI killed at its
/// timeout before it read its input), and the children start with signals as a shell would start them.
@Suite("Spawned child processes")
struct SpawnedProcessTests {
    @Test func writingToAChildThatHasEndedDoesNotEndTheTests() throws {
        let child = try SpawnedProcess("/bin/sh", ["-c", "exit 0"], writesInput: true)
        #expect(child.waitForExit() == 0)
        // More than a pipe holds, so the write cannot land in its buffer: without SIGPIPE ignored, the signal
        // would end this process here.
        child.write(String(repeating: "x", count: 1 << 20))
        child.closeInput()
    }

    @Test func aChildStartsWithSIGPIPEsDefaultAction() throws {
        let child = try SpawnedProcess("/bin/sh", ["-c", "grep SigIgn /proc/self/status"])
        let output = String(decoding: child.output.map(SpawnedProcess.readAll) ?? [], as: UTF8.self)
        #expect(child.waitForExit() == 0)
        let field = output.split(separator: "\t").last.map { $0.filter(\.isHexDigit) } ?? ""
        let mask = try #require(UInt64(field, radix: 16), "SigIgn: \(output)")
        #expect(mask & (1 << (UInt64(SIGPIPE) - 1)) == 0, "SigIgn: \(output)")
    }
}
