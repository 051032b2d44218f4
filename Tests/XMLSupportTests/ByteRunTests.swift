import XCTest
@testable import XMLSupport

final class ByteRunTests: XCTestCase {
    private func append(_ text: String, to run: inout ByteRun) -> Range<Int> {
        let start = run.count
        Array(text.utf8).withUnsafeBufferPointer { run.append($0) }
        return start..<run.count
    }

    private func string(_ run: ByteRun, _ range: Range<Int>) -> String {
        run.withBytes(range) { String(decoding: $0, as: UTF8.self) }
    }

    func testRangesReadBackWhatWasAppendedAcrossGrowth() {
        var run = ByteRun()
        var expected: [(Range<Int>, String)] = []
        // Pieces of every length from 0 to 700 bytes: the storage grows many times, and each
        // range must still read back its own bytes afterwards.
        for length in 0...700 {
            let text = String(repeating: String(UnicodeScalar(UInt8(97 + length % 26))), count: length)
            expected.append((append(text, to: &run), text))
        }
        XCTAssertEqual(run.count, (0...700).reduce(0, +))
        for (range, text) in expected {
            XCTAssertEqual(string(run, range), text)
        }
    }

    func testSingleBytesAndAnotherRun() {
        var run = ByteRun()
        run.append(UInt8(ascii: "&"))
        var other = ByteRun()
        _ = append("amp;x", to: &other)
        run.append(other)
        run.append(ByteRun())
        XCTAssertEqual(string(run, 0..<run.count), "&amp;x")
    }

    func testRemoveAllStartsAgainFromTheBeginning() {
        var run = ByteRun()
        _ = append(String(repeating: "x", count: 1000), to: &run)
        run.removeAll()
        XCTAssertTrue(run.isEmpty)
        let range = append("short", to: &run)
        XCTAssertEqual(range, 0..<5)
        XCTAssertEqual(string(run, 0..<run.count), "short")
    }

    func testACopyIsIndependent() {
        var run = ByteRun()
        _ = append("first", to: &run)
        var copy = run
        _ = append(" and more", to: &copy)
        copy.removeAll()
        _ = append("FIRST", to: &copy)
        XCTAssertEqual(string(run, 0..<run.count), "first")
        XCTAssertEqual(string(copy, 0..<copy.count), "FIRST")
    }

    func testReserveKeepsTheBytes() {
        var run = ByteRun()
        _ = append("kept", to: &run)
        run.reserve(1 << 16)
        _ = append("!", to: &run)
        XCTAssertEqual(string(run, 0..<run.count), "kept!")
    }
}
