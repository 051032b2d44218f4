import Foundation
import XCTest
@testable import EDIDrop

final class OrdersCSVReaderTests: XCTestCase {
    private let header = "order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes"

    private func readDrafts<S: ByteSource>(_ source: S) -> (drafts: [OrderDraft], findings: [Diagnostic]) {
        var reader = OrdersCSVReader(csv: CSVReader(source: source))
        var drafts: [OrderDraft] = []
        while let d = reader.next() { drafts.append(d) }
        XCTAssertNil(reader.next(), "stays finished")
        return (drafts, reader.findings)
    }

    private func readDrafts(_ text: String) -> (drafts: [OrderDraft], findings: [Diagnostic]) {
        readDrafts(BytesSource(text))
    }

    /// 1-based character column where the `index`-th (0-based) `;`-separated cell of `line` starts.
    private func column(of index: Int, in line: String, separator: Character = ";") -> Int {
        let cells = line.split(separator: separator, omittingEmptySubsequences: false)
        return cells.prefix(index).reduce(1) { $0 + $1.count + 1 }
    }

    func testRowsOfOneOrderAreGroupedAndColumnsMappedByName() throws {
        let row2 = "S-1;27.11.2026;Łucja Żółć;lucja@example.com;600;Długa 5;Kraków;31-147;PL;inpost;KRA01M;129,99;PLN;MUG-001;5901234123457;2;19,99;Kubek;dzwonić"
        let row3 = "S-1;;;;;;;;;;;;;TEA-002;;1;9;Herbata;"
        let row4 = "S-2;2026-11-27;Jan Nowak;;;Polna 1;Łódź;90-001;PL;;;;;BOOK-7;;3;49.5;Książka;"
        let (drafts, findings) = readDrafts([header, row2, row3, row4].joined(separator: "\n") + "\n")
        XCTAssertEqual(findings, [])
        XCTAssertEqual(drafts.count, 2)

        let a = drafts[0]
        XCTAssertEqual(a.line, 2)
        XCTAssertEqual(a.id, Located("S-1", line: 2, column: 1))
        XCTAssertEqual(a.customerName, Located("Łucja Żółć", line: 2, column: column(of: 2, in: row2)))
        XCTAssertEqual(a.city, Located("Kraków", line: 2, column: column(of: 6, in: row2)))
        XCTAssertEqual(a.cod?.value, "129,99")
        XCTAssertEqual(a.notes?.value, "dzwonić")
        XCTAssertEqual(a.findings, [])
        XCTAssertEqual(a.lines.map(\.line), [2, 3])
        XCTAssertEqual(a.lines.map { $0.sku?.value }, ["MUG-001", "TEA-002"])
        XCTAssertEqual(a.lines.map { $0.quantity?.value }, ["2", "1"])
        XCTAssertEqual(a.lines[1].quantity, Located("1", line: 3, column: column(of: 15, in: row3)))
        XCTAssertEqual(a.lines[0].quantity?.column, column(of: 15, in: row2), "columns count characters, not bytes")
        XCTAssertEqual(a.lines[0].name?.value, "Kubek")
        XCTAssertEqual(a.lines[1].ean?.value, "")

        let b = drafts[1]
        XCTAssertEqual(b.line, 4)
        XCTAssertEqual(b.id?.value, "S-2")
        XCTAssertEqual(b.city?.value, "Łódź")
        XCTAssertEqual(b.lines.count, 1)
        XCTAssertEqual(b.lines[0].unitPrice?.value, "49.5")
    }

    func testColumnsInAnyOrderAndCaseAndBOM() throws {
        let text = "\u{FEFF}SKU;Quantity; ORDER_ID ;Country;Postcode;City;Street;Customer_Name\nX-1;4;S-9;PL;00-001;Warszawa;Polna 2;Ewa\n"
        let (drafts, findings) = readDrafts(text)
        XCTAssertEqual(findings, [])
        let d = try XCTUnwrap(drafts.first)
        XCTAssertEqual(d.id?.value, "S-9")
        XCTAssertEqual(d.customerName?.value, "Ewa")
        XCTAssertEqual(d.lines.first?.sku?.value, "X-1")
        XCTAssertEqual(d.lines.first?.quantity?.value, "4")
        XCTAssertNil(d.email, "an absent column gives no value")
        XCTAssertNil(d.lines.first?.ean)

        XCTAssertEqual(OrdersCSVReader<BytesSource>.normalizedHeader("\u{FEFF}Order_ID "), "order_id")
        XCTAssertEqual(OrdersCSVReader<BytesSource>.normalizedHeader("  CITY\t"), "city")
    }

    /// The exact canonical header skips the table of names (`OrdersCSVLayout.isCanonical`);
    /// the same columns written another way go through it. Both must read alike, and a
    /// header that is canonical but for one repeated or missing column must not slip
    /// through the shortcut.
    func testTheCanonicalHeaderShortcutReadsAsTheTableOfNamesDoes() throws {
        let rows = "S-1;27.11.2026;Ewa;e@example.com;600;Polna 2;Kraków;31-147;PL;inpost;KRA01M;5,00;PLN;MUG-1;;2;1,99;Kubek;uwaga\n"
            + "S-1;;;;;;;;;;;;;TEA-2;;1;3;Herbata;\n"
        func firstRecord(_ text: String) throws -> CSVRecord {
            var csv = CSVReader(source: BytesSource(text + "\n"))
            return try XCTUnwrap(csv.next())
        }
        XCTAssertTrue(OrdersCSVLayout.isCanonical(try firstRecord(header)))
        let spelled = header.split(separator: ";").map { " " + $0.uppercased() + " " }.joined(separator: ";")
        XCTAssertFalse(OrdersCSVLayout.isCanonical(try firstRecord(spelled)))
        let short = readDrafts(header + "\n" + rows)
        let long = readDrafts(spelled + "\n" + rows)
        XCTAssertEqual(short.findings, [])
        XCTAssertEqual(long.findings, [])
        XCTAssertEqual(short.drafts.count, 1)
        XCTAssertEqual(String(reflecting: short.drafts), String(reflecting: long.drafts))
        XCTAssertEqual(short.drafts.first?.notes?.value, "uwaga", "the last column is found too")

        // The same count of columns, one name repeated in place of another: no shortcut.
        let repeated = header.replacingOccurrences(of: ";notes", with: ";sku")
        let r = readDrafts(repeated + "\n" + rows)
        XCTAssertEqual(r.drafts.count, 0)
        XCTAssertEqual(r.findings.map(\.code), [.malformed], "the repeated sku column is reported")
        let missing = header.replacingOccurrences(of: "order_id;", with: "order_no;")
        let m = readDrafts(missing + "\n" + rows)
        XCTAssertEqual(m.findings.map(\.code), [.missingField])
        XCTAssertEqual(m.findings.first?.field, "order_id")
    }

    /// Opened from a file, a canonical header is read once: the reader goes on from the
    /// opener's look at it (`OrdersCSVReader(continuing:afterCanonicalHeader:)`). Lines,
    /// columns and values must be those of the same file read from the top by name.
    func testAnOpenedFileReadsOnFromTheHeaderAsFromTheTop() throws {
        let rows = "S-1;27.11.2026;Ewa;e@example.com;600;\"Polna 2\r\nlok. 3\";Kraków;31-147;PL;;;;;MUG-1;;2;1,99;Kubek;\r\n"
            + "S-2;27.11.2026;Jan;;;Długa 1;Łódź;90-001;PL;;;;;TEA-2;;x;3;Herbata;uwaga\r\n"
        let spelled = header.split(separator: ";").map { $0.uppercased() }.joined(separator: ";")
        func open(_ text: String) throws -> FormatsSupport.Opened {
            switch try FormatsSupport.open(Array(text.utf8), name: "orders.csv") {
            case .success(let opened): return opened
            case .failure(let finding): XCTFail("\(finding)"); throw finding
            }
        }
        let canonical = try open(header + "\r\n" + rows)
        let byName = try open(spelled + "\r\n" + rows)
        XCTAssertEqual(canonical.format, .ordersCSV)
        XCTAssertEqual(canonical.drafts.map(\.line), [2, 4])
        XCTAssertEqual(canonical.drafts.last?.lines.first?.quantity, Located("x", line: 4, column: column(of: 15, in: "S-2;27.11.2026;Jan;;;Długa 1;Łódź;90-001;PL;;;;;TEA-2;;x;3;Herbata;uwaga")))
        XCTAssertEqual(canonical.drafts.first?.street?.value, "Polna 2\r\nlok. 3")
        XCTAssertEqual(String(reflecting: canonical.drafts), String(reflecting: byName.drafts))
        XCTAssertEqual(canonical.findings.count, byName.findings.count)
    }

    func testRowsThatDisagreeOnAnOrderFieldAreFlagged() throws {
        let row2 = "S-1;;Anna;;;Długa 5;Kraków;31-147;PL;;;;;A;;1;;;"
        let row3 = "S-1;;Anna;;;Długa 5;Warszawa;31-147;PL;;;10;;B;;1;;;"
        let row4 = "S-1;;Anna;;;Długa 5;Kraków;31-147;PL;;;;;C;;1;;;"
        let (drafts, findings) = readDrafts([header, row2, row3, row4].joined(separator: "\r\n"))
        XCTAssertEqual(findings, [])
        XCTAssertEqual(drafts.count, 1)
        let d = drafts[0]
        XCTAssertEqual(d.lines.count, 3)
        XCTAssertEqual(d.findings.count, 1, "\(d.findings)")
        let f = try XCTUnwrap(d.findings.first)
        XCTAssertEqual(f.code, .inconsistentOrder)
        XCTAssertEqual(f.line, 3)
        XCTAssertEqual(f.column, column(of: 6, in: row3))
        XCTAssertEqual(f.field, "city")
        XCTAssertEqual(f.value, "Warszawa")
        XCTAssertEqual(f.orderID, "S-1")
        XCTAssertTrue(f.message.contains("line 2"), f.message)
        // A value the first row left empty is taken from the later row, not flagged.
        XCTAssertEqual(d.cod, Located("10", line: 3, column: column(of: 11, in: row3)))
        XCTAssertEqual(d.city?.value, "Kraków")
    }

    func testEmptyLaterCellsInheritAndFilledOnesFillGaps() {
        let row2 = "S-1;;Anna;;;Długa 5;Kraków;31-147;PL;;;;;A;;1;;;"
        let row3 = "S-1;;;anna@example.com;;;;;;dpd;;;;B;;2;;;uwaga"
        let (drafts, findings) = readDrafts([header, row2, row3].joined(separator: "\n"))
        XCTAssertEqual(findings, [])
        XCTAssertEqual(drafts.count, 1)
        let d = drafts[0]
        XCTAssertEqual(d.findings, [])
        XCTAssertEqual(d.customerName?.value, "Anna")
        XCTAssertEqual(d.street?.value, "Długa 5")
        XCTAssertEqual(d.email, Located("anna@example.com", line: 3, column: column(of: 3, in: row3)))
        XCTAssertEqual(d.carrier?.value, "dpd")
        XCTAssertEqual(d.notes?.value, "uwaga")
        XCTAssertEqual(d.lines.map { $0.sku?.value }, ["A", "B"])
    }

    func testSameIDAgainLaterStartsANewDraft() {
        let rows = [header,
                    "S-1;;Anna;;;Długa 5;Kraków;31-147;PL;;;;;A;;1;;;",
                    "S-2;;Jan;;;Polna 1;Łódź;90-001;PL;;;;;B;;1;;;",
                    "S-1;;Anna;;;Długa 5;Kraków;31-147;PL;;;;;C;;1;;;"]
        let (drafts, _) = readDrafts(rows.joined(separator: "\n"))
        XCTAssertEqual(drafts.map { $0.id?.value }, ["S-1", "S-2", "S-1"])
        XCTAssertEqual(drafts.map(\.line), [2, 3, 4])
        XCTAssertEqual(drafts.map { $0.lines.count }, [1, 1, 1])
    }

    func testMissingHeaderColumnsAreReportedAtLineOne() {
        let (drafts, findings) = readDrafts("order_id;sku;Street;notes\nS-1;A;Polna;x\n")
        XCTAssertEqual(drafts.count, 0, "nothing is read under a broken header")
        XCTAssertEqual(findings.map(\.code), Array(repeating: .missingField, count: 5))
        XCTAssertEqual(findings.map(\.field), ["customer_name", "city", "postcode", "country", "quantity"])
        XCTAssertTrue(findings.allSatisfy { $0.line == 1 })
        XCTAssertTrue(findings[0].message.contains("customer_name"))
        XCTAssertTrue(findings[0].hint?.contains("order_id;order_date;customer_name") == true)
    }

    func testEmptyInputAndBrokenQuoting() {
        let (none, empty) = readDrafts("")
        XCTAssertEqual(none.count, 0)
        XCTAssertEqual(empty.map(\.code), [.emptyFile])
        XCTAssertEqual(empty.first?.line, 1)

        let (drafts, findings) = readDrafts(header + "\nS-1;;\"Anna;;;Długa 5;Kraków;31-147;PL;;;;;A;;1;;;\n")
        XCTAssertEqual(drafts.count, 0)
        XCTAssertEqual(findings.map(\.code), [.malformed])
        XCTAssertEqual(findings.first?.line, 2)
    }

    func testQuotedFieldsWithDelimitersAndLineBreaks() throws {
        let row4 = "S-2;;Jan;;;Polna 1;Łódź;90-001;PL;;;;;B;;7;;;"
        let text = header + "\n" + "S-1;;\"Kowalska; Anna\";;;\"ul. \"\"Długa\"\" 5\";Kraków;31-147;PL;;;;;A;;1;;;\"linia 1\nlinia 2\"\n"
            + row4 + "\n"
        let (drafts, findings) = readDrafts(text)
        XCTAssertEqual(findings, [])
        XCTAssertEqual(drafts.count, 2)
        XCTAssertEqual(drafts[0].customerName?.value, "Kowalska; Anna")
        XCTAssertEqual(drafts[0].street?.value, "ul. \"Długa\" 5")
        XCTAssertEqual(drafts[0].notes?.value, "linia 1\nlinia 2")
        XCTAssertEqual(drafts[1].line, 4, "a line break inside a quoted field still counts as a line")
        XCTAssertEqual(drafts[1].lines.first?.quantity, Located("7", line: 4, column: column(of: 15, in: row4)))
    }

    func testCommaDelimitedWithDecimalPoint() {
        let row = "S-1,Anna,Polna 1,Kraków,31-147,PL,A,2,\"19,99\""
        let text = "order_id,customer_name,street,city,postcode,country,sku,quantity,unit_price\n" + row + "\n"
        let (drafts, findings) = readDrafts(text)
        XCTAssertEqual(findings, [])
        XCTAssertEqual(drafts.first?.lines.first?.unitPrice?.value, "19,99")
        XCTAssertEqual(drafts.first?.lines.first?.quantity?.column, column(of: 7, in: row, separator: ","))
    }

    func testUTF16WithBOMThroughTranscodingSource() throws {
        let row = "S-1;Zażółć Gęślą;Jaźń 5;Kraków;31-147;PL;Ż-1;2"
        let text = "order_id;customer_name;street;city;postcode;country;sku;quantity\r\n" + row + "\r\n"
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in text.utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let source = TranscodingSource(base: BytesSource(bytes), detection: EncodingDetection(encoding: .utf16LE, bomLength: 2, fallbackUsed: false))
        let (drafts, findings) = readDrafts(source)
        XCTAssertEqual(findings, [])
        let d = try XCTUnwrap(drafts.first)
        XCTAssertEqual(d.customerName?.value, "Zażółć Gęślą")
        XCTAssertEqual(d.street?.value, "Jaźń 5")
        XCTAssertEqual(d.lines.first?.sku?.value, "Ż-1")
        XCTAssertEqual(d.lines.first?.quantity, Located("2", line: 2, column: column(of: 7, in: row)))
    }

    func testWindows1250ThroughTranscodingSource() throws {
        // "Łódź" and "Śląska" in windows-1250: Ł=A3 ó=F3 d ź=9F, Ś=8C l ą=B9 s k a.
        var bytes = Array("order_id;customer_name;street;city;postcode;country;sku;quantity\nS-1;Ala;".utf8)
        bytes += [0x8C, 0x6C, 0xB9, 0x73, 0x6B, 0x61] + Array(" 1;".utf8) + [0xA3, 0xF3, 0x64, 0x9F]
        bytes += Array(";90-001;PL;A;1\n".utf8)
        let source = TranscodingSource(base: BytesSource(bytes), detection: EncodingDetection(encoding: .windows1250, bomLength: 0, fallbackUsed: true))
        let (drafts, findings) = readDrafts(source)
        XCTAssertEqual(findings, [])
        XCTAssertEqual(drafts.first?.street?.value, "Śląska 1")
        XCTAssertEqual(drafts.first?.city?.value, "Łódź")
    }
}
