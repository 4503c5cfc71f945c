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

public import ChatKitClient
public import ChatKitTesting
import ChatKitCore

/// The conformance suite of ``ChatKitClient/OutboxStorage``: what ``ChatKitClient/ChatClient`` relies on from any
/// place that keeps its outbox.
///
/// Describe your storage as a ``Subject``: a function that opens it over one place that starts empty for each case,
/// and that a second call opens again (as a restarted app would), so that the suite can check what survives.
///
/// ```swift
/// @Test(arguments: OutboxStorageConformance.cases)
/// func conformance(_ check: OutboxStorageConformance.Case) async throws {
///     let file = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID()).json")
///     try await check.run { OutboxStorageConformance.Subject { FileOutboxStorage(fileURL: file) } }
/// }
/// ```
public enum OutboxStorageConformance {
    /// A storage, opened as often as a case needs, always over the same place.
    public struct Subject: Sendable {
        /// Opens the storage over the case's place; each call stands for a new run of the app.
        public var open: @Sendable () throws -> any OutboxStorage
        /// Damages what the place holds (for example overwrites a file with bytes that are not an outbox), as a
        /// bad disk or another program would; `nil` skips the case about unreadable data.
        public var corrupt: (@Sendable () throws -> Void)?

        /// Creates a subject.
        ///
        /// - Parameters:
        ///   - corrupt: Damages what the place holds; `nil` if the suite cannot do that to your storage.
        ///   - open: Opens the storage over one place, empty before the case's first save.
        public init(
            corrupt: (@Sendable () throws -> Void)? = nil, open: @escaping @Sendable () throws -> any OutboxStorage
        ) {
            self.open = open
            self.corrupt = corrupt
        }
    }

    /// One named check, run against a fresh subject.
    public typealias Case = ConformanceCase<Subject>

    /// Every case of the suite.
    public static var cases: [Case] {
        [
            Case("outbox storage", "a place nothing was saved to loads an empty outbox") { subject in
                try checkEqual(try subject.open().load(), [], "the outbox loaded before any save")
            },
            Case("outbox storage", "what is saved loads back after a restart, in order, requests and failures whole") {
                subject in
                let saved = sampleMessages()
                try subject.open().save(saved)
                try checkEqual(try subject.open().load(), saved, "the outbox loaded by a new storage")
            },
            Case("outbox storage", "each save replaces the whole outbox") { subject in
                let storage = try subject.open()
                let messages = sampleMessages()
                try storage.save(messages)
                try storage.save(Array(messages.dropFirst()))
                try checkEqual(try subject.open().load(), Array(messages.dropFirst()), "after saving fewer messages")
                try storage.save([])
                try checkEqual(try subject.open().load(), [], "after saving an empty outbox")
                try storage.save(messages.reversed())
                try checkEqual(try subject.open().load(), messages.reversed(), "after saving them in another order")
            },
            Case("outbox storage", "unreadable data fails the load (set aside or not), never loading as empty") {
                subject in
                // Only for a subject that can damage its place.
                guard let corrupt = subject.corrupt else { return }
                try subject.open().save(sampleMessages())
                try corrupt()
                // An empty outbox loaded from damaged data would have the client save over what could be rescued.
                let loaded: [OutgoingMessage]
                do {
                    loaded = try subject.open().load()
                } catch {
                    // Thrown, as it must be. Either it throws again, or it set the data aside: then it loads empty.
                    if let again = try? subject.open().load() {
                        try checkEqual(again, [], "the outbox loaded after the damaged data was set aside")
                    }
                    return
                }
                throw ConformanceFailure("loading damaged data returned \(loaded.count) message(s) instead of throwing")
            },
            Case("outbox storage", "a long outbox keeps its order") { subject in
                let messages = (0..<1_000).map { number in
                    OutgoingMessage(
                        request: .init(
                            conversationID: ConversationID(rawValue: "c-\(number % 7)"),
                            clientMessageID: ClientMessageID(rawValue: "m-\(number)"),
                            body: "message number \(number)"
                        ),
                        state: number % 10 == 9 ? .failed : .pending,
                        failureCode: number % 10 == 9 ? .forbidden : nil,
                        failureReason: number % 10 == 9 ? "not a member" : nil,
                        failureServerCode: number % 10 == 9 ? "forbidden" : nil
                    )
                }
                try subject.open().save(messages)
                try checkEqual(try subject.open().load(), messages, "1,000 messages loaded back")
            },
        ]
    }

    /// The messages the suite saves, for tests of your own: a pending message with every optional field, one with
    /// text outside ASCII and characters JSON escapes, and a failed one with its code and reason.
    public static func sampleMessages() -> [OutgoingMessage] {
        let conversation = ConversationID(rawValue: "c-team")
        return [
            OutgoingMessage(
                request: .init(
                    conversationID: conversation, clientMessageID: ClientMessageID(rawValue: "m-1"),
                    body: "See the plan, @bob", replyTo: MessageID(rawValue: "msg-41"),
                    mentions: [UserID(rawValue: "u-bob")],
                    attachments: [
                        Attachment(
                            id: AttachmentID(rawValue: "a-1"), fileName: "plan.png", contentType: "image/png",
                            byteCount: 48_213, width: 640, height: 480
                        )
                    ]
                ),
                state: .pending
            ),
            OutgoingMessage(
                request: .init(
                    conversationID: conversation, clientMessageID: ClientMessageID(rawValue: "m-2"),
                    body: "Grüße 👋 \"quoted\"\nnew line\\ and a tab\t"
                ),
                state: .pending
            ),
            OutgoingMessage(
                request: .init(
                    conversationID: ConversationID(rawValue: "c-left"),
                    clientMessageID: ClientMessageID(rawValue: "m-3"), body: "too late"
                ),
                state: .failed, failureCode: .notFound, failureReason: "The conversation does not exist.",
                failureServerCode: "notFound"
            ),
        ]
    }
}
