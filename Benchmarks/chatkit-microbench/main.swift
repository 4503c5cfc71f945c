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

// Micro-benchmarks of ChatKit's hot paths. Not tests: run a release build and read the numbers.
//
//   swift build -c release --product chatkit-microbench && .build/release/chatkit-microbench [--quick] [--only NAME]
//
// 1. The wire codec: encoding an event frame (once per broadcast), decoding a request (once per request), decoding
//    an event frame (the client's side).
// 2. Store appends, one writer awaiting each: InMemoryChatStore, and SQLiteChatStore on a file in the temporary
//    directory at the default durability (chatkit-sqlite-bench has the full SQLite figures).
// 3. The longest single append while an in-memory store grows to 1,000,000 messages (a pause, not a rate).
// 4. Routing one stored event to many connections: a ChatServer on an in-memory store with N in-process
//    connections in one group; the time from the append to the last connection reading the event.
//
// Each figure is the fastest of 5 runs after a warm-up. --quick runs small sizes (a smoke run, seconds).
import ChatKitCore
import ChatKitServer
import ChatKitSQLite
import ChatKitTesting
import Foundation

let quick = CommandLine.arguments.contains("--quick")
let scale = quick ? 10 : 1

var results: [Measurement?] = []

// MARK: Codec

let codec = WireCodec()
let sample = try await SampleTraffic.make()
let eventFrame = ServerFrame.event(sample.event)
let eventText = try codec.encode(eventFrame)
let sendText = try codec.encode(
    ClientFrame(
        id: "42",
        .send(.init(conversationID: sample.event.conversationID!, clientMessageID: "k-1", body: sample.body))
    )
)
let codecOperations = 20_000 / scale
results.append(
    try await measure("codec: encode event frame", operations: codecOperations) {
        for _ in 0..<codecOperations { _ = try codec.encode(eventFrame) }
    }
)
results.append(
    await measure("codec: decode send request", operations: codecOperations) {
        for _ in 0..<codecOperations { _ = codec.decodeClientFrame(sendText) }
    }
)
results.append(
    try await measure("codec: decode event frame", operations: codecOperations) {
        for _ in 0..<codecOperations { _ = try codec.decodeServerFrame(eventText) }
    }
)
say("event frame: \(eventText.utf8.count) bytes; send request: \(sendText.utf8.count) bytes")

// MARK: Store appends

let appendOperations = 20_000 / scale
results.append(
    try await measurePhase("append: in-memory, 1 writer", operations: appendOperations, runs: 3) {
        let store = InMemoryChatStore()
        let conversation = try await SampleTraffic.conversation(in: store)
        let start = ContinuousClock.now
        for index in 0..<appendOperations {
            _ = try await store.append(conversation.message(index, body: sample.body))
        }
        return ContinuousClock.now - start
    }
)
let sqliteOperations = 2_000 / scale
results.append(
    try await measurePhase("append: SQLite file, 1 writer", operations: sqliteOperations, runs: 3) {
        try await SampleTraffic.appendToNewSQLiteFile(sqliteOperations, body: sample.body)
    }
)

// MARK: The longest append of a large in-memory store

// Not a rate: the in-memory store's structures that grow with every message (its log, a conversation's messages,
// its ID indexes) must not stop the store for long while they grow. One writer appends to one store and the
// longest single append is printed (a Swift array or dictionary that grows all at once shows up here).
let growthAppends = quick ? 50_000 : 1_000_000
if isSelected("append: in-memory, longest") {
    let store = InMemoryChatStore()
    let conversation = try await SampleTraffic.conversation(in: store)
    var longest = Duration.zero
    let start = ContinuousClock.now
    for index in 0..<growthAppends {
        let before = ContinuousClock.now
        _ = try await store.append(conversation.message(index, body: sample.body))
        longest = max(longest, ContinuousClock.now - before)
    }
    let total = ContinuousClock.now - start
    let mean = total / growthAppends
    say(
        "append: in-memory, \(growthAppends) appends to one store: longest single append "
            + "\(longest.formatted(.units(allowed: [.milliseconds], fractionalPart: .show(length: 1)))), "
            + "mean \(mean.formatted(.units(allowed: [.microseconds], fractionalPart: .show(length: 1))))"
    )
}

// MARK: Routing

for receivers in quick ? [10, 100] : [10, 100, 1_000] {
    let events = (quick ? 20 : 200)
    results.append(
        try await measurePhase(
            "route: 1 event to \(receivers) connections", operations: events * receivers, unit: "deliveries", runs: 3
        ) {
            try await RoutingBenchmark.run(receivers: receivers, events: events)
        }
    )
}

report(results)
