import Foundation
import XCTest
@testable import EDIDrop

/// A big orders file is read on a second thread (`ReadAhead`). Whatever the file holds,
/// the outcome must be exactly the one of reading it in line: same state, counts and
/// findings, same orders and warehouse files in the ledger.
final class ReadAheadTests: XCTestCase {
    struct Outcome: Equatable {
        var state: FileState
        var documents: Int
        var errorCount: Int
        var findings: [String]
        var orders: [String]
        var outbox: [String]
    }

    func process(_ content: String, name: String, readAhead: Bool, configuration: SpoolConfiguration = SpoolConfiguration()) throws -> Outcome {
        let setup = try Fixture.SpoolSetup(configuration: configuration)
        let path = FileSystem.join(setup.spool.workFolder(for: .orders), name)
        Fixture.write(content, to: path)
        var processor = Processor(spool: setup.spool, ledger: setup.ledger, schemas: Fixture.schemas, clock: setup.clock,
                                  crash: .disarmed, logger: Fixture.silentLogger)
        processor.readAheadBytes = readAhead ? 0 : Int64.max
        let status = try XCTUnwrap(try FileSystem.status(path))
        let record = try processor.process(ClaimedFile(channel: .orders, name: name, workName: name, workPath: path,
                                                       sourcePath: nil, status: status), receivedAt: setup.clock.now())
        return try setup.ledger.read { db in
            Outcome(state: record.state, documents: record.documents, errorCount: record.errorCount,
                    findings: try Diagnostic.fetchAll(db, fileID: record.id!).map { "\($0.code.rawValue)@\($0.line ?? 0):\($0.field ?? "")" },
                    orders: try String.fetchAll(db, sql: "SELECT order_id || ' ' || data FROM orders ORDER BY id"),
                    outbox: try String.fetchAll(db, sql: "SELECT name || ' ' || CAST(content AS TEXT) FROM outbox ORDER BY id"))
        }
    }

    static let header = "order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes\n"

    static func row(_ id: String, date: String = "2026-11-20", quantity: String = "1", postcode: String = "31-147", sku: String = "SKU-1") -> String {
        "\(id);\(date);Anna Kowalska;anna@example.pl;;ul. Długa 5;Kraków;\(postcode);PL;inpost;KRA01M;0;PLN;\(sku);;\(quantity);19,99;Kubek;\n"
    }

    /// Two thousand orders, some with two rows, one whose second row comes much later (a
    /// merge), and a few with findings spread through the file.
    static func csv(bad: Bool) -> String {
        var text = header
        for i in 0..<2000 {
            text += row("RA-\(i)", quantity: bad && i % 500 == 7 ? "0" : "1", postcode: bad && i == 1234 ? "3l-147" : "31-147")
            if i % 3 == 0 { text += row("RA-\(i)", sku: "SKU-2") }
        }
        text += row("RA-5", sku: "SKU-LATE")
        return text
    }

    func testCSVTheSameEitherWay() throws {
        for bad in [false, true] {
            let inLine = try process(Self.csv(bad: bad), name: "o.csv", readAhead: false)
            let ahead = try process(Self.csv(bad: bad), name: "o.csv", readAhead: true)
            XCTAssertEqual(ahead, inLine)
            XCTAssertEqual(inLine.state, bad ? .rejected : .accepted)
            XCTAssertEqual(inLine.errorCount, bad ? 5 : 0, "\(inLine.findings)")
            if !bad {
                XCTAssertEqual(inLine.documents, 2000)
                XCTAssertTrue(inLine.outbox.contains { $0.hasPrefix("ORDER_RA-5.xml ") && $0.contains("SKU-LATE") }, "the late row is merged")
            }
        }
    }

    /// Rendering runs on the reading thread for a big file: a UBL order without a date takes
    /// the day the file was received, the same day as when the ledger's thread renders it.
    func testUBLOrdersWithoutADateTheSameEitherWay() throws {
        var configuration = SpoolConfiguration()
        configuration.outbox.format = .ubl
        var text = Self.header
        for i in 0..<300 { text += Self.row("RD-\(i)", date: i % 2 == 0 ? "" : "2026-11-20") }
        let inLine = try process(text, name: "d.csv", readAhead: false, configuration: configuration)
        let ahead = try process(text, name: "d.csv", readAhead: true, configuration: configuration)
        XCTAssertEqual(ahead, inLine)
        XCTAssertEqual(inLine.documents, 300)
        let day = Timestamp.localDay(FixtureClock().now())
        let undated = try XCTUnwrap(ahead.outbox.first { $0.hasPrefix("ORDER_RD-0.xml ") })
        XCTAssertTrue(undated.contains("<cbc:IssueDate>\(day)</cbc:IssueDate>"), undated)
    }

    func testCSVRecordPolicyTheSameEitherWay() throws {
        var configuration = SpoolConfiguration()
        configuration.intake.policy = .record
        let inLine = try process(Self.csv(bad: true), name: "o.csv", readAhead: false, configuration: configuration)
        let ahead = try process(Self.csv(bad: true), name: "o.csv", readAhead: true, configuration: configuration)
        XCTAssertEqual(ahead, inLine)
        XCTAssertEqual(inLine.state, .accepted)
        XCTAssertEqual(inLine.documents, 1995)
    }

    /// XML with a schema error inside an order (a missing required attribute): the schema's
    /// finding stands, the rules' MISSING_FIELD for it is dropped; that needs the reader's
    /// findings as far as the next order, which the reading thread hands over with each order.
    func testXMLWithSchemaErrorsTheSameEitherWay() throws {
        var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">\n"
        for i in 0..<1500 {
            let city = i == 700 ? "" : " city=\"Kraków\""
            text += "  <order id=\"RX-\(i)\" date=\"2026-11-27\">\n"
                + "    <customer name=\"Zofia Mazur\"/>\n"
                + "    <shipTo street=\"ul. Morska 10\"\(city) postcode=\"\(i == 1100 ? "7OO01" : "70-001")\" country=\"PL\"/>\n"
                + "    <line sku=\"SKU-C\" quantity=\"3\" unitPrice=\"7.00\" name=\"Zeszyt\"/>\n"
                + "  </order>\n"
        }
        text += "</orders>\n"
        let inLine = try process(text, name: "o.xml", readAhead: false)
        let ahead = try process(text, name: "o.xml", readAhead: true)
        XCTAssertEqual(ahead, inLine)
        XCTAssertEqual(inLine.state, .rejected)
        XCTAssertTrue(inLine.findings.contains { $0.hasPrefix("SCHEMA@") }, "\(inLine.findings)")
        XCTAssertFalse(inLine.findings.contains { $0.hasPrefix("MISSING_FIELD") }, "\(inLine.findings)")
        XCTAssertTrue(inLine.findings.contains { $0.hasPrefix("INVALID_POSTCODE@") || $0.contains("postcode") }, "\(inLine.findings)")
    }

    /// A batch is hashed, read and checked ahead on a second thread; the records must be
    /// the ones of committing the files one by one.
    func testABatchReadAheadEndsAsFileByFile() throws {
        let files: [(String, String)] = [
            ("a.csv", Self.header + Self.row("PB-1")),
            ("b.csv", Self.header + Self.row("PB-2", quantity: "0")),
            ("c.csv", Self.header + Self.row("PB-1")),                       // the same bytes as a.csv
            ("d.csv", Self.header + Self.row("PB-1", sku: "SKU-9")),           // an order already sent
            ("e.csv", ""),
            ("f.csv", "no;known;header\n1;2;3\n"),
            ("g.xml", "<?xml version=\"1.0\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">\n  <order id=\"PB-7\">\n  </order>\n</orders>\n"),
            ("h.csv", Self.header + Self.row("PB-8") + Self.row("PB-9", postcode: "3l-147")),
        ]
        func outcomes(batch: Bool) throws -> [String] {
            let setup = try Fixture.SpoolSetup()
            let processor = Processor(spool: setup.spool, ledger: setup.ledger, schemas: Fixture.schemas, clock: setup.clock,
                                      crash: .disarmed, logger: Fixture.silentLogger)
            var claimed: [ClaimedFile] = []
            for (name, content) in files {
                let path = FileSystem.join(setup.spool.workFolder(for: .orders), name)
                Fixture.write(content, to: path)
                claimed.append(ClaimedFile(channel: .orders, name: name, workName: name, workPath: path, sourcePath: nil,
                                           status: try XCTUnwrap(try FileSystem.status(path))))
            }
            let records = batch ? try processor.process(batch: claimed, receivedAt: setup.clock.now())
                                : try claimed.map { try processor.process($0, receivedAt: setup.clock.now()) }
            return try records.map { r in
                let codes = try setup.ledger.read { db in try Diagnostic.fetchAll(db, fileID: r.id!).map { "\($0.code.rawValue)@\($0.line ?? 0)" } }
                return "\(r.name) \(r.state.rawValue) \(r.format ?? "-") \(r.documents) \(r.errorCount) \(codes)"
            }
        }
        let oneByOne = try outcomes(batch: false)
        XCTAssertEqual(try outcomes(batch: true), oneByOne)
        XCTAssertTrue(oneByOne[0].hasPrefix("a.csv accepted"), oneByOne[0])
        XCTAssertTrue(oneByOne[2].contains("DUPLICATE_FILE"), oneByOne[2])
        XCTAssertTrue(oneByOne[3].contains("DUPLICATE_ORDER"), oneByOne[3])
    }
}
