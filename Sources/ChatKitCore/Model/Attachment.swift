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

/// Metadata of a file attached to a message. The bytes live in a blob store; the chat store keeps only this.
public struct Attachment: Hashable, Sendable, Codable {
    /// Identifies the blob.
    public var id: AttachmentID
    /// The file name shown to users.
    public var fileName: String
    /// The media type, such as `image/png`.
    public var contentType: String
    /// The size of the blob in bytes.
    public var byteCount: Int64
    /// Width in pixels, for images and video.
    public var width: Int?
    /// Height in pixels, for images and video.
    public var height: Int?

    /// Creates attachment metadata.
    public init(
        id: AttachmentID,
        fileName: String,
        contentType: String,
        byteCount: Int64,
        width: Int? = nil,
        height: Int? = nil
    ) {
        self.id = id
        self.fileName = fileName
        self.contentType = contentType
        self.byteCount = byteCount
        self.width = width
        self.height = height
    }
}
