import Foundation
import XCTest
import XMLSupport
@testable import EDIDrop

/// Replays every input under FuzzRegressions/ (saved there by `scripts/fuzz` when a
/// fuzzer crashed or broke an invariant) through the same paths as the fuzz entries in
/// Fuzz/, in one piece and in small pieces: each must end without a crash and with
/// either an order or a finding.
///
/// Mirrors Fuzz/FuzzCSV.swift, Fuzz/FuzzXML.swift and Fuzz/FuzzSupport.swift (those are
/// compiled outside the package, so the logic is repeated here); keep them in step.
final class FuzzRegressionTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    static func inputs() throws -> [(String, [UInt8])] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { name in
            (name, Array(try Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }

    func testEverySavedInputThroughTheCSVPath() throws {
        for (name, bytes) in try Self.inputs() {
            let outcome = Self.csv(bytes)
            XCTAssertTrue(outcome.orders + outcome.findings > 0, "\(name): neither an order nor a finding")
            XCTAssertEqual(outcome.whole, outcome.chunked, "\(name): CSV records depend on read sizes")
        }
    }

    func testEverySavedInputThroughTheXMLPath() throws {
        let schemas = try CompiledSchemas()
        for (name, bytes) in try Self.inputs() {
            let outcome = Self.xml(bytes, schemas: schemas)
            XCTAssertTrue(outcome.orders + outcome.findings > 0, "\(name): neither an order nor a finding")
            XCTAssertEqual(outcome.probeFailed, outcome.probeFailedChunked, "\(name): XML outcome depends on read sizes")
        }
    }

    /// The chunking itself is exercised on the corpus too, so that the replay path is
    /// known to work even while FuzzRegressions/ is empty.
    func testTheReplayPathOnAFewKnownInputs() throws {
        let schemas = try CompiledSchemas()
        let samples: [String] = [
            "order_id;customer_name;street;city;postcode;country;sku;quantity\nA-1;Anna;ul. X 1;Kraków;31-147;PL;S;2\n",
            "order_id,customer_name\r\n\"a\"\"b\",\"line\nbreak\"\r\n",
            "\u{FEFF}order_id\n\"unclosed\n",
            "<orders xmlns=\"urn:edidrop:orders:1\"><order id=\"1\"><customer name=\"a\"/>"
                + "<shipTo street=\"s\" city=\"c\" postcode=\"31-147\" country=\"PL\"/><line sku=\"S\" quantity=\"1\"/></order></orders>",
            "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
            "",
        ]
        var orders = 0
        for s in samples {
            let bytes = Array(s.utf8)
            let c = Self.csv(bytes)
            XCTAssertEqual(c.whole, c.chunked, s)
            XCTAssertTrue(c.orders + c.findings > 0, s)
            let x = Self.xml(bytes, schemas: schemas)
            XCTAssertEqual(x.probeFailed, x.probeFailedChunked, s)
            XCTAssertTrue(x.orders + x.findings > 0, s)
            orders += c.orders + x.orders
        }
        XCTAssertEqual(orders, 2, "one CSV and one XML sample hold a valid order")
    }

    // MARK: The paths (as in Fuzz/)

    struct CSVOutcome {
        var whole: String
        var chunked: String
        var orders = 0
        var findings = 0
    }

    static func csv(_ bytes: [UInt8]) -> CSVOutcome {
        var sniffer = EncodingSniffer()
        bytes.withUnsafeBytes { sniffer.feed($0) }
        let detection = sniffer.finish(fallback: .windows1250)
        let (whole, delimiter) = tokens(BytesSource(bytes), detection)
        let (chunked, _) = tokens(ChunkedSource(bytes), detection)
        var outcome = CSVOutcome(whole: whole, chunked: chunked)
        let csv = CSVReader(source: TranscodingSource(base: ChunkedSource(bytes), detection: detection),
                            delimiter: delimiter ?? UInt8(ascii: ","))
        var reader = OrdersCSVReader(csv: csv)
        let validator = OrderValidator()
        while let draft = reader.next() {
            let (order, findings) = validator.validate(draft)
            if order != nil { outcome.orders += 1 }
            outcome.findings += findings.count
        }
        outcome.findings += reader.findings.count
        return outcome
    }

    /// The records and the error, as text, so that a difference reads plainly in a failure.
    static func tokens<S: ByteSource>(_ source: S, _ detection: EncodingDetection) -> (String, UInt8?) {
        var reader = CSVReader(source: TranscodingSource(base: source, detection: detection))
        var out = ""
        while true {
            do {
                guard let record = try reader.next() else { break }
                out += "\(record)\n"
            } catch {
                out += "error \(error)\n"
                break
            }
        }
        return (out, reader.delimiter)
    }

    struct XMLOutcome {
        var probeFailed: Bool
        var probeFailedChunked: Bool
        var orders = 0
        var findings = 0
    }

    static func xml(_ bytes: [UInt8], schemas: CompiledSchemas) -> XMLOutcome {
        func probe(_ chunked: Bool) -> Bool {
            var whole = BytesSource(bytes)
            var pieces = ChunkedSource(bytes)
            let reader = XMLStreamReader(documentName: "replay.xml", schema: nil) { buffer in
                chunked ? try pieces.read(into: buffer) : try whole.read(into: buffer)
            }
            while reader.next() != nil {}
            return reader.failed
        }
        var outcome = XMLOutcome(probeFailed: probe(false), probeFailedChunked: probe(true))
        var source = ChunkedSource(bytes)
        let reader = XMLStreamReader(documentName: "replay.xml", schema: schemas.orders) { try source.read(into: $0) }
        var orders = OrdersXMLReader(reader: reader)
        let validator = OrderValidator()
        while let draft = orders.next() {
            let (order, findings) = validator.validate(draft)
            if order != nil { outcome.orders += 1 }
            outcome.findings += findings.count
        }
        outcome.findings += orders.findings.count
        if reader.failed && orders.findings.isEmpty { outcome.findings = 0 }
        return outcome
    }

    /// As in Fuzz/FuzzSupport.swift: the input in pieces of varying size.
    struct ChunkedSource: ByteSource {
        private let bytes: [UInt8]
        private var offset = 0
        private var step: Int
        private static let pattern = [1, 2, 3, 1, 5, 7, 64, 1, 4093, 2, 11, 1, 3]

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            self.step = bytes.count % Self.pattern.count
        }

        mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let want = Self.pattern[step % Self.pattern.count]
            step += 1
            let n = min(buffer.count, bytes.count - offset, want)
            guard n > 0 else { return 0 }
            bytes.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
            }
            offset += n
            return n
        }
    }
}
