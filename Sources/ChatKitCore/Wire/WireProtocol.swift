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

/// Constants of ChatKit's wire protocol (`Documentation/Protocol.md`).
public enum WireProtocol {
    /// The protocol version this build speaks.
    public static let version = 1
    /// Every version this build speaks, oldest first.
    public static let supportedVersions = [1]

    /// The highest version both sides speak, or `nil` if there is none.
    public static func negotiate(_ clientVersions: [Int]) -> Int? {
        Set(clientVersions).intersection(supportedVersions).max()
    }
}

/// A frame from the client: a request and the ID that its answer will carry.
public struct ClientFrame: Sendable, Hashable {
    /// The client's ID for this request, echoed in the answer. Any non-empty string unique within the session.
    public var id: String
    /// The request.
    public var request: ClientRequest

    /// Creates a frame.
    public init(id: String, _ request: ClientRequest) {
        self.id = id
        self.request = request
    }
}
