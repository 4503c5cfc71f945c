public import ChatKitCore

/// The conformance suite of ``ChatKitCore/ChatStore``: every promise the protocol documents, as named cases.
///
/// Run it from your adapter's tests. Each case gets a fresh, empty store from your factory.
///
/// With Swift Testing:
/// ```swift
/// import ChatKitTesting
/// import Testing
///
/// @Test(arguments: ChatStoreConformance.cases)
/// func conformance(_ check: ChatStoreConformance.Case) async throws {
///     try await check.run { try await MyChatStore.makeEmpty() }
/// }
/// ```
///
/// With XCTest:
/// ```swift
/// func testConformance() async throws {
///     let failures = await ChatStoreConformance.failures { try await MyChatStore.makeEmpty() }
///     XCTAssertTrue(failures.isEmpty, failures.map(\.description).joined(separator: "\n"))
/// }
/// ```
public enum ChatStoreConformance {
    /// Creates a fresh, empty store for one case.
    public typealias StoreFactory = @Sendable () async throws -> any ChatStore

    /// One named check of the contract.
    public struct Case: Sendable, CustomStringConvertible, Hashable {
        /// The area of the contract (`"messages"`, `"sync"`, …).
        public let area: String
        /// What the case checks, as a sentence.
        public let name: String
        let body: @Sendable (any ChatStore) async throws -> Void

        /// Creates a case; the suite's cases are in ``ChatStoreConformance/cases``.
        public init(_ area: String, _ name: String, _ body: @escaping @Sendable (any ChatStore) async throws -> Void) {
            self.area = area
            self.name = name
            self.body = body
        }

        /// `area: name`.
        public var description: String { "\(area): \(name)" }

        /// Runs the case against a fresh store from `makeStore`.
        ///
        /// - Throws: ``ConformanceFailure`` when the store breaks the contract; an unexpected error from the store
        ///   is reported as a failure too, with the error in the message.
        public func run(_ makeStore: StoreFactory) async throws {
            let store = try await makeStore()
            do {
                try await body(store)
            } catch var failure as ConformanceFailure {
                failure.caseName = description
                throw failure
            } catch {
                throw ConformanceFailure("unexpected error: \(error)", caseName: description)
            }
        }

        public static func == (lhs: Case, rhs: Case) -> Bool { lhs.description == rhs.description }
        public func hash(into hasher: inout Hasher) { hasher.combine(description) }
    }

    /// Every case of the suite.
    public static var cases: [Case] {
        userCases + contactCases + conversationCases + membershipCases + messageCases + historyCases
            + concurrencyCases + markerCases + syncCases + routingCases + searchCases + textCases + sessionCases
    }

    /// Runs every case (or the given ones) and returns the failures; empty when the store conforms.
    public static func failures(of cases: [Case] = cases, _ makeStore: StoreFactory) async -> [ConformanceFailure] {
        var failures: [ConformanceFailure] = []
        for check in cases {
            do {
                try await check.run(makeStore)
            } catch let failure as ConformanceFailure {
                failures.append(failure)
            } catch {
                failures.append(ConformanceFailure("could not create the store: \(error)", caseName: check.description))
            }
        }
        return failures
    }
}
