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

/// Everything ChatKit keeps persistently, in one protocol an adapter author implements once.
///
/// `ChatStore` composes focused protocols: ``UserStore``, ``ContactStore``, ``ConversationStore``,
/// ``MessageStore``, ``MarkerStore``, ``SyncStore``, ``SearchStore`` and ``SessionStore``. Each requirement's documentation says
/// what it guarantees and which ``ChatError`` code each failure carries; ChatKitTesting's
/// `ChatStoreConformance` has a case for each promise (some, such as races, can only be tried, not proven), and its
/// `ReferenceComparison` compares a store with ``InMemoryChatStore`` over long random sequences of calls.
///
/// The guarantees that delivery rests on:
/// 1. ``MessageStore/append(_:)`` returns only after the message is committed, and assigns per-conversation
///    seqs that are strictly increasing and gapless under any concurrency.
/// 2. Appending with a (sender, client message ID) already used returns the first message; there is never a
///    second.
/// 3. Every stored change is an event with a store-wide ``StreamPosition``; ``SyncStore/events(for:after:limit:)``
///    returns each event a user may see exactly once, in position order.
/// 4. A user who is not a member of a conversation reads and writes nothing of it, and cannot tell it exists.
///
/// Implementations must be safe to call from many tasks at once. Backend failures are thrown as
/// ``ChatError`` `.storageFailure` with the backend's error as ``ChatError/underlying``. A call whose task is
/// cancelled may throw `CancellationError` instead of completing, and then it has changed nothing (a backend
/// whose driver reports cancellation with an error of its own should throw `CancellationError` in its place).
///
/// ChatKit ships ``InMemoryChatStore``; `ChatKitSQLite` adds a durable one, `SQLiteChatStore`.
public protocol ChatStore: UserStore, ContactStore, ConversationStore, MessageStore, MarkerStore, SyncStore,
    SearchStore, SessionStore
{}
