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

/// Where a ``ChatClient`` keeps its outbox, so that messages queued and not yet stored by the server survive a
/// restart of the app.
///
/// Give one to ``ChatClient/Configuration/outboxStorage``. The client calls ``load()`` when it is created (and again
/// only after a load failed; see ``load()``), and
/// ``save(_:)`` after every change of the outbox (a message queued, stored, refused, retried or discarded), with
/// every pending and failed message in order. Messages that were on the wire when the app stopped are sent again
/// with the same client message ID, which the server stores once.
///
/// One storage holds one account's outbox: a client loads what it finds and sends it as the user its token names.
/// Give each account a storage of its own (for example a file named after the user's ID), and remove it when the
/// user logs out (once ``ChatClient/run()`` has ended: a running client saves again). One client uses a storage at
/// a time: two running clients, also in two processes (an app and its extension), would overwrite each other's
/// outbox; give each process its own.
///
/// ``FileOutboxStorage`` keeps the outbox in a JSON file. To keep it elsewhere (a database, the keychain), implement
/// both methods and prove them with `OutboxStorageConformance` (the `ChatKitClientTesting` library).
public protocol OutboxStorage: Sendable {
    /// The messages saved last, in their order; empty when nothing was saved yet.
    ///
    /// - Throws: When the saved outbox exists but cannot be read. The client then starts with an empty outbox,
    ///   reports the error as ``ChatClient/outboxStorageError``, and saves nothing (which would replace what could
    ///   not be read) until a load succeeds: it tries again at each change of the outbox, when a session opens and
    ///   when ``ChatClient/run()`` ends, and adds what it then reads to the outbox. A storage that sets unreadable
    ///   data aside (``FileOutboxStorage`` moves the file) lets the next load succeed, empty.
    func load() throws -> [OutgoingMessage]

    /// Replaces the saved outbox with `messages` (pending and failed, in order; empty when the outbox is empty).
    ///
    /// The client calls it one call at a time, on the task or thread of a change of the outbox (a `send`, `queue`,
    /// `retry`, `discard`, or the session's), which waits for it. Changes made meanwhile wait for it to return and
    /// are then saved together, by one more call with the newest outbox, on the thread of one of them: when a burst
    /// of answers completes many messages, the outbox is written a few times, not once per message. Keep it quick all the same: a `queue`
    /// waits for its own save (``FileOutboxStorage`` rewrites the file and flushes it: about 2 ms with a few
    /// messages on a Linux VM, 7 ms on average while a thousand are queued one by one). It must not call the client
    /// back. When it throws, the
    /// client keeps the outbox in memory, reports the error as ``ChatClient/outboxStorageError`` and
    /// saves again at the next change, when a session opens and when ``ChatClient/run()`` ends.
    func save(_ messages: [OutgoingMessage]) throws
}
