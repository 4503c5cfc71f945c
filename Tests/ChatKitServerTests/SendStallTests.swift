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
import ChatKitCore
import ChatKitServer
import Testing

/// A network path that dies while data waits to be sent: the client's send buffer stays full, every write waits,
/// and WSCore's pings wait with them, so the ping timeout never fires (TCP gives up after about 15 minutes). The
/// transport's heartbeat, which cannot be sent either, finds it.
@Suite("A socket whose sends stall")
struct SendStallTests {
    @Test("the connection ends with code closed, and its waiting writes end")
    func stalledSendsEndTheConnection() async throws {
        // Nothing else ends the connection: no pings (WSCore's ping timeout would close the socket itself if the
        // buffers were still filling on a busy machine) and a hello deadline longer than the test.
        try await LiveServer.run(configuration: ChatServerConfiguration(helloTimeout: .seconds(3600))) { live in
            // A small buffer on the relay's side: the sockets' buffers (the client's grows to 4 MB) fill in about half
            // a second on an idle machine.
            try await TCPRelay.run(to: live.port, clientReceiveBuffer: 16 << 10) { relay in
                let transport = WebSocketClientTransport(
                    url: "ws://127.0.0.1:\(relay.port)/v1/ws",
                    configuration: .init(pingInterval: nil, sendStallTimeout: .seconds(2))
                )
                // Nothing else ends it, so the wait may be long: on a machine busy with the whole suite, filling the
                // buffers took up to a minute (each write and pause waits its turn among the suite's tasks).
                let ending = try await withTimeout("the stalled connection to end", .seconds(300)) {
                    try await transport.withConnection { connection in
                        relay.stopReadingClients()
                        return await withTaskGroup(of: (any Error)?.self) { group in
                            // Writes until one fails: the first hundred or so fill the sockets' buffers, then one
                            // waits. Paced (not a wait for an event): unpaced, writes from another thread pile up in
                            // the event loop's queue faster than it can tell them the socket is full.
                            group.addTask {
                                let chunk = String(repeating: "x", count: 64 << 10)
                                do {
                                    while true {
                                        try await connection.outbound.write(chunk)
                                        try await Task.sleep(for: .milliseconds(1))
                                    }
                                } catch {
                                    return nil
                                }
                            }
                            group.addTask {
                                do {
                                    for try await _ in connection.inbound {}
                                    return nil
                                } catch {
                                    return error
                                }
                            }
                            var ending: (any Error)?
                            for await result in group { ending = ending ?? result }
                            return ending.map { String(describing: $0) } ?? "the inbound stream ended normally"
                        }
                    }
                }
                #expect(ending.contains("closed: Nothing more could be sent for 2 s"), "\(ending)")
            }
        }
    }
}
