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
        .target(name: "CChecksum"),
        .target(
            name: "EventLog",
            dependencies: [
                "LMDB",
                "CChecksum",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "chatlog",
            dependencies: [
                "EventLog",
                "LMDB",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .testTarget(
            name: "LMDBTests",
            dependencies: ["LMDB"]
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "LMDB"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["chatlog", "EventLog", "LMDB"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
