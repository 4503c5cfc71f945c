import ChatKitCore
import ChatKitSQLite
import ChatKitTesting
import Testing

@Suite("FTS5 search")
struct SearchTests {
    let store: SQLiteChatStore
    let fixture: StoreFixture

    init() throws {
        store = try SQLiteChatStore(configuration: .inMemory)
        fixture = StoreFixture(store)
    }

    @Test("diacritics and case are ignored on both sides, and prefixes match")
    func foldsDiacritics() async throws {
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        let cafe = try await fixture.send("Meet at the Café Noël", from: alice, to: chat)
        let creme = try await fixture.send("CRÈME BRÛLÉE for dessert", from: bob, to: chat)
        #expect(try await store.search("cafe", as: bob, in: nil, limit: 10).map(\.message.id) == [cafe.id])
        #expect(try await store.search("CAFÉ noel", as: bob, in: nil, limit: 10).map(\.message.id) == [cafe.id])
        #expect(try await store.search("creme brulee", as: alice, in: chat, limit: 10).map(\.message.id) == [creme.id])
        #expect(try await store.search("brû*", as: alice, in: nil, limit: 10).map(\.message.id) == [creme.id])
        #expect(try await store.search("caf", as: alice, in: nil, limit: 10).isEmpty)
        #expect(try await store.search("cafe dessert", as: alice, in: nil, limit: 10).isEmpty)
    }

    @Test("the index follows edits and deletes")
    func followsEditsAndDeletes() async throws {
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        let message = try await fixture.send("the quick brown fox", from: alice, to: chat)
        #expect(try await store.search("fox", as: bob, in: nil, limit: 10).count == 1)
        _ = try await store.editMessage(message.id, body: "the lazy dog", by: alice)
        #expect(try await store.search("fox", as: bob, in: nil, limit: 10).isEmpty)
        let edited = try await store.search("lazy", as: bob, in: nil, limit: 10)
        #expect(edited.map(\.message.body) == ["the lazy dog"])
        _ = try await store.addReaction("👍", to: message.id, by: bob)
        #expect(try await store.search("dog", as: bob, in: nil, limit: 10).first?.message.reactions.count == 1)
        _ = try await store.deleteMessage(message.id, by: alice)
        #expect(try await store.search("dog", as: bob, in: nil, limit: 10).isEmpty)
        #expect(try await store.search("lazy", as: alice, in: chat, limit: 10).isEmpty)
    }

    @Test("only current members find a conversation's messages")
    func restrictedToMembers() async throws {
        let (alice, bob, carol) = (try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol"))
        let group = try await fixture.group(alice, [bob])
        let other = try await fixture.group(carol, [])
        try await fixture.send("secret plans", from: alice, to: group)
        try await fixture.send("secret recipes", from: carol, to: other)
        #expect(try await store.search("secret", as: bob, in: nil, limit: 10).map(\.message.body) == ["secret plans"])
        #expect(try await store.search("secret", as: carol, in: nil, limit: 10).map(\.message.body) == ["secret recipes"])
        await #expect(throws: ChatError.self) { try await store.search("secret", as: carol, in: group, limit: 10) }
        try await store.removeMember(bob, from: group, by: alice)
        #expect(try await store.search("secret", as: bob, in: nil, limit: 10).isEmpty)
    }

    @Test("hits are ranked by bm25 and carry a marked snippet")
    func rankedWithSnippets() async throws {
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        let weak = try await fixture.send(
            "a long message that mentions the harbour once among many other words about weather and trains and food",
            from: alice, to: chat
        )
        let strong = try await fixture.send("harbour harbour: the harbour at dawn", from: alice, to: chat)
        let middle = try await fixture.send("the harbour lights", from: bob, to: chat)
        let hits = try await store.search("harbour", as: bob, in: nil, limit: 10)
        #expect(hits.map(\.message.id) == [strong.id, middle.id, weak.id])
        #expect(hits.first?.snippet == "[harbour] [harbour]: the [harbour] at dawn")
        let long = try #require(hits.last?.snippet)
        #expect(long.contains("[harbour]"))
        #expect(long.count < weak.body.count, "the snippet of a long body is cut: \(long)")
        #expect(try await store.search("harbour", as: bob, in: nil, limit: 2).map(\.message.id) == [strong.id, middle.id])
    }

    @Test("queries with FTS5 syntax characters are taken as words")
    func escapesQuerySyntax() async throws {
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        let message = try await fixture.send("use NEAR and OR and \"quotes\"", from: alice, to: chat)
        for query in ["NEAR", "\"quotes", "OR", "or* AND", "(near)", "quotes\"*", "-use"] {
            let hits = try await store.search(query, as: bob, in: nil, limit: 10)
            #expect(hits.map(\.message.id) == [message.id], "query \(query)")
        }
        #expect(try await store.search("\"\" * ()", as: bob, in: nil, limit: 10).isEmpty)
    }
}
