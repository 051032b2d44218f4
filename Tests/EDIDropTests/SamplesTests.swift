import Foundation
import XCTest
@testable import EDIDrop

/// The files in samples/ are what a new user drops into the inbox first; they must do
/// exactly what samples/README.md promises.
final class SamplesTests: XCTestCase {
    private static let samplesFolder: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // EDIDropTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // package root
        .appendingPathComponent("samples").path

    private func sample(_ name: String) -> String {
        FileSystem.join(Self.samplesFolder, name)
    }

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> DryRun.Result {
        let path = sample(name)
        XCTAssertTrue(FileSystem.exists(path), "missing sample \(path)", file: file, line: line)
        return try DryRun(schemas: Fixture.schemas, configuration: SpoolConfiguration()).check(path: path)
    }

    private func findings(_ result: DryRun.Result) -> Set<String> {
        Set(result.report.diagnostics.map { "\($0.code.rawValue)@\($0.line.map(String.init) ?? "-")" })
    }

    func testValidCSV() throws {
        let r = try check("orders-valid.csv")
        XCTAssertTrue(r.valid, r.report.text())
        XCTAssertEqual(r.record.documents, 3)
        XCTAssertEqual(r.record.format, "orders-csv")
        XCTAssertEqual(r.record.encoding, "UTF-8")
        XCTAssertEqual(r.report.diagnostics, [])
    }

    func testValidXML() throws {
        let r = try check("orders-valid.xml")
        XCTAssertTrue(r.valid, r.report.text())
        XCTAssertEqual(r.record.documents, 2)
        XCTAssertEqual(r.record.format, "orders-xml")
        XCTAssertEqual(r.report.diagnostics, [])
    }

    func testInvalidCSV() throws {
        let r = try check("orders-invalid.csv")
        XCTAssertFalse(r.valid)
        XCTAssertEqual(r.record.documents, 6, "a rejected file records how many orders it held")
        XCTAssertEqual(findings(r), [
            "INVALID_EAN@2", "INVALID_QUANTITY@3", "MISSING_FIELD@4", "INVALID_POSTCODE@5", "INVALID_COUNTRY@6",
        ], r.report.text())
        XCTAssertEqual(r.record.errorCount, 5)
        let ean = r.report.diagnostics.first { $0.code == .invalidEAN }
        XCTAssertEqual(ean?.hint, "EAN check digit should be 7")
        let postcode = r.report.diagnostics.first { $0.code == .invalidPostcode }
        XCTAssertEqual(postcode?.value, "31147")
        XCTAssertEqual(r.report.diagnostics.first { $0.code == .missingField }?.field, "customer_name")
    }

    func testInvalidXML() throws {
        let r = try check("orders-invalid.xml")
        XCTAssertFalse(r.valid)
        XCTAssertEqual(findings(r), ["SCHEMA@6", "INVALID_EAN@11"], r.report.text())
        XCTAssertEqual(r.report.diagnostics.first { $0.code == .invalidEAN }?.hint, "EAN check digit should be 7")
    }

    /// Dropped together into one inbox, as README.md suggests: the valid ones go out, the
    /// invalid ones are rejected, and no order id of one sample collides with another's.
    func testAllSamplesTogetherInOneSpool() throws {
        let s = try Fixture.SpoolSetup()
        for name in ["orders-valid.csv", "orders-valid.xml", "orders-invalid.csv", "orders-invalid.xml"] {
            try FileManager.default.copyItem(atPath: sample(name), toPath: FileSystem.join(s.spool.inbox, name))
        }
        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.accepted, 2)
        XCTAssertEqual(summary.rejected, 2)
        XCTAssertEqual(summary.delivered, 5)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), [
            "ORDER_S-1001.xml", "ORDER_S-1002.xml", "ORDER_S-1003.xml", "ORDER_S-2001.xml", "ORDER_S-2002.xml",
        ])
        XCTAssertEqual(Fixture.names(in: s.spool.rejected), [
            "orders-invalid.csv", "orders-invalid.csv.report.html", "orders-invalid.csv.report.json", "orders-invalid.csv.report.txt",
            "orders-invalid.xml", "orders-invalid.xml.report.html", "orders-invalid.xml.report.json", "orders-invalid.xml.report.txt",
        ])
        let s1002 = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_S-1002.xml")))
        XCTAssertTrue(s1002.contains("name=\"Książka „Pan Tadeusz”\""), s1002)
        XCTAssertTrue(s1002.contains("unitPrice=\"24.50\""), s1002)
        let s1001 = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_S-1001.xml")))
        XCTAssertTrue(s1001.contains("<payment cod=\"129.99\" currency=\"PLN\"/>"), s1001)
        XCTAssertTrue(s1001.contains("<order id=\"S-1001\" date=\"2026-11-27\">"), s1001)
        let s1003 = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_S-1003.xml")))
        XCTAssertTrue(s1003.contains("<order id=\"S-1003\" date=\"2026-11-28\">"), s1003)
        XCTAssertTrue(s1003.contains("<payment currency=\"PLN\"/>"), s1003)
        XCTAssertTrue(s1003.contains("unitPrice=\"8.00\""), s1003)
    }
}
