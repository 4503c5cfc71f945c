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

// Micro-benchmarks of SQLiteChatStore. Not tests: run in release and read the numbers.
//
//   swift run -c release chatkit-sqlite-bench [--appends N] [--messages N] [--synchronous normal|full|off]
//       [--directory DIR]
//
// --messages 0 runs only the append benchmarks. Files go to a fresh directory under DIR (default: the temporary
// directory), removed at the end.
//
// 1. Appends/s with 1 and 16 concurrent writers (each writer to its own conversation, then all 16 to one).
// 2. Loads a conversation with --messages messages (default 1,000,000), then measures history pages of 50,
//    sync pages of 100, and searches, reporting p50/p99 latencies.
import ChatKitCore
import ChatKitSQLite
import Foundation

struct Options {
    var appends = 100_000
    var messages = 1_000_000
    var synchronous = SQLiteChatStore.Synchronous.normal
    var directory: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--appends": appends = Int(iterator.next() ?? "") ?? appends
            case "--messages": messages = Int(iterator.next() ?? "") ?? messages
            case "--directory": directory = iterator.next()
            case "--synchronous":
                switch iterator.next() {
                case "full": synchronous = .full
                case "off": synchronous = .off
                default: synchronous = .normal
                }
            default:
                say("unknown argument \(argument)")
                exit(2)
            }
        }
    }
}

/// Prints a line at once (also when the output goes to a file, to follow progress).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let options = Options(CommandLine.arguments)
let directory = URL(fileURLWithPath: options.directory ?? NSTemporaryDirectory())
    .appendingPathComponent("chatkit-sqlite-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

func openStore(_ name: String) throws -> SQLiteChatStore {
    var configuration = SQLiteChatStore.Configuration(path: directory.appendingPathComponent(name).path)
    configuration.synchronous = options.synchronous
    return try SQLiteChatStore(configuration: configuration)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Percentiles of latencies, in milliseconds.
func report(_ name: String, _ samples: [Duration]) {
    let sorted = samples.map(seconds).sorted()
    func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
    say(
        String(
            format: "%@: n=%d p50 %.3f ms, p99 %.3f ms, max %.3f ms",
            name, sorted.count, percentile(0.5), percentile(0.99), sorted.last! * 1000
        )
    )
}

/// Appends `total` messages from `writers` concurrent tasks; `shared` puts them all in one conversation.
func appendThroughput(writers: Int, total: Int, shared: Bool) async throws {
    let store = try openStore("appends-\(writers)-\(shared).sqlite")
    defer { try? store.close() }
    var users: [UserID] = []
    for index in 0..<writers {
        users.append(try await store.createUser(NewUser(username: "writer\(index)"), passwordHash: nil).id)
    }
    var conversations: [ConversationID] = []
    if shared {
        let group = try await store.createConversation(.group("shared", createdBy: users[0], members: users))
        conversations = Array(repeating: group.id, count: writers)
    } else {
        for user in users {
            conversations.append(try await store.createConversation(.group("own", createdBy: user)).id)
        }
    }
    let perWriter = total / writers
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        for writer in 0..<writers {
            let (user, conversation) = (users[writer], conversations[writer])
            tasks.addTask {
                for number in 0..<perWriter {
                    _ = try await store.append(
                        NewMessage(
                            conversationID: conversation, senderID: user,
                            body: "writer \(writer) sends message number \(number) with a few more words"
                        )
                    )
                }
            }
        }
        try await tasks.waitForAll()
    }
    let elapsed = seconds(ContinuousClock.now - start)
    say(
        String(
            format: "appends, %2d writer(s), %@: %d in %.2f s = %.0f appends/s",
            writers, shared ? "one conversation " : "own conversations", perWriter * writers, elapsed,
            Double(perWriter * writers) / elapsed
        )
    )
}

say("synchronous = \(options.synchronous)")
try await appendThroughput(writers: 1, total: options.appends / 4, shared: false)
try await appendThroughput(writers: 16, total: options.appends, shared: false)
try await appendThroughput(writers: 16, total: options.appends, shared: true)

if options.messages == 0 {
    try? FileManager.default.removeItem(at: directory)
    exit(0)
}

// A store with one big conversation among a few others, and words to search for.
let vocabulary = (0..<5000).map { "word\($0)" }
var generator = SystemRandomNumberGenerator()
let store = try openStore("big.sqlite")
let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil).id
let bob = try await store.createUser(NewUser(username: "bob"), passwordHash: nil).id
let big = try await store.createConversation(.group("big", createdBy: alice, members: [bob])).id
var small: [ConversationID] = []
for index in 0..<20 {
    small.append(try await store.createConversation(.group("small \(index)", createdBy: bob, members: [alice])).id)
}
let loadStart = ContinuousClock.now
let loaders = 32
let perLoader = options.messages / loaders
try await withThrowingTaskGroup(of: Void.self) { tasks in
    for loader in 0..<loaders {
        tasks.addTask { [vocabulary, small] in
            var generator = SystemRandomNumberGenerator()
            for number in 0..<perLoader {
                // Zipf-like word choice: low word numbers are common, high ones rare.
                let words = (0..<8).map { _ in
                    vocabulary[Int(pow(Double.random(in: 0..<1, using: &generator), 3) * Double(vocabulary.count))]
                }
                let conversation = number % 50 == 0 ? small[number % small.count] : big
                _ = try await store.append(
                    NewMessage(
                        conversationID: conversation, senderID: loader.isMultiple(of: 2) ? alice : bob,
                        body: words.joined(separator: " ") + (number % 1000 == 0 ? " needle" : "")
                    )
                )
            }
        }
    }
    try await tasks.waitForAll()
}
let loaded = try await store.conversation(big, as: alice).lastSeq
say(
    String(format: "loaded %d messages (%d in the big conversation) in %.1f s", options.messages, loaded,
        seconds(ContinuousClock.now - loadStart))
)

func measure(_ name: String, count: Int, _ body: () async throws -> Void) async throws {
    for _ in 0..<20 { try await body() }  // warm up caches and statements
    var samples: [Duration] = []
    for _ in 0..<count {
        let start = ContinuousClock.now
        try await body()
        samples.append(ContinuousClock.now - start)
    }
    report(name, samples)
}

try await measure("history page of 50, latest", count: 2000) {
    _ = try await store.messages(in: big, .latest(limit: 50), as: alice)
}
try await measure("history page of 50, random position", count: 2000) {
    _ = try await store.messages(in: big, .before(Int64.random(in: 51...loaded, using: &generator), limit: 50), as: alice)
}
let latest = try await store.latestPosition().rawValue
try await measure("sync page of 100, random cursor", count: 2000) {
    let cursor = StreamPosition(Int64.random(in: 0..<(latest - 100), using: &generator))
    _ = try await store.events(for: bob, after: cursor, limit: 100)
}
try await measure("search, rare word (~1k hits), limit 20", count: 500) {
    _ = try await store.search("needle", as: alice, in: nil, limit: 20)
}
try await measure("search, random word, limit 20", count: 500) {
    _ = try await store.search(vocabulary.randomElement(using: &generator)!, as: alice, in: nil, limit: 20)
}
try await measure("search, common word (most messages), limit 20", count: 500) {
    _ = try await store.search("word0", as: alice, in: nil, limit: 20)
}
try await measure("search, two words, limit 20", count: 500) {
    let words = (0..<2).map { _ in vocabulary[Int.random(in: 0..<500, using: &generator)] }
    _ = try await store.search(words.joined(separator: " "), as: alice, in: nil, limit: 20)
}
try await measure("search, prefix word12*, limit 20", count: 500) {
    _ = try await store.search("word12*", as: alice, in: nil, limit: 20)
}
try store.close()
