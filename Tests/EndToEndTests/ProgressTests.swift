import Foundation
import XCTest

/// `run --once` shows progress on a terminal, and nothing when its output is a pipe.
final class ProgressTests: XCTestCase {
    func testProgressOnATerminalAndNothingOnAPipe() throws {
        let rows = (0..<3000).map { Fixtures.csvRow("PR-\($0)", quantity: $0 == 1500 ? "0" : "1") }.joined()
        let piped = try TestSpool()
        try piped.drop("big.csv", Fixtures.csvHeader + rows)
        let r = try piped.run(["run", "--once", "--settle", "0"], environment: ["EDIDROP_LOG_LEVEL": "warning"])
        XCTAssertEqual(r.status, 0)
        XCTAssertFalse(r.stderr.contains("MB/s"), "no progress into a pipe: \(r.stderr)")

        // A real terminal: util-linux's `script` gives the command a pseudo-terminal.
        let tty = try TestSpool()
        try tty.drop("big.csv", Fixtures.csvHeader + rows)
        let command = "EDIDROP_LOG_LEVEL=warning '\(Edidrop.executable)' --spool '\(tty.root)' run --once --settle 0"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let screen = String(decoding: data, as: UTF8.self)
        let updates = screen.components(separatedBy: "\r").filter { $0.contains("MB/s") }
        XCTAssertFalse(updates.isEmpty, screen)
        let last = try XCTUnwrap(updates.last)
        XCTAssertTrue(last.contains("big.csv: 3000 records"), last)
        XCTAssertTrue(last.contains("(100%)"), last)
        XCTAssertTrue(last.contains("1 error"), last)
    }
}
