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

/// Encodes and decodes frames as JSON text, the way both ends of a ChatKit connection do.
///
/// Dates travel as integer milliseconds since 1970 (stores keep millisecond precision, so values round-trip
/// exactly). Decoding a client frame never throws: a frame that cannot be read becomes a
/// ``FrameDecodingFailure`` saying why, with the request ID when one could be read, so the server can answer
/// with an error frame and carry on.
public struct WireCodec: Sendable {
    /// The largest frame ``decodeClientFrame(_:)`` accepts, in UTF-8 bytes.
    public var maxFrameBytes: Int

    /// Creates a codec.
    /// - Parameter maxFrameBytes: The largest frame accepted; larger ones fail with `limitExceeded`.
    public init(maxFrameBytes: Int = 1 << 20) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// A client frame that could not be read.
    public struct FrameDecodingFailure: Error, Sendable {
        /// The request ID, if the frame had a readable one.
        public var id: String?
        /// Why it could not be read: `invalidArgument` or `limitExceeded`.
        public var error: ChatError
    }

    /// Encodes a frame as JSON text.
    public func encode(_ frame: ServerFrame) throws -> String {
        try frame.jsonText()
    }

    /// Encodes a frame as JSON text.
    public func encode(_ frame: ClientFrame) throws -> String {
        try frame.jsonText()
    }

    /// Decodes a server frame.
    ///
    /// - Throws: ``ChatError`` `.invalidArgument` when the text is not a server frame.
    public func decodeServerFrame(_ text: String) throws -> ServerFrame {
        do {
            return try Self.makeDecoder().decode(ServerFrame.self, from: Data(text.utf8))
        } catch {
            throw ChatError(.invalidArgument, "Malformed server frame: \(Self.explain(error)).", underlying: error)
        }
    }

    /// Decodes a client frame, or says why it cannot be read.
    public func decodeClientFrame(_ text: String) -> Result<ClientFrame, FrameDecodingFailure> {
        let size = text.utf8.count
        // The requests clients send most, read without JSONDecoder when they are plain (see `parseCommon`).
        if size <= maxFrameBytes, let frame = ClientFrame.parseCommon(text) { return .success(frame) }
        let data = Data(text.utf8)
        let decoder = Self.makeDecoder()
        // What clients send: an identifier holding U+0000 would name another in SQLite (`ChatIdentifier`).
        decoder.userInfo[.refusesNULIdentifiers] = true
        // The common case, a well-formed request within the limit, decodes once; the envelope is read only to
        // explain a refusal, with the error of this first try (a malformed frame is read twice, not three times).
        var requestError: (any Error)?
        if size <= maxFrameBytes {
            do {
                let frame = try decoder.decode(ClientFrame.self, from: data)
                if !frame.id.isEmpty { return .success(frame) }
            } catch {
                requestError = error
            }
        }
        let envelope = try? decoder.decode(Envelope.self, from: data)
        guard size <= maxFrameBytes else {
            // The transport already bounds frame size; reading the ID lets the client match the refusal.
            return .failure(
                FrameDecodingFailure(
                    id: envelope?.id,
                    error: ChatError(.limitExceeded, "The frame has \(size) bytes; the limit is \(maxFrameBytes).")
                )
            )
        }
        guard let envelope else {
            return .failure(
                FrameDecodingFailure(id: nil, error: ChatError(.invalidArgument, "The frame is not a JSON object."))
            )
        }
        guard let id = envelope.id, !id.isEmpty else {
            return .failure(
                FrameDecodingFailure(
                    id: nil, error: ChatError(.invalidArgument, "Every request needs a non-empty string 'id'.")
                )
            )
        }
        guard let type = envelope.type else {
            return .failure(
                FrameDecodingFailure(id: id, error: ChatError(.invalidArgument, "The frame has no string 'type'."))
            )
        }
        do {
            if let requestError { throw requestError }
            return .success(try decoder.decode(ClientFrame.self, from: data))
        } catch {
            return .failure(
                FrameDecodingFailure(
                    id: id,
                    error: ChatError(.invalidArgument, "Malformed '\(type)' request: \(Self.explain(error)).")
                )
            )
        }
    }

    private struct Envelope: Decodable {
        var type: String?
        var id: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: FrameKey.self)
            type = try? container.decode(String.self, forKey: .type)
            id = try? container.decode(String.self, forKey: .id)
        }
    }

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        }
        return encoder
    }

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let milliseconds = try decoder.singleValueContainer().decode(Int64.self)
            return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        }
        return decoder
    }

    /// A short, content-free explanation of a decoding error (never the frame's text).
    static func explain(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let prefix = path(context)
            return "missing field '\(prefix.isEmpty ? "" : prefix + ".")\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context))' should be \(type)"
        case .valueNotFound(let type, let context):
            return "field '\(path(context))' should be \(type), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : context.debugDescription
        @unknown default:
            return "unreadable"
        }
    }
}
