// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-cqrs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CQRS", targets: ["CQRS"]),
        .library(name: "CQRSSchema", targets: ["CQRSSchema"]),
        .library(name: "CQRSSQLite", targets: ["CQRSSQLite"]),
        .library(name: "CQRSTesting", targets: ["CQRSTesting"]),
        .library(name: "CQRSPostgres", targets: ["CQRSPostgres"]),
        .library(name: "Bank", targets: ["Bank"]),
        .library(name: "TodoList", targets: ["TodoList"]),
        .executable(name: "cqrs-bench", targets: ["CQRSBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "CQRSSchema"),
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
        .target(
            name: "CQRSPostgres",
            dependencies: [
                "CQRS",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CQRSTesting", dependencies: ["CQRS"]),
        .target(name: "Bank", dependencies: ["CQRS"], path: "examples/bank"),
        .target(name: "TodoList", dependencies: ["CQRS"], path: "examples/todolist"),
        .executableTarget(
            name: "CQRSBench",
            dependencies: ["CQRS", "CQRSSQLite", "CQRSPostgres", "Bank"],
            path: "Benchmarks/CQRSBench"
        ),
        .testTarget(name: "CQRSTests", dependencies: ["CQRS", "CQRSTesting", "Bank"]),
        .testTarget(name: "CQRSSQLiteTests", dependencies: ["CQRSSQLite", "CQRSTesting", "Bank"]),
        .testTarget(name: "BankTests", dependencies: ["Bank", "CQRSTesting", "CQRSSQLite"]),
        .target(name: "PostgresTestSupport", dependencies: ["CQRS", "CQRSPostgres"], path: "Tests/PostgresTestSupport"),
        .testTarget(name: "CQRSPostgresTests", dependencies: ["CQRSPostgres", "CQRSTesting", "Bank", "PostgresTestSupport"]),
        .testTarget(name: "TodoListTests", dependencies: ["TodoList", "CQRSTesting", "CQRSPostgres", "PostgresTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
