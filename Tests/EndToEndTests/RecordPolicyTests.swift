import Foundation
import XCTest

/// `[intake] policy = "record"`: the valid orders of a CSV go out, the invalid ones come
/// back in rejected/NAME.rejects.csv, in the file's own layout and encoding.
final class RecordPolicyTests: XCTestCase {
    func testValidOrdersGoOutAndTheRejectsKeepTheOriginalBytesAndEncoding() throws {
        let spool = try TestSpool(configuration: "[intake]\npolicy = \"record\"\n")
        // Windows-1250 (no BOM), CRLF line endings, a two-row order whose second row is bad,
        // and a quoted note over two lines in a rejected order.
        let rows = [
            Fixtures.csvHeader.replacingOccurrences(of: "\n", with: ""),
            "RP-1;2026-11-20;Łucja Żak;;;ul. Długa 5;Kraków;31-147;PL;inpost;;0;PLN;A;;1;1,00;Kubek;",
            "RP-2;2026-11-20;Paweł Nowak;;;Rynek 1;Gdańsk;80-001;PL;dpd;;0;PLN;A;;1;1,00;Kubek;",
            "RP-2;2026-11-20;Paweł Nowak;;;Rynek 1;Gdańsk;80-001;PL;dpd;;0;PLN;B;;0;1,00;Zero;",
            "RP-3;2026-11-20;Ewa Kos;;;Polna 3;Łódź;90-001;PL;dpd;;0;PLN;C;5901234123458;1;1,00;Zły EAN;\"notatka\r\nw dwóch wierszach\"",
            "RP-4;2026-11-20;Jan Wójcik;;;Leśna 4;Poznań;60-001;PL;dpd;;0;PLN;D;;2;3,50;Świeca;",
        ]
        let text = rows.joined(separator: "\r\n") + "\r\n"
        let bytes = try XCTUnwrap(cp1250(text))
        try spool.drop("mixed.csv", bytes)
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)

        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RP-1.xml", "ORDER_RP-4.xml"])
        let rp1 = try String(contentsOfFile: spool.path("outbox/ORDER_RP-1.xml"), encoding: .utf8)
        XCTAssertTrue(rp1.contains("Łucja Żak"), rp1)
        XCTAssertEqual(spool.files(in: "archive").map { ($0 as NSString).lastPathComponent }, ["mixed.csv"], "the original is archived")
        XCTAssertEqual(spool.files(in: "rejected"), ["mixed.csv.rejects.csv", "mixed.csv.report.html", "mixed.csv.report.json", "mixed.csv.report.txt"])

        let rejects = try Data(contentsOf: URL(fileURLWithPath: spool.path("rejected/mixed.csv.rejects.csv")))
        let expected = try XCTUnwrap(cp1250([rows[0], rows[2], rows[3], rows[4]].joined(separator: "\r\n") + "\r\n"))
        XCTAssertEqual(rejects, expected, "header and every row of the rejected orders, byte for byte, in windows-1250")

        let report = try spool.report("mixed.csv")
        XCTAssertEqual(report["status"] as? String, "partial")
        XCTAssertEqual(report["sentOrders"] as? Int, 2)
        XCTAssertEqual(report["sentOrderIds"] as? [String], ["RP-1", "RP-4"], "the report says which orders went through")
        XCTAssertEqual(report["rejectsFile"] as? String, "mixed.csv.rejects.csv")
        XCTAssertEqual(try spool.errorCodes("mixed.csv"), ["INVALID_QUANTITY@4", "INVALID_EAN@5"])
        let txt = try String(contentsOfFile: spool.path("rejected/mixed.csv.report.txt"), encoding: .utf8)
        XCTAssertTrue(txt.contains("PARTLY ACCEPTED: 2 errors in 2 of 4 orders; the other 2 orders were sent; the rejected orders are in mixed.csv.rejects.csv."), txt)
        XCTAssertTrue(txt.contains("Orders sent: RP-1, RP-4\n"), txt)
        let files = try spool.json(["files"]) as? [[String: Any]]
        XCTAssertEqual(files?.first?["state"] as? String, "accepted")

        // Fixed and dropped back: the rejects file is an ordinary new file.
        let fixed = rows[0] + "\r\n" + rows[2] + "\r\n" + rows[3].replacingOccurrences(of: ";0;1,00;Zero;", with: ";1;1,00;Zero;") + "\r\n"
            + rows[4].replacingOccurrences(of: "5901234123458", with: "5901234123457") + "\r\n"
        try spool.drop("mixed-fixed.csv", try XCTUnwrap(cp1250(fixed)))
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RP-1.xml", "ORDER_RP-2.xml", "ORDER_RP-3.xml", "ORDER_RP-4.xml"])
        let rp3 = try String(contentsOfFile: spool.path("outbox/ORDER_RP-3.xml"), encoding: .utf8)
        XCTAssertTrue(rp3.contains("notatka&#13;\nw dwóch wierszach") || rp3.contains("notatka\r\nw dwóch wierszach") || rp3.contains("notatka&#13;&#10;w dwóch wierszach"), rp3)
    }

    func testXMLRejectsHoldOnlyTheRejectedOrdersAndStayWellFormed() throws {
        let spool = try TestSpool(configuration: "[intake]\npolicy = \"record\"\n")
        let order = { (id: String, line: String) in
            """
              <order id="\(id)">
                <customer name="Łucja Żak"/>
                <shipTo street="Długa 1" city="Kraków" postcode="31-147" country="PL"/>
                \(line)
              </order>

            """
        }
        let prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">\n"
        let bad1 = order("RX-1", "<line sku=\"A\" quantity=\"x\"/>")           // the schema's finding
        let good = order("RX-2", "<line sku=\"B\" quantity=\"2\"/>")
        let bad2 = order("RX-3", "<line sku=\"C\" ean=\"5901234123458\" quantity=\"1\"/>")  // a rule's finding
        let last = order("RX-4", "<line sku=\"D\" quantity=\"1\"/>")
        try spool.drop("mixed.xml", prolog + bad1 + good + bad2 + last + "</orders>\n")
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RX-2.xml", "ORDER_RX-4.xml"])
        let rejects = try String(contentsOfFile: spool.path("rejected/mixed.xml.rejects.xml"), encoding: .utf8)
        XCTAssertEqual(rejects, prolog + bad1 + bad2 + "</orders>\n", "the rejected orders as written, in a well-formed document")
        XCTAssertEqual(try spool.errorCodes("mixed.xml").map { $0.components(separatedBy: "@")[0] }, ["SCHEMA", "INVALID_EAN"])
        XCTAssertEqual(try spool.report("mixed.xml")["rejectsFile"] as? String, "mixed.xml.rejects.xml")
        // Fixed and dropped back, the rejects file is taken like any other.
        try spool.drop("fixed.xml", rejects.replacingOccurrences(of: "quantity=\"x\"", with: "quantity=\"1\"")
            .replacingOccurrences(of: "5901234123458", with: "5901234123457"))
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RX-1.xml", "ORDER_RX-2.xml", "ORDER_RX-3.xml", "ORDER_RX-4.xml"])
    }

    func testAFileLevelProblemStillRejectsTheWholeFile() throws {
        let spool = try TestSpool(configuration: "[intake]\npolicy = \"record\"\n")
        try spool.drop("broken.csv", Fixtures.csvHeader + Fixtures.csvRow("RB-1") + "RB-2;\"unterminated\n")
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), [])
        XCTAssertEqual(try spool.errorCodes("broken.csv").first?.components(separatedBy: "@").first, "MALFORMED")
    }

    /// Windows-1250 bytes of Polish text (the letters used above).
    private func cp1250(_ s: String) -> Data? {
        let table: [Character: UInt8] = ["Ł": 0xA3, "ł": 0xB3, "Ż": 0xAF, "ż": 0xBF, "ó": 0xF3, "ń": 0xF1, "ś": 0x9C, "Ś": 0x8C,
                                         "ą": 0xB9, "ę": 0xEA, "ć": 0xE6, "ź": 0x9F, "Ź": 0x8F]
        var out = Data()
        for ch in s {
            if let b = table[ch] { out.append(b) } else if ch.isASCII { out.append(contentsOf: Array(String(ch).utf8)) } else { return nil }
        }
        return out
    }
}
