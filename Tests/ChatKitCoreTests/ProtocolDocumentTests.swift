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
import Foundation
import Testing

/// Every example in Documentation/Protocol.md decodes with the codec, and every request and frame type has one.
@Suite("Protocol.md examples")
struct ProtocolDocumentTests {
    struct Example: Sendable, CustomStringConvertible {
        var side: String
        var json: String
        var description: String { "\(side): \(json.prefix(60))" }
    }

    static let examples: [Example] = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Documentation/Protocol.md")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        var examples: [Example] = []
        var current: (side: String, lines: [String])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let block = current {
                if line == "```" {
                    examples.append(Example(side: block.side, json: block.lines.joined(separator: "\n")))
                    current = nil
                } else {
                    current?.lines.append(String(line))
                }
            } else if line == "```json client" || line == "```json server" {
                current = (String(line.dropFirst("```json ".count)), [])
            }
        }
        return examples
    }()

    @Test(arguments: examples)
    func exampleDecodes(_ example: Example) throws {
        let codec = WireCodec()
        if example.side == "client" {
            let frame = try codec.decodeClientFrame(example.json).get()
            // Encoding and decoding again gives the same frame.
            #expect(try codec.decodeClientFrame(try codec.encode(frame)).get() == frame)
        } else {
            let frame = try codec.decodeServerFrame(example.json)
            #expect(try codec.decodeServerFrame(try codec.encode(frame)) == frame)
        }
    }

    @Test func everyFrameTypeHasAnExample() throws {
        let codec = WireCodec()
        let clientTypes = Set(Self.examples.filter { $0.side == "client" }.compactMap {
            try? codec.decodeClientFrame($0.json).get().request.type
        })
        let serverTypes = Set(Self.examples.filter { $0.side == "server" }.compactMap {
            try? codec.decodeServerFrame($0.json).type
        })
        #expect(clientTypes.count == 32, "request types with an example: \(clientTypes.sorted())")
        #expect(serverTypes == ["welcome", "result", "error", "event", "presence", "typing", "synced", "goodbye"])
    }

    @Test func everyErrorCodeIsListed() throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Documentation/Protocol.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let codes: [ChatError.Code] = [
            .notFound, .conflict, .unauthenticated, .forbidden, .invalidArgument, .limitExceeded, .storageFailure,
            .unavailable,
        ]
        for code in codes {
            #expect(text.contains("| `\(code)` |"), "Protocol.md does not list \(code)")
        }
    }
}
