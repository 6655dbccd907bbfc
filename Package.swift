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
        .library(name: "CQRSPostgres", targets: ["CQRSPostgres"]),
        .library(name: "CQRSMongo", targets: ["CQRSMongo"]),
        .library(name: "CQRSTesting", targets: ["CQRSTesting"]),
        .library(name: "CQRSCatalog", targets: ["CQRSCatalog"]),
        .library(name: "CQRSMCP", targets: ["CQRSMCP"]),
        .library(name: "CQRSHTTP", targets: ["CQRSHTTP"]),
        .library(name: "CQRSRuntime", targets: ["CQRSRuntime"]),
        .library(name: "Bank", targets: ["Bank"]),
        .library(name: "TodoList", targets: ["TodoList"]),
        .executable(name: "bank", targets: ["BankServer"]),
        .executable(name: "todolist", targets: ["TodoListServer"]),
        .executable(name: "cqrs-bench", targets: ["CQRSBench"]),
        .executable(name: "quickstart", targets: ["Quickstart"]),
    ],
    traits: [
        .trait(name: "PostgreSQL", description: "The PostgreSQL store in CQRSRuntime's store URLs (postgres://…); builds PostgresNIO."),
        .trait(name: "MongoDB", description: "The MongoDB store in CQRSRuntime's store URLs (mongodb://…); needs libmongoc."),
        .trait(name: "OpenTelemetry", description: "OTLP export of the servers' traces (swift-otel) when an endpoint is configured."),
        .default(enabledTraits: ["PostgreSQL", "MongoDB", "OpenTelemetry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-syntax", "600.0.0"..<"604.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.0.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Core
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
            dependencies: [
                "CQRSSchema", "CQRSSchemaMacros", .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(name: "CQRSTesting", dependencies: ["CQRS"]),

        // Stores
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .target(name: "CQRSSQLite", dependencies: ["CQRS", "CSQLite", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "CQRSPostgres",
            dependencies: [
                "CQRS", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CMongoC",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev"]), .brew(["mongo-c-driver"])]
        ),
        .target(
            name: "CQRSMongo",
            dependencies: [
                "CQRS", "CMongoC", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Front ends
        .target(
            name: "CQRSCatalog",
            dependencies: [
                "CQRS", "CQRSSchema", .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "CQRSMCP",
            dependencies: [
                "CQRS", "CQRSCatalog", "CQRSSchema", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CQRSHTTP",
            dependencies: [
                "CQRS", "CQRSCatalog", "CQRSMCP", "CQRSSchema", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CQRSRuntime",
            dependencies: [
                "CQRS", "CQRSCatalog", "CQRSSQLite", "CQRSMCP", "CQRSHTTP",
                .target(name: "CQRSPostgres", condition: .when(traits: ["PostgreSQL"])),
                .target(name: "CQRSMongo", condition: .when(traits: ["MongoDB"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OpenTelemetry"])),
            ]
        ),

        // Examples
        .target(name: "Bank", dependencies: ["CQRS", "CQRSSchema", "CQRSCatalog"], path: "examples/bank/Bank"),
        .executableTarget(name: "BankServer", dependencies: ["Bank", "CQRS", "CQRSRuntime"], path: "examples/bank/Server"),
        .target(name: "TodoList", dependencies: ["CQRS", "CQRSSchema", "CQRSCatalog"], path: "examples/todolist/TodoList"),
        .executableTarget(
            name: "TodoListServer", dependencies: ["TodoList", "CQRS", "CQRSRuntime"], path: "examples/todolist/Server"
        ),
        .executableTarget(name: "Quickstart", dependencies: ["CQRS", "CQRSSQLite"], path: "examples/quickstart"),
        .target(name: "MCPEchoProvider", dependencies: ["CQRSMCP", "CQRSSchema"], path: "examples/mcp-echo/Provider"),
        .executableTarget(
            name: "MCPEcho", dependencies: ["CQRSMCP", "CQRSHTTP", "CQRSSchema", "MCPEchoProvider"],
            path: "examples/mcp-echo/Server"
        ),
        .executableTarget(
            name: "CQRSBench",
            dependencies: ["CQRS", "CQRSSchema", "CQRSSQLite", "CSQLite", "CQRSPostgres", "CQRSMongo", "CQRSMCP", "Bank", .product(name: "Logging", package: "swift-log"), .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Benchmarks/CQRSBench"
        ),

        // Tests
        .testTarget(name: "CQRSSchemaTests", dependencies: ["CQRSSchema"]),
        .testTarget(
            name: "CQRSSchemaMacrosTests",
            dependencies: [
                "CQRSSchemaMacros",
                .product(name: "SwiftSyntaxMacroExpansion", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacrosGenericTestSupport", package: "swift-syntax"),
            ]
        ),
        .testTarget(
            name: "CQRSTests",
            dependencies: ["CQRS", "CQRSTesting", "Bank", .product(name: "InMemoryTracing", package: "swift-distributed-tracing")]
        ),
        .testTarget(name: "CQRSSQLiteTests", dependencies: ["CQRSSQLite", "CQRSTesting", "Bank"]),
        .target(name: "PostgresTestSupport", dependencies: ["CQRS", "CQRSPostgres"], path: "Tests/PostgresTestSupport"),
        .testTarget(
            name: "CQRSPostgresTests", dependencies: ["CQRSPostgres", "CQRSTesting", "Bank", "PostgresTestSupport"]
        ),
        .testTarget(name: "CQRSMongoTests", dependencies: ["CQRSMongo", "CQRSTesting", "Bank"]),
        .testTarget(name: "CQRSMCPTests", dependencies: ["CQRSMCP", "CQRSSchema", "MCPEchoProvider"]),
        .testTarget(
            name: "CQRSHTTPTests",
            dependencies: [
                "CQRS", "CQRSHTTP", "CQRSMCP", "CQRSSchema", "MCPEchoProvider", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BankTests",
            dependencies: [
                "Bank", "CQRSTesting", "CQRSSQLite", "CQRSCatalog", "CQRSMCP", "CQRSHTTP",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "TodoListTests",
            dependencies: ["TodoList", "CQRSTesting", "CQRSPostgres", "PostgresTestSupport", "CQRSCatalog", "CQRSHTTP"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
