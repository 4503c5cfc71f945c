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

import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The baseline: a minimal WebSocket relay on the same stack as ChatKit's edge (Hummingbird WebSocket), with no
/// auth, no storage and no JSON. A socket opened at `/raw?pair=N&side=a` is paired with `side=b` of the same N;
/// every text frame is forwarded unchanged to the peer. The relay sends `ready` once the socket is registered.
enum RawRelay {
    private final class Registry: Sendable {
        private let sides = Mutex<[String: WebSocketOutboundWriter]>([:])

        func register(_ key: String, _ writer: WebSocketOutboundWriter) {
            sides.withLock { $0[key] = writer }
        }

        func remove(_ key: String) {
            sides.withLock { _ = $0.removeValue(forKey: key) }
        }

        func writer(_ key: String) -> WebSocketOutboundWriter? {
            sides.withLock { $0[key] }
        }
    }

    /// Runs the relay on 127.0.0.1 with a free port until the calling task is cancelled; `onListening` gets the port.
    static func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let registry = Registry()
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/raw") { inbound, outbound, context in
            let query = context.request.uri.queryParameters
            guard let pair = query["pair"].map(String.init), let side = query["side"].map(String.init) else { return }
            let me = pair + "/" + side
            let peer = pair + "/" + (side == "a" ? "b" : "a")
            registry.register(me, outbound)
            defer { registry.remove(me) }
            try await outbound.write(.text("ready"))
            var peerWriter: WebSocketOutboundWriter?
            for try await message in inbound.messages(maxSize: 1 << 24) {
                if peerWriter == nil { peerWriter = registry.writer(peer) }
                guard case .text(let text) = message, let peerWriter else { continue }
                try? await peerWriter.write(.text(text))
            }
        }
        let app = Application(
            router: Router(context: BasicRequestContext.self),
            server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .init(maxFrameSize: 1 << 22))),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "chatkit-bench.raw", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await ServiceGroup(services: [app], logger: app.logger).run()
    }
}
