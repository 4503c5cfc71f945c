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

public import ServiceLifecycle

/// A ``ChatServer`` runs as a swift-service-lifecycle `Service`: a graceful shutdown stops its transports, which
/// tell their clients, and then ``ChatServer/run()`` returns.
extension ChatServer: Service {}
