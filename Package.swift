// swift-tools-version: 6.2
//
// ChatKit: a pure-Swift, embeddable chat SDK.
// Targets and their dependencies are described in Documentation/Architecture.md.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "chatkit",
    // ChatKitCore and ChatKitClient are also meant for Apple platforms; `Synchronization.Mutex` sets these minimums.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "ChatKitCore", targets: ["ChatKitCore"]),
        .library(name: "ChatKitServer", targets: ["ChatKitServer"]),
        .library(name: "ChatKitClient", targets: ["ChatKitClient"]),
        .library(name: "ChatKitTesting", targets: ["ChatKitTesting"]),
        .library(name: "ChatKitClientTesting", targets: ["ChatKitClientTesting"]),
        .library(name: "ChatKitSQLite", targets: ["ChatKitSQLite"]),
        .executable(name: "chatkit-server", targets: ["chatkit-server"]),
        .executable(name: "chatkit-cli", targets: ["chatkit-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Model, storage contract, errors and in-memory implementations. Depends on nothing heavier than swift-log.
        .target(
            name: "ChatKitCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The transport-agnostic engine and the network edge (issues 4 and 5).
        .target(
            name: "ChatKitServer",
            dependencies: [
                "ChatKitCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSCompression", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The client SDK (issues 4 and 5).
        .target(
            name: "ChatKitClient",
            dependencies: [
                "ChatKitCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SQLite ChatStore: the only target linking GRDB (issue 3).
        .target(
            name: "ChatKitSQLite",
            dependencies: ["ChatKitCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // Conformance suites that adapter authors run from their own tests.
        .target(
            name: "ChatKitTesting",
            dependencies: ["ChatKitCore"],
            swiftSettings: swiftSettings
        ),
        // The conformance suite of the client's pluggable outbox storage.
        .target(
            name: "ChatKitClientTesting",
            dependencies: ["ChatKitCore", "ChatKitClient", "ChatKitTesting"],
            swiftSettings: swiftSettings
        ),
        // The bundled server: `swift run chatkit-server`.
        .executableTarget(
            name: "chatkit-server",
            dependencies: [
                "ChatKitCore",
                "ChatKitServer",
                "ChatKitSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Examples/chatkit-server",
            resources: [.copy("Web")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "chatkit-cli",
            dependencies: [
                "ChatKitCore",
                "ChatKitClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/chatkit-cli",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatKitCoreTests",
            dependencies: ["ChatKitCore"],
            swiftSettings: swiftSettings
        ),
        // Starts the tests' child processes without Foundation's Process (see SpawnedProcess).
        .target(name: "ChildProcesses", path: "Tests/ChildProcesses", swiftSettings: swiftSettings),
        .testTarget(
            name: "ChatKitSQLiteTests",
            dependencies: [
                "ChatKitSQLite", "ChatKitCore", "ChatKitTesting", "ChildProcesses",
                // To build old-schema fixtures and inspect files directly.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The child process of the SQLite crash-durability test: appends and prints each acknowledged seq.
        .executableTarget(
            name: "chatkit-sqlite-crash-writer",
            dependencies: ["ChatKitSQLite", "ChatKitCore"],
            path: "Tests/CrashWriter",
            swiftSettings: swiftSettings
        ),
        // Micro-benchmarks of the SQLite store (see Documentation/Performance.md). Run in release.
        .executableTarget(
            name: "chatkit-sqlite-bench",
            dependencies: ["ChatKitSQLite", "ChatKitCore"],
            path: "Benchmarks/chatkit-sqlite-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "chatkit-microbench",
            dependencies: ["ChatKitCore", "ChatKitServer", "ChatKitSQLite", "ChatKitTesting"],
            path: "Benchmarks/chatkit-microbench",
            swiftSettings: swiftSettings
        ),
        // The WebSocket load generator and its raw relay baseline (see Documentation/Performance.md). Run in release.
        .executableTarget(
            name: "chatkit-bench",
            dependencies: [
                "ChatKitCore",
                "ChatKitServer",
                "ChatKitSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/chatkit-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatKitServerTests",
            dependencies: [
                "ChatKitCore", "ChatKitServer", "ChatKitClient", "ChatKitTesting", "ChatKitSQLite",
                "ChatKitClientTesting", "ChildProcesses",
                .product(name: "Hummingbird", package: "hummingbird"),
                // To make password hashes as earlier versions stored them.
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSCompression", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Examples/CustomStore: a storage adapter of your own, proven by the conformance suite.
        .target(
            name: "AuditedChatStore",
            dependencies: ["ChatKitCore"],
            path: "Examples/CustomStore/AuditedChatStore",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AuditedChatStoreTests",
            dependencies: ["AuditedChatStore", "ChatKitCore", "ChatKitSQLite", "ChatKitTesting"],
            path: "Examples/CustomStore/Tests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatKitTestingTests",
            dependencies: ["ChatKitCore", "ChatKitTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
