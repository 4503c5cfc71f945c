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

import Foundation

extension ClientFrame {
    /// The frame as JSON text, the same bytes as `JSONEncoder` with ``WireCodec``'s settings writes: `send`, the
    /// request clients make most, is written by hand (`JSONTextWriter`, keys in sorted order), the others
    /// through `JSONEncoder`.
    func jsonText() throws -> String {
        guard case .send(let send) = request else {
            return String(decoding: try WireCodec.makeEncoder().encode(self), as: UTF8.self)
        }
        var writer = JSONTextWriter(capacity: 128 + send.body.utf8.count)
        writer.object { writer in
            writer.field("attachments", send.attachments) { writer, attachments in
                writer.array(attachments) { writer, attachment in attachment.write(to: &writer) }
            }
            writer.field("body", send.body)
            writer.field("clientMessageID", send.clientMessageID)
            writer.field("conversationID", send.conversationID)
            writer.field("id", id)
            writer.field("mentions", send.mentions)
            writer.field("replyTo", send.replyTo)
            writer.field("type", "send")
        }
        return writer.text
    }
}
