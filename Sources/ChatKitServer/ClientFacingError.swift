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
import Logging

extension ChatError {
    /// The sentence clients get for a storage failure.
    static let storageFailureToldToClients =
        "The server could not read or write its storage; try again later. The server's log says why."

    /// The error as a client is told it.
    ///
    /// A `.storageFailure`'s reason is written for the server's operator (the database file is corrupt: restore it
    /// from a backup; the disk is full; an event vanished at position N) and may describe the server's insides, so a
    /// client gets a general sentence with the same code instead, and the operator the reason in the log
    /// (``loggedForOperator(_:)``). Every other code's reason is about the request and goes out as it is.
    var toldToClients: ChatError {
        guard code == .storageFailure else { return self }
        var told = ChatError(.storageFailure, Self.storageFailureToldToClients)
        told.retryAfter = retryAfter
        return told
    }

    /// Logs a storage failure's reason at error level (what the client is not told); other codes are the
    /// client's business and are not logged here (``loggable``), nor is an error already as told to clients (its
    /// reason was logged when it was made so, by `ChatServer.answerable`).
    func loggedForOperator(_ logger: Logger, _ metadata: Logger.Metadata = [:]) {
        guard code == .storageFailure, reason != Self.storageFailureToldToClients else { return }
        var metadata = metadata
        metadata["chatkit.error"] = "\(loggable)"
        logger.error("A request failed in storage", metadata: metadata)
    }

    /// The error as logs may hold it: its code, its reason (written by ChatKit or a store, never with message
    /// bodies, passwords or tokens) and the type of the underlying error, not its description, which may quote
    /// stored data (GRDB's row-decoding errors print the row).
    var loggable: String {
        var text = "ChatError.\(code)"
        if let reason { text += ": \(reason)" }
        if let underlying { text += " (underlying: \(type(of: underlying)))" }
        return text
    }
}

/// `error` as logs may hold it: a ``ChatKitCore/ChatError`` as ``ChatKitCore/ChatError/loggable``, anything else by
/// its type only (its description could carry request content or stored data).
func loggableDescription(of error: any Error) -> String {
    (error as? ChatError)?.loggable ?? "\(type(of: error))"
}
