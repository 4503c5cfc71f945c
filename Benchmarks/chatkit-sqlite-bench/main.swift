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
//   swift build -c release --product chatkit-sqlite-bench
//   .build/release/chatkit-sqlite-bench [--appends N] [--messages N] [--synchronous normal|full|off]
//       [--directory DIR] [--phases single,own,shared] [--database PATH]
//       [--client-ids time|skewed|random]
//
// --messages 0 runs only the append benchmarks. Files go to a fresh directory under DIR (default: the temporary
// directory), removed at the end.
//
// 1. Appends/s with 1 and 16 concurrent writers (each writer to its own conversation, then all 16 to one). Each
//    writer awaits its own append before sending the next, as a connection does. Client message IDs grow with
//    time, as ChatKit's clients make them, from one clock (`--client-ids skewed`: each writer's clock off by up to
//    ±100 ms, as devices' clocks are; `--client-ids random`: random IDs, as some other client might send).
// 2. Loads a conversation with --messages messages (default 1,000,000), then measures history pages of 50,
//    sync pages of 100, and searches, reporting p50/p99 latencies. With --database PATH the loaded database is
//    kept at PATH, and a later run with the same PATH measures it again without loading.
//
// The program has a synchronous main (it blocks on a semaphore while the benchmark runs in a task) so that it
// also runs under valgrind, which crashes on the way an async main parks the main thread.
import ChatKitCore
import ChatKitSQLite
import Dispatch
import Foundation

struct Options {
    var appends = 100_000
    var messages = 1_000_000
    var synchronous = SQLiteChatStore.Synchronous.normal
    var directory: String?
    var phases: Set<String> = ["single", "own", "shared"]
    var database: String?
    var clientIDs = ClientIDs.Kind.timeOrdered
    var layout = "big"
    var grow = 0
    var rounds = 1
    var batchesLogWrites = true

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--appends": appends = Int(iterator.next() ?? "") ?? appends
            case "--messages": messages = Int(iterator.next() ?? "") ?? messages
            case "--directory": directory = iterator.next()
            case "--database": database = iterator.next()
            case "--layout": layout = iterator.next() == "spread" ? "spread" : "big"
            case "--grow": grow = Int(iterator.next() ?? "") ?? grow
            case "--rounds": rounds = max(1, Int(iterator.next() ?? "") ?? rounds)
            case "--log-batching": batchesLogWrites = iterator.next() != "off"
            case "--client-ids":
                switch iterator.next() {
                case "random": clientIDs = .random
                case "skewed": clientIDs = .skewed
                default: clientIDs = .timeOrdered
                }
            case "--phases": phases = Set((iterator.next() ?? "").split(separator: ",").map(String.init))
            case "--synchronous":
                switch iterator.next() {
                case "full": synchronous = .full
                case "off": synchronous = .off
                default: synchronous = .normal
                }
            case "--help", "-h":
                say(
                    """
                    usage: chatkit-sqlite-bench [--appends N] [--messages N] [--synchronous normal|full|off]
                                                [--directory DIR] [--phases single,own,shared] [--database PATH]
                                                [--client-ids time|skewed|random] [--layout big|spread]
                                                [--rounds N] [--log-batching on|off]
                      --appends N      appends of the 16-writer phases (the 1-writer phase does N/4); default 100000
                      --messages N     messages of the read benchmarks; 0 skips them; default 1000000
                      --synchronous    durability of the stores; default normal (the store's default)
                      --directory DIR  where the append databases go (a fresh subdirectory, removed at the end)
                      --phases LIST    which append phases run: single (1 writer), own (16 writers, own
                                       conversations), shared (16 writers, one conversation); default all
                      --database PATH  keep the read-benchmark database at PATH; reuse it if already loaded
                      --client-ids     time: client message IDs grow with time, as ChatKit's clients make them
                                       (ClientMessageID.timeOrdered()), all from this machine's clock; skewed:
                                       the same, each writer's clock off by a random offset within ±100 ms;
                                       random: 128 random bits; default time
                      --layout         the read benchmarks' database: big (one conversation of 98 % of the
                                       messages, 20 small ones) or spread (1,000 users, 2,000 conversations of
                                       falling sizes; searches by users drawn at random); default big
                      --log-batching   on: each commit reaches the log in one write (the store's default);
                                       off: two writes per page, as SQLite's own VFS writes them
                      --rounds N       append phases: N bursts on the same store, each reported (from the
                                       second on, the file and its log exist, as on a server in use); default 1
                      --grow N         spread layout: append N more messages first (to the conversations in
                                       proportion to their sizes), as a server in use does, so that the search
                                       index holds the segments its catch-ups leave (a loaded file may hold one)
                    """
                )
                exit(0)
            default:
                say("unknown argument \(argument) (see --help)")
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

func openStore(path: String) throws -> SQLiteChatStore {
    var configuration = SQLiteChatStore.Configuration(path: path)
    configuration.synchronous = options.synchronous
    configuration.batchesLogWrites = options.batchesLogWrites
    return try SQLiteChatStore(configuration: configuration)
}

func openStore(_ name: String) throws -> SQLiteChatStore {
    try openStore(path: directory.appendingPathComponent(name).path)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Percentiles of latencies, in milliseconds, by nearest rank (the smallest sample with at least the share `p` of
/// samples at or below it). With fewer than 100 samples the p99 is the largest: read it as the maximum of n.
func report(_ name: String, _ samples: [Duration]) {
    let sorted = samples.map(seconds).sorted()
    func percentile(_ p: Double) -> Double {
        sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))] * 1000
    }
    say(
        String(
            format: "%@: n=%d p50 %.3f ms, p99 %.3f ms, max %.3f ms",
            name, sorted.count, percentile(0.5), percentile(0.99), sorted.last! * 1000
        )
    )
}

/// Client message IDs as the writers' clients would make them: time-ordered, as `ClientMessageID.timeOrdered()`
/// makes them (the default), from this machine's clock or from clocks that are off by up to ±100 ms (devices'
/// clocks differ), or 128 random bits, as random as UUIDs, for clients that send those. The random ones come
/// from a seeded generator, without the system call per ID that `ClientMessageID.random()` costs: that is the
/// client's work, and would otherwise take a tenth of the CPU this benchmark measures.
struct ClientIDs {
    enum Kind: String {
        case timeOrdered = "time-ordered"
        case skewed = "time-ordered, clocks off by up to ±100 ms"
        case random
    }

    let kind: Kind
    private var random = SplitMix64(seed: UInt64.random(in: .min ... .max))
    private let timeOrdered = TimeOrderedUUIDGenerator()
    /// This writer's clock error, for `.skewed`.
    private let offset = Double.random(in: -0.1...0.1)

    init(_ kind: Kind) { self.kind = kind }

    mutating func next() -> ClientMessageID {
        switch kind {
        case .timeOrdered: ClientMessageID(rawValue: timeOrdered.next())
        case .skewed: ClientMessageID(rawValue: timeOrdered.next(at: Date().addingTimeInterval(offset)))
        case .random: ClientMessageID(rawValue: UUIDText.lowercase(random.next(), random.next()))
        }
    }
}

/// Appends `total` messages from `writers` concurrent tasks; `shared` puts them all in one conversation.
func appendThroughput(writers: Int, total: Int, shared: Bool) async throws {
    let clientIDKind = options.clientIDs
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
    for round in 0..<options.rounds {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for writer in 0..<writers {
                let (user, conversation) = (users[writer], conversations[writer])
                tasks.addTask {
                    var clientIDs = ClientIDs(clientIDKind)
                    for number in round * perWriter..<(round + 1) * perWriter {
                        _ = try await store.append(
                            NewMessage(
                                conversationID: conversation, senderID: user, clientMessageID: clientIDs.next(),
                                body: "writer \(writer) sends message number \(number) with a few more words"
                            )
                        )
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let elapsed = seconds(ContinuousClock.now - start)
        // New messages are indexed for search in the background, in batches; a search indexes what is left first.
        // Timing the first search shows the indexing work the append figure does not include.
        let searchStart = ContinuousClock.now
        _ = try await store.search("sends", as: users[0], in: nil, limit: 1)
        let search = seconds(ContinuousClock.now - searchStart)
        say(
            String(
                format: "appends, %2d writer(s), %@: %d in %.2f s = %.0f appends/s (first search after: %.1f ms)%@",
                writers, shared ? "one conversation " : "own conversations", perWriter * writers, elapsed,
                Double(perWriter * writers) / elapsed, search * 1000,
                options.rounds > 1 ? ", round \(round + 1)" : ""
            )
        )
    }
}

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

/// A store with one big conversation among 20 small ones, loaded with `messages` messages by 32 concurrent
/// writers, or the one kept at `--database` by an earlier run.
func readStore() async throws -> (store: SQLiteChatStore, alice: UserID, bob: UserID, big: ConversationID) {
    let path = options.database ?? directory.appendingPathComponent("big.sqlite").path
    let openStart = ContinuousClock.now
    let store = try openStore(path: path)
    if let alice = try await store.user(username: "alice"),
        let big = try await store.conversations(of: alice.id).first(where: { $0.conversation.title == "big" }),
        let bob = try await store.user(username: "bob")
    {
        say(
            String(
                format: "reusing %@ (%d messages in the big conversation), opened in %.2f s", path,
                big.conversation.lastSeq, seconds(ContinuousClock.now - openStart)
            )
        )
        return (store, alice.id, bob.id, big.conversation.id)
    }
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
            tasks.addTask { [small] in
                var generator = SystemRandomNumberGenerator()
                for number in 0..<perLoader {
                    let conversation = number % 50 == 0 ? small[number % small.count] : big
                    _ = try await store.append(
                        NewMessage(
                            conversationID: conversation, senderID: loader.isMultiple(of: 2) ? alice : bob,
                            body: randomBody(&generator) + (number % 1000 == 0 ? " needle" : "")
                        )
                    )
                }
            }
        }
        try await tasks.waitForAll()
    }
    let loaded = try await store.conversation(big, as: alice).lastSeq
    say(
        String(
            format: "loaded %d messages (%d in the big conversation) in %.1f s", options.messages, loaded,
            seconds(ContinuousClock.now - loadStart)
        )
    )
    return (store, alice, bob, big)
}

let vocabulary = (0..<5000).map { "word\($0)" }

/// carol, a member of "small 0" and "small 1" only (added to a database loaded by an earlier version of this tool).
func smallConversationsUser(_ store: SQLiteChatStore, alice: UserID) async throws -> UserID {
    if let carol = try await store.user(username: "carol") { return carol.id }
    let carol = try await store.createUser(NewUser(username: "carol"), passwordHash: nil).id
    let owner = try await store.user(username: "bob")!.id
    let conversations = try await store.conversations(of: alice)
    for summary in conversations where ["small 0", "small 1"].contains(summary.conversation.title) {
        _ = try await store.addMembers([carol], to: summary.conversation.id, role: .member, by: owner)
    }
    return carol
}

/// dave, a member of every small conversation (added to a database loaded by an earlier version of this tool).
func allSmallConversationsUser(_ store: SQLiteChatStore, alice: UserID) async throws -> UserID {
    if let dave = try await store.user(username: "dave") { return dave.id }
    let dave = try await store.createUser(NewUser(username: "dave"), passwordHash: nil).id
    let owner = try await store.user(username: "bob")!.id
    let conversations = try await store.conversations(of: alice)
    for summary in conversations where summary.conversation.title?.hasPrefix("small ") == true {
        _ = try await store.addMembers([dave], to: summary.conversation.id, role: .member, by: owner)
    }
    return dave
}

func readBenchmarks() async throws {
    var generator = SystemRandomNumberGenerator()
    let (store, alice, bob, big) = try await readStore()
    let loaded = try await store.conversation(big, as: alice).lastSeq
    try await measure("history page of 50, latest", count: 2000) {
        _ = try await store.messages(in: big, .latest(limit: 50), as: alice)
    }
    try await measure("history page of 50, random position", count: 2000) {
        _ = try await store.messages(
            in: big, .before(Int64.random(in: 51...loaded, using: &generator), limit: 50), as: alice
        )
    }
    let latest = try await store.latestPosition().rawValue
    try await measure("sync page of 100, random cursor", count: 2000) {
        let cursor = StreamPosition(Int64.random(in: 0..<(latest - 100), using: &generator))
        _ = try await store.events(for: bob, after: cursor, limit: 100)
    }
    // Half of the big conversation's messages are bob's: alice has about half a million unread there.
    try await measure("conversation list of 21, one with ~500k unread", count: 50) {
        _ = try await store.conversations(of: alice, before: nil, limit: 50)
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
    try await measure("search, prefix wo* (every word: a prefix index), limit 20", count: 50) {
        _ = try await store.search("wo*", as: alice, in: nil, limit: 20)
    }
    try await measure("search, prefix word1* (1,111 words: more than 256), limit 20", count: 50) {
        _ = try await store.search("word1*", as: alice, in: nil, limit: 20)
    }
    try await measure("search, word and prefix: needle word1*, limit 20", count: 50) {
        _ = try await store.search("needle word1*", as: alice, in: nil, limit: 20)
    }
    try await measure("search, prefix word1* in the big conversation, limit 20", count: 50) {
        _ = try await store.search("word1*", as: alice, in: big, limit: 20)
    }
    try await measure("search, prefix word12*, limit 20", count: 50) {
        _ = try await store.search("word12*", as: alice, in: nil, limit: 20)
    }
    // Searches whose scope is small next to the word's postings: one small conversation (about 2 % of the
    // messages), and a user who is in two small conversations only.
    let small = try await store.conversations(of: alice).first { $0.conversation.title == "small 0" }!.conversation
    try await measure("search, common word in one small conversation, limit 20", count: 50) {
        _ = try await store.search("word0", as: alice, in: small.id, limit: 20)
    }
    try await measure("search, rare word in one small conversation, limit 20", count: 50) {
        _ = try await store.search("needle", as: alice, in: small.id, limit: 20)
    }
    let carol = try await smallConversationsUser(store, alice: alice)
    try await measure("search, common word by a user of two small conversations, limit 20", count: 50) {
        _ = try await store.search("word0", as: carol, in: nil, limit: 20)
    }
    try await measure("search, rare word by a user of two small conversations, limit 20", count: 50) {
        _ = try await store.search("needle", as: carol, in: nil, limit: 20)
    }
    // A mid-sized scope: a member of all 20 small conversations (about 2 % of the messages, 20,000 of them, in the
    // two the loader fills: "small 0" and "small 10"), with words of middling frequency, whose matches in the
    // scope are too few for the newest 10,000 to hold 2,000.
    let dave = try await allSmallConversationsUser(store, alice: alice)
    for (word, share) in [("word5", "~5 %"), ("word20", "~2 %"), ("word100", "~0.7 %")] {
        try await measure("search, \(word) (\(share) of messages) by a member of every small conversation", count: 50) {
            _ = try await store.search(word, as: dave, in: nil, limit: 20)
        }
    }
    try store.close()
}

func run() async throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    say("synchronous = \(options.synchronous), client message IDs: \(options.clientIDs.rawValue)")
    if options.phases.contains("single") {
        try await appendThroughput(writers: 1, total: options.appends / 4, shared: false)
    }
    if options.phases.contains("own") {
        try await appendThroughput(writers: 16, total: options.appends, shared: false)
    }
    if options.phases.contains("shared") {
        try await appendThroughput(writers: 16, total: options.appends, shared: true)
    }
    if options.messages > 0 {
        if options.layout == "spread" { try await spreadBenchmarks() } else { try await readBenchmarks() }
    }
}

// Detached: a plain `Task` here would inherit the main actor, whose thread is the one blocked on the semaphore.
let finished = DispatchSemaphore(value: 0)
Task.detached {
    do {
        try await run()
    } catch {
        say("failed: \(error)")
        exit(1)
    }
    finished.signal()
}
finished.wait()
