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

/// The keys every frame has besides its payload.
enum FrameKey: String, CodingKey {
    case type
    case id
    case event
}

extension ClientFrame: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FrameKey.self)
        let type = try container.decode(String.self, forKey: .type)
        self.id = try container.decode(String.self, forKey: .id)
        guard let request = try ClientRequest.decode(type: type, from: decoder) else {
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "Unknown request type '\(type)'."
            )
        }
        self.request = request
    }

    public func encode(to encoder: any Encoder) throws {
        try request.payload.encode(to: encoder)
        var container = encoder.container(keyedBy: FrameKey.self)
        try container.encode(request.type, forKey: .type)
        try container.encode(id, forKey: .id)
    }
}

extension ServerFrame: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FrameKey.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "welcome": self = .welcome(try Welcome(from: decoder))
        case "result": self = .result(id: try container.decode(String.self, forKey: .id), try RequestResult(from: decoder))
        case "error": self = .error(try ErrorFrame(from: decoder))
        case "event": self = .event(try container.decode(StoredEvent.self, forKey: .event))
        case "presence": self = .presence(try PresenceUpdate(from: decoder))
        case "typing": self = .typing(try TypingUpdate(from: decoder))
        case "synced": self = .synced(try Synced(from: decoder))
        case "goodbye": self = .goodbye(try Goodbye(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "Unknown frame type '\(type)'."
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .welcome(let welcome): try welcome.encode(to: encoder)
        case .result(let id, let result):
            try result.encode(to: encoder)
            var container = encoder.container(keyedBy: FrameKey.self)
            try container.encode(id, forKey: .id)
        case .error(let error): try error.encode(to: encoder)
        case .event(let event):
            var container = encoder.container(keyedBy: FrameKey.self)
            try container.encode(event, forKey: .event)
        case .presence(let presence): try presence.encode(to: encoder)
        case .typing(let typing): try typing.encode(to: encoder)
        case .synced(let synced): try synced.encode(to: encoder)
        case .goodbye(let goodbye): try goodbye.encode(to: encoder)
        }
        var container = encoder.container(keyedBy: FrameKey.self)
        try container.encode(type, forKey: .type)
    }
}
