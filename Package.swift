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
    ],
    targets: [
        // libxml2, seen only by XMLSupport; shim.h explains the ICU workaround.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Linux calls Swift's Glibc module does not import (renameat2, syncfs, statfs).
        .target(name: "CEDIDropSystem"),
        .target(
            name: "XMLSupport",
            dependencies: ["CLibXML2"]
        ),
        .target(
            name: "EDIDrop",
            dependencies: [
                "XMLSupport",
                "CEDIDropSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .executableTarget(
            name: "edidrop",
            dependencies: [
                "EDIDrop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "XMLSupportTests", dependencies: ["XMLSupport"]),
        .testTarget(name: "EDIDropTests", dependencies: ["EDIDrop"]),
        // Runs the real executable; depending on it makes `swift test` build it first.
        .testTarget(name: "EndToEndTests", dependencies: ["EDIDrop", "XMLSupport", "edidrop"]),
    ],
    swiftLanguageModes: [.v5]
)
