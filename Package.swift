// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "edidrop",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "edidrop", targets: ["edidrop"]),
        .library(name: "EDIDrop", targets: ["EDIDrop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The web console (`edidrop serve`): HTTP server, router and its test client.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // libxml2, seen only by XMLSupport; shim.h explains the ICU workaround.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // libssh2, seen only by SFTPSupport (the direct sftp:// link to a warehouse).
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .target(
            name: "SFTPSupport",
            dependencies: ["CLibSSH2"]
        ),
        // Linux calls Swift's Glibc module does not import (renameat2, syncfs, statfs).
        .target(name: "CEDIDropSystem"),
        // A bounded hand-over between two threads, for the big-file paths of both below.
        .target(name: "HandOff"),
        .target(
            name: "XMLSupport",
            dependencies: ["CLibXML2", "HandOff"],
            // libxml2's callbacks reach the parse state through a class, and Swift checks
            // every such access for overlap at run time: 11% of the parsing thread's time.
            // The debug build (the one the tests run) keeps the checks, so an overlapping
            // access would still be caught there.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "EDIDrop",
            dependencies: [
                "XMLSupport",
                "HandOff",
                "SFTPSupport",
                "CEDIDropSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The web console: pages, JSON API and /metrics over the core's read models.
        .target(
            name: "EDIDropWeb",
            dependencies: [
                "EDIDrop",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "edidrop",
            dependencies: [
                "EDIDrop",
                "EDIDropWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "XMLSupportTests", dependencies: ["XMLSupport"]),
        .testTarget(name: "EDIDropTests", dependencies: ["EDIDrop", "HandOff"], exclude: ["FuzzRegressions"]),
        // Through Hummingbird's test client, plus one test of the real `edidrop serve` in headless Chromium.
        .testTarget(name: "EDIDropWebTests", dependencies: [
            "EDIDrop", "EDIDropWeb", "edidrop",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // Against a real OpenSSH server (and sshfs) that the tests start on 127.0.0.1.
        .testTarget(name: "SFTPSupportTests", dependencies: ["SFTPSupport"]),
        // Runs the real executable; depending on it makes `swift test` build it first.
        .testTarget(name: "EndToEndTests", dependencies: ["EDIDrop", "XMLSupport", "edidrop"],
                    exclude: ["HostileCorpus", "Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
