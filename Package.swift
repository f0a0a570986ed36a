// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "chatlog",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chatlog", targets: ["chatlog"]),
        .library(name: "EventLog", targets: ["EventLog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(
            url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(
            name: "LMDB",
            dependencies: ["CLMDB"]
        ),
        .systemLibrary(
            name: "CNATS",
            providers: [.apt(["libnats-dev"])]
        ),
        .target(
            name: "NATS",
            dependencies: ["CNATS"]
        ),
        .target(name: "CChecksum"),
        .target(
            name: "EventLog",
            dependencies: [
                "CChecksum",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EventLogLMDB",
            dependencies: [
                "EventLog",
                "LMDB",
                "CChecksum",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EventLogJetStream",
            dependencies: [
                "EventLog",
                "EventLogLMDB",
                "NATS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LogBackends",
            dependencies: [
                "EventLog",
                "EventLogLMDB",
                "EventLogJetStream",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "JSONCoding",
            dependencies: ["EventLog"]
        ),
        .target(
            name: "Consumers",
            dependencies: [
                "EventLog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Chat",
            dependencies: [
                "EventLog",
                "JSONCoding",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "Inbox",
            dependencies: ["EventLog", "JSONCoding"]
        ),
        .target(
            name: "DynamoStreams",
            dependencies: [
                "EventLog", "JSONCoding", "Chat", "Inbox",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "ChatServer",
            dependencies: [
                "DynamoStreams",
                "Chat",
                "Inbox",
                "Consumers",
                "EventLog",
                "JSONCoding",
                "LogBackends",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Console")]
        ),
        // A client to start from: REST on async-http-client, the WebSocket on
        // HummingbirdWSClient (examples/swift; tests/examples runs it).
        .executableTarget(
            name: "ChatlogClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "examples/swift"
        ),
        .executableTarget(
            name: "chatlog",
            dependencies: [
                "EventLog",
                "EventLogJetStream",
                "NATS",
                "LogBackends",
                "Consumers",
                "Chat",
                "ChatServer",
                "LMDB",
                "JSONCoding",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "LMDBTests",
            dependencies: ["LMDB", "ChatlogTestSupport"]
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "EventLogLMDB", "LMDB", "ChatlogTestSupport"]
        ),
        .testTarget(
            name: "ConsumersTests",
            dependencies: ["Consumers", "EventLog", "LogBackends", "ChatlogTestSupport"]
        ),
        .testTarget(
            name: "InboxTests",
            dependencies: ["Inbox", "EventLog", "JSONCoding", "ChatlogTestSupport"]
        ),
        .testTarget(
            name: "ChatTests",
            dependencies: ["Chat", "EventLog", "JSONCoding", "LogBackends", "ChatlogTestSupport"]
        ),
        .target(
            name: "ChatlogTestSupport",
            dependencies: [
                "EventLog",
                "LogBackends",
                "EventLogJetStream",
                "NATS",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "ChatServerTests",
            dependencies: [
                "ChatServer", "Chat", "EventLog", "LogBackends", "Consumers", "ChatlogTestSupport", "Inbox",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "DynamoStreamsTests",
            dependencies: ["DynamoStreams", "JSONCoding"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "chatlog", "EventLog", "LogBackends", "LMDB", "Chat", "ChatServer", "ChatlogTestSupport",
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The layers live in separate modules, and the hot paths cross them for every record (record
// decoding, big-endian keys, JSON writing): in release builds, let the optimizer inline and
// specialize across those boundaries as it would within one module.
for target in package.targets where target.type != .system {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))
        ]
}
