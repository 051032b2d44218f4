import Foundation
import XCTest
@testable import XMLSupport

/// `concurrent: true` moves parsing and validation to a thread of their own; what comes
/// out must not change in any way.
final class ConcurrentReadingTests: XCTestCase {
    /// Many chunks' worth of items (SAXParser reads 32 KiB at a time), with `tail` just
    /// before the end.
    private func bigDocument(items: Int = 3000, bad: Set<Int> = [], tail: String = "</orders>\n") -> String {
        var doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:test\">\n"
        for i in 0..<items {
            let qty = bad.contains(i) ? "0" : "\(i + 1)"
            doc += "  <item qty=\"\(qty)\">bolts &amp; nuts №\(i) — \(String(repeating: "x", count: i % 7))</item>\n"
        }
        return doc + tail
    }

    private func assertSameBothWays(_ doc: String, schema: XMLSchema? = nil, maxProblems: Int = 1000,
                                    file: StaticString = #filePath, line: UInt = #line) -> ReadResult {
        let inline = readAll(doc, schema: schema, maxProblems: maxProblems)
        for chunk in [1 << 16, 1000] {
            let concurrent = readAll(doc, schema: schema, maxProblems: maxProblems, chunk: chunk, concurrent: true)
            XCTAssertEqual(describe(concurrent), describe(inline), "chunk \(chunk)", file: file, line: line)
        }
        return inline
    }

    func testValidDocumentGivesTheSameEvents() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let doc = bigDocument()
        XCTAssertGreaterThan(doc.utf8.count, 4 * 32 * 1024, "must span more batches than are parsed ahead")
        let r = assertSameBothWays(doc, schema: schema)
        XCTAssertFalse(r.failed)
        XCTAssertEqual(r.starts.count, 3001)
        XCTAssertEqual(r.texts.last, "bolts & nuts №2999 — xxx")
        XCTAssertEqual(r.starts.last?.line, 3002)
    }

    func testSchemaProblemsAndTheCapGiveTheSameReport() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let bad: Set<Int> = [5, 900, 1800, 2500, 2999]
        let r = assertSameBothWays(bigDocument(bad: bad), schema: schema)
        XCTAssertEqual(r.problems.map(\.line), bad.sorted().map { $0 + 3 })
        // Past the cap, and a fatal problem at the very end replacing the last kept one.
        let capped = assertSameBothWays(bigDocument(bad: bad, tail: "</order>"), schema: schema, maxProblems: 2)
        XCTAssertTrue(capped.failed)
        XCTAssertEqual(capped.problems.map(\.kind), [.schema, .malformed])
        XCTAssertEqual(capped.dropped, 4)
    }

    func testFatalProblemsGiveTheSameEventsUpToThem() {
        let cases = [
            bigDocument(tail: "</orders>\n<extra/>"),
            bigDocument(tail: "<broken"),
            bigDocument(tail: "<a>\u{1}</a></orders>"),
            "<!DOCTYPE orders [<!ENTITY e \"boom\">]>\n<orders>&e;</orders>",
            "",
            "  \n  ",
        ]
        for doc in cases {
            let r = assertSameBothWays(doc)
            XCTAssertTrue(r.failed, String(doc.suffix(40)))
        }
    }

    func testEncodingIsReportedTheSame() {
        let latin1 = Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a k=\"".utf8) + [0xE9]
            + Array("\">".utf8) + [0xE9] + Array("</a>".utf8)
        let inline = readAll(latin1)
        let concurrent = readAll(latin1, concurrent: true)
        XCTAssertEqual(describe(concurrent), describe(inline))
        XCTAssertEqual(concurrent.encodingName, "ISO-8859-1")
        XCTAssertEqual(concurrent.texts, ["é"])
    }

    func testReadErrorReachesTheReaderAndReadingStops() {
        struct Broken: Error {}
        let calls = Counter()
        let bytes = Array(bigDocument().utf8)
        let serve = byteSource(bytes, chunk: 4096)
        let reader = XMLStreamReader(documentName: "pipe", schema: nil, concurrent: true) { buffer in
            if calls.increment() > 20 { throw Broken() }
            return try serve(buffer)
        }
        var events = 0
        while reader.next() != nil { events += 1 }
        XCTAssertTrue(reader.failed)
        XCTAssertGreaterThan(events, 0)
        XCTAssertEqual(reader.problems.map(\.message), ["could not read input"])
        XCTAssertTrue(reader.readError is Broken)
        let seen = calls.value
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(calls.value, seen, "no read after the end")
    }

    /// A caller that stops early (a file found too large, say) must not leave a thread
    /// reading on, nor wait for the whole document.
    func testDroppingTheReaderStopsTheParsingThread() {
        let calls = Counter()
        let bytes = Array(bigDocument(items: 20_000).utf8)
        let serve = byteSource(bytes, chunk: 4096)
        var reader: XMLStreamReader? = XMLStreamReader(documentName: "big", schema: nil, concurrent: true) { buffer in
            _ = calls.increment()
            return try serve(buffer)
        }
        for _ in 0..<10 { XCTAssertNotNil(reader?.next()) }
        reader = nil
        let seen = calls.value
        XCTAssertLessThan(seen * 4096, bytes.count / 2, "stopped long before the end")
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(calls.value, seen, "no read after the reader is gone")
    }
}

/// Counts calls made from the parsing thread.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() -> Int { lock.withLock { count += 1; return count } }
}
