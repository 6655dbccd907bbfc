// swift-tools-version:6.1
import CompilerPluginSupport
import PackageDescription

let package = Package(
    name: "swift-cqrs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CQRS", targets: ["CQRS"]),
        .library(name: "CQRSSchema", targets: ["CQRSSchema"]),
        .library(name: "CQRSSQLite", targets: ["CQRSSQLite"]),
        .library(name: "CQRSTesting", targets: ["CQRSTesting"]),
        .library(name: "CQRSMCP", targets: ["CQRSMCP"]),
        .library(name: "CQRSHTTP", targets: ["CQRSHTTP"]),
        .library(name: "Bank", targets: ["Bank"]),
        .executable(name: "bank", targets: ["BankServer"]),
        .executable(name: "cqrs-bench", targets: ["CQRSBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-syntax", "600.0.0"..<"604.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .macro(
            name: "CQRSSchemaMacros",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftSyntaxBuilder", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftDiagnostics", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
            ]
        ),
        .target(name: "CQRSSchema", dependencies: ["CQRSSchemaMacros"]),
        .target(
            name: "CQRS",
            dependencies: ["CQRSSchema", .product(name: "Logging", package: "swift-log")]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .target(name: "CQRSSQLite", dependencies: ["CQRS", "CSQLite"]),
        .target(name: "CQRSTesting", dependencies: ["CQRS"]),
        .target(
            name: "CQRSRuntime",
            dependencies: [
                "CQRS", "CQRSSQLite", "CQRSMCP", "CQRSHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "BankServer", dependencies: ["Bank", "CQRS", "CQRSRuntime"], path: "examples/bank/Server"),
        .target(name: "CQRSMCP", dependencies: ["CQRS", "CQRSSchema", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "CQRSHTTP",
            dependencies: [
                "CQRSMCP", "CQRSSchema", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "Bank", dependencies: ["CQRS", "CQRSSchema", "CQRSMCP"], path: "examples/bank/Bank"),
        .target(name: "MCPEchoProvider", dependencies: ["CQRSMCP", "CQRSSchema"], path: "examples/mcp-echo/Provider"),
        .executableTarget(
            name: "MCPEcho", dependencies: ["CQRSMCP", "CQRSHTTP", "CQRSSchema", "MCPEchoProvider"],
            path: "examples/mcp-echo/Server"
        ),
        .executableTarget(
            name: "CQRSBench",
            dependencies: ["CQRS", "CQRSSchema", "CQRSSQLite", "Bank"],
            path: "Benchmarks/CQRSBench"
        ),
        .testTarget(name: "CQRSSchemaTests", dependencies: ["CQRSSchema"]),
        .testTarget(
            name: "CQRSSchemaMacrosTests",
            dependencies: [
                "CQRSSchemaMacros",
                .product(name: "SwiftSyntaxMacroExpansion", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacrosGenericTestSupport", package: "swift-syntax"),
            ]
        ),
        .testTarget(name: "CQRSTests", dependencies: ["CQRS", "CQRSTesting", "Bank"]),
        .testTarget(name: "CQRSSQLiteTests", dependencies: ["CQRSSQLite", "CQRSTesting", "Bank"]),
        .testTarget(name: "CQRSMCPTests", dependencies: ["CQRSMCP", "CQRSSchema", "MCPEchoProvider"]),
        .testTarget(
            name: "CQRSHTTPTests",
            dependencies: [
                "CQRSHTTP", "CQRSMCP", "CQRSSchema", "MCPEchoProvider", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "BankTests", dependencies: ["Bank", "CQRSTesting", "CQRSSQLite", "CQRSMCP"]),
    ],
    swiftLanguageModes: [.v6]
)
