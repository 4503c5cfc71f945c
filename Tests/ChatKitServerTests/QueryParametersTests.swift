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
@testable import ChatKitServer
import Testing

/// The HTTP chat API's query parameters: read as HTML forms and `URLSearchParams` write them, with clear refusals.
struct QueryParametersTests {
    @Test func plusIsASpaceAndPercentEscapesAreUTF8() throws {
        let query = try QueryParameters(query: "q=plan*+launch&tag=c%2B%2B&name=J%C3%BCrgen+M.&s%20p=1")
        #expect(query.string("q") == "plan* launch")
        #expect(query.string("tag") == "c++")
        #expect(query.string("name") == "Jürgen M.")
        #expect(query.string("s p") == "1")
    }

    @Test func anEmptyValueIsAbsent() throws {
        let query = try QueryParameters(query: "before=&limit=20&flag&&cursor=")
        #expect(query.string("before") == nil)
        #expect(try query.integer("before") == nil)
        #expect(try query.integer("limit") == 20)
        #expect(query.string("flag") == nil)
        #expect(query.string("cursor") == nil)
    }

    @Test func aNameGivenTwiceIsRefused() {
        let error = #expect(throws: ChatError.self) { try QueryParameters(query: "limit=10&limit=abc") }
        #expect(error?.code == .invalidArgument)
        #expect(error?.reason == "The query parameter 'limit' is given more than once.")
    }

    @Test func badPercentEncodingIsRefusedNamingTheParameter() {
        for query in ["q=50%", "q=%zz", "q=%FF"] {
            let error = #expect(throws: ChatError.self, "\(query)") { try QueryParameters(query: query) }
            #expect(error?.reason?.hasPrefix("The query parameter 'q' is not valid percent-encoding") == true)
        }
    }

    @Test func numbersAreCheckedWhenRead() throws {
        let query = try QueryParameters(query: "limit=abc&wait=nan&cursor=12")
        #expect(throws: ChatError.self) { try query.integer("limit") }
        #expect(throws: ChatError.self) { try query.number("wait") }
        #expect(try query.integer("cursor") == 12)
    }
}
