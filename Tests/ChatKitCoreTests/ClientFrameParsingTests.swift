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

@testable import ChatKitCore
import Foundation
import Testing

@Suite("Reading common client frames without JSONDecoder")
struct ClientFrameParsingTests {
    /// What `JSONDecoder`, with the codec's settings, makes of a text.
    static func decoded(_ text: String) -> ClientFrame? {
        try? WireCodec.makeDecoder().decode(ClientFrame.self, from: Data(text.utf8))
    }

    static let taken: [String] = [
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"hello"}"#,
        #"{"attachments":null,"body":"hi","clientMessageID":"k","conversationID":"c","id":"r-2","mentions":null,"replyTo":null,"type":"send"}"#,
        #" { "type" : "send" , "id" : "3", "conversationID": "c", "clientMessageID": "k", "body": "", "replyTo": "m-1", "mentions": ["u1", "u2"], "attachments": [] } "#,
        #"{"type":"send","id":"4","conversationID":"c","clientMessageID":"k","body":"quote \" slash \\ \/ \b\f\n\r\t tab","mentions":[]}"#,
        #"{"type":"send","id":"5","conversationID":"c","clientMessageID":"k","body":"caf\u00e9 \u20AC \ud83d\ude00 and raw 😀 Ünïcode"}"#,
        #"{"ty\u0070e":"send","id":"6","conversationID":"c","clientMessageID":"k","body":"\u0000 nul"}"#,
        "{\n\t\"type\": \"send\",\r\n\t\"id\": \"7\", \"conversationID\": \"c\", \"clientMessageID\": \"k\", \"body\": \"b\"\n}\n",
        #"{"type":"hello","id":"h","versions":[1],"token":"eyJhbGciOi.eyJzdWIi.sig"}"#,
        #"{"type":"hello","id":"h","versions":[1,2,3],"token":"t","cursor":42}"#,
        #"{"type":"hello","id":"h","versions":[],"token":"t","cursor":null}"#,
        #"{"type":"hello","id":"h","versions":[1],"token":"t","cursor":-9223372036854775808}"#,
        #"{"type":"hello","id":"h","versions":[1],"token":"t","cursor":9223372036854775807}"#,
        #"{"type":"markRead","id":"m","conversationID":"c","seq":0}"#,
        #"{"type":"markDelivered","id":"m","conversationID":"c","seq":-0}"#,
        #"{"type":"typing","id":"t","conversationID":"c","isTyping":true}"#,
        #"{"type":"typing","id":"t","conversationID":"c","isTyping":false}"#,
    ] + escapesAtWordBoundaries

    /// Bodies with an escape at each place around the reader's eight-byte steps, among ASCII and two-byte text.
    static let escapesAtWordBoundaries: [String] = [#"\""#, #"\\"#, #"\n"#, #"\u0041"#].flatMap { escape in
        ["0123456789abcdefgh", "ééééééééé"].flatMap { plain in
            (0...plain.count).map { place in
                let body = String(plain.prefix(place)) + escape + String(plain.dropFirst(place))
                return #"{"type":"send","id":"w","conversationID":"c","clientMessageID":"k","body":"\#(body)"}"#
            }
        }
    }

    static let left: [String] = [
        #"{"type":"edit","id":"1","messageID":"m","body":"b"}"#,  // another request type
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"b","extra":1}"#,  // another key
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"b","attachments":[{"id":"a"}]}"#,
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"b","body":"c"}"#,  // repeated
        #"{"type":"send","id":"","conversationID":"c","clientMessageID":"k","body":"b"}"#,  // empty id
        #"{"type":"send","id":"1","clientMessageID":"k","body":"b"}"#,  // missing field
        #"{"type":"send","id":"1","conversationID":7,"clientMessageID":"k","body":"b"}"#,  // wrong kind
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"b","mentions":["u",1]}"#,
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"bad \x escape"}"#,
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"lone \ud83d surrogate"}"#,
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"lone \ude00 low"}"#,
        "{\"type\":\"send\",\"id\":\"1\",\"conversationID\":\"c\",\"clientMessageID\":\"k\",\"body\":\"raw \n newline\"}",
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"b"} trailing"#,
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"b",}"#,
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"b""#,
        #"{"type":"markRead","id":"m","conversationID":"c","seq":1.0}"#,
        #"{"type":"markRead","id":"m","conversationID":"c","seq":1e3}"#,
        #"{"type":"markRead","id":"m","conversationID":"c","seq":01}"#,
        #"{"type":"markRead","id":"m","conversationID":"c","seq":9223372036854775808}"#,
        #"{"type":"markRead","id":"m","conversationID":"c","seq":-}"#,
        #"{"type":"typing","id":"t","conversationID":"c"}"#,
        #"{"type":"typing","id":"t","conversationID":"c","isTyping":1}"#,
        #"{"type":"hello","id":"h","versions":1,"token":"t"}"#,
        #"["type","send"]"#,
        "",
        #"{"a":["#,  // ends inside an array
        #"{"a":[ "#,
        #"{"type":"typing","id":"t","conversationID":"c","isTyping":true,"x":["#,
        #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"x","b\u006fdy":"y"}"#,  // repeated once unescaped
    ]

    @Test("plain common frames are read here, exactly as JSONDecoder reads them")
    func readsCommonFrames() throws {
        for text in Self.taken {
            let frame = try #require(ClientFrame.parseCommon(text), "not taken: \(text)")
            #expect(frame == Self.decoded(text), "\(text)")
        }
    }

    @Test("an object of more fields than a frame has is left to JSONDecoder, which reads it in linear time")
    func manyFieldsAreLeftToJSONDecoder() throws {
        let most = (0..<FlatJSONReader.maximumFields).map { "\"k\($0)\":1" }.joined(separator: ",")
        #expect(FlatJSONReader.object(in: Array("{\(most)}".utf8))?.fields.count == FlatJSONReader.maximumFields)
        #expect(FlatJSONReader.object(in: Array("{\(most),\"one\":1}".utf8)) == nil)
        // A hello of 20,000 keys is still answered (refused: unknown keys are not the request's).
        let keys = (0..<20_000).map { "\"x\($0)\":1" }.joined(separator: ",")
        let frame = "{\"id\":\"h\",\"type\":\"hello\",\"token\":\"t\",\(keys)}"
        switch WireCodec(maxFrameBytes: 1 << 20).decodeClientFrame(frame) {
        case .success(let decoded): #expect(decoded.id == "h")
        case .failure(let failure): #expect(failure.id == "h")
        }
    }

    @Test("everything else is left to JSONDecoder")
    func leavesTheRest() {
        for text in Self.left {
            #expect(ClientFrame.parseCommon(text) == nil, "\(text)")
        }
    }

    @Test("whatever it reads from a mangled frame, JSONDecoder reads the same")
    func agreesWithJSONDecoderOnMangledFrames() {
        var state: UInt64 = 7
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let pieces = Array(#"{}[]":,\ u0 1-.e"tnfrl"#.utf8) + [0x0A, 0xC3, 0xA9]
        var taken = 0
        for round in 0..<4000 {
            var bytes = Array(Self.taken[round % Self.taken.count].utf8)
            for _ in 0...next(3) {
                let position = next(bytes.count)
                switch next(3) {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(pieces[next(pieces.count)], at: position)
                default: bytes[position] = pieces[next(pieces.count)]
                }
                if bytes.isEmpty { break }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let frame = ClientFrame.parseCommon(text) {
                taken += 1
                #expect(frame == Self.decoded(text), "\(text)")
            }
        }
        #expect(taken > 100, "too few mangled frames were still readable to compare: \(taken)")
    }

    @Test("the codec reads the frames ChatKit's clients write through this path")
    func codecUsesIt() throws {
        let codec = WireCodec()
        let frames = [
            ClientFrame(id: "1", .send(.init(conversationID: "c", clientMessageID: "k", body: "hé \"there\"\n"))),
            ClientFrame(id: "2", .hello(.init(token: "t", cursor: StreamPosition(5)))),
            ClientFrame(id: "3", .markRead(.init(conversationID: "c", seq: 9))),
            ClientFrame(id: "4", .typing(.init(conversationID: "c", isTyping: false))),
        ]
        for frame in frames {
            let text = try codec.encode(frame)
            #expect(ClientFrame.parseCommon(text) == frame, "\(text)")
            #expect(try codec.decodeClientFrame(text).get() == frame)
        }
    }
}
