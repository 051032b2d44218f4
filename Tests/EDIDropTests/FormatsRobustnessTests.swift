import Foundation
import XCTest
@testable import EDIDrop

/// Odd inputs found by the hostile corpus and the fuzzers, in the readers' own terms.
final class FormatsRobustnessTests: XCTestCase {
    private let header = "order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes"

    private func dryRun(_ text: String, name: String = "file") throws -> DryRun.Result {
        let folder = FixtureFolder("edidrop-formats-dry")
        let path = folder.join(name)
        Fixture.write(text, to: path)
        return try withExtendedLifetime(folder) {
            try DryRun(schemas: Fixture.schemas, configuration: SpoolConfiguration()).check(path: path)
        }
    }

    func testAColumnNamedTwiceIsMALFORMED() throws {
        let text = header + ";quantity\nD-1;;Ewa;;;Polna 1;Łódź;90-001;PL;;;;;A;;1;;;;7\n"
        let opened = try FormatsSupport.open(text)
        XCTAssertEqual(opened.drafts.count, 0)
        XCTAssertEqual(opened.findings.map(\.code), [.malformed])
        XCTAssertEqual(opened.findings.first?.line, 1)
        XCTAssertEqual(opened.findings.first?.column, header.count + 2)
        XCTAssertTrue(opened.findings.first?.message.contains("columns 16 and 20") ?? false, "\(opened.findings)")

        let shopify = "Name,Lineitem quantity,Lineitem sku,Shipping Name,Shipping Street,Shipping City,Shipping Zip,Shipping Country,Lineitem sku\n#1,1,A,Ewa,Polna 1,Łódź,'90-001,PL,B\n"
        XCTAssertEqual(try FormatsSupport.open(shopify).findings.map(\.code), [.malformed])
    }

    func testSpacesAndTabsOnlyAreAnEmptyFile() throws {
        guard case .failure(let d) = try FormatsSupport.open(Array("   \n\t\n  \r\n".utf8)) else { return XCTFail("no layout") }
        XCTAssertEqual(d.code, .emptyFile)
        XCTAssertEqual(d.line, 1)
        guard case .failure(let e) = try FormatsSupport.open(Array(";;;\n;;;\n".utf8)) else { return XCTFail("no layout") }
        XCTAssertEqual(e.code, .unknownFormat, "a header of delimiters is a layout, just an unknown one")
    }

    func testUTF8BytesUnderASingleByteDeclarationAreENCODING() throws {
        let xml = """
        <?xml version="1.0" encoding="ISO-8859-1"?>
        <orders xmlns="urn:edidrop:orders:1"><order id="E-1"><customer name="Ewa"/>
        <shipTo street="Polna 1" city="Łódź" postcode="90-001" country="PL"/><line sku="A" quantity="1"/></order></orders>
        """
        guard case .failure(let d) = try FormatsSupport.open(Array(xml.utf8)) else { return XCTFail("garbled text must not pass") }
        XCTAssertEqual(d.code, .encoding)
        XCTAssertEqual(d.line, 1)
        // Plain ASCII under the same declaration reads the same either way.
        XCTAssertEqual(try FormatsSupport.open(xml.replacingOccurrences(of: "Łódź", with: "Lodz")).format, .ordersXML)
        // And real ISO-8859-2 bytes under an ISO-8859-2 declaration are fine.
        let latin2 = xml.replacingOccurrences(of: "ISO-8859-1", with: "ISO-8859-2")
        XCTAssertEqual(try FormatsSupport.open(FormatsSupport.encode(latin2, .iso8859_2)).get().format, .ordersXML)
    }

    func testTheDelimiterDoesNotDependOnHowTheFileIsRead() throws {
        // A quoted header name holding a line break: the first line, as delimiter detection
        // reads it, goes on past the break.
        let text = "\"order\nid\"\tcustomer_name\tcity\n1\tEwa\tŁódź\n"
        func records(_ pieces: Int) throws -> [CSVRecord] {
            var reader = CSVReader(source: FormatsPieces(Array(text.utf8), size: pieces))
            var out: [CSVRecord] = []
            while let r = try reader.next() { out.append(r) }
            XCTAssertEqual(reader.delimiter, 0x09, "pieces of \(pieces)")
            return out
        }
        let whole = try records(1 << 16)
        XCTAssertEqual(whole.first?.fields.map(\.value), ["order\nid", "customer_name", "city"])
        for size in [1, 2, 3, 5] { XCTAssertEqual(try records(size), whole, "pieces of \(size)") }
    }

    func testAnOrderIDShapedLikeAMadeSafeNameGetsItsOwnFileName() {
        let first = WarehouseOrderFile.fileName(forOrderID: "a/b")
        let lookalike = String(first.dropFirst("ORDER_".count).dropLast(".xml".count))
        XCTAssertNotEqual(WarehouseOrderFile.fileName(forOrderID: lookalike), first)
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "S-1001"), "ORDER_S-1001.xml", "ordinary ids keep their names")
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "ABC-12345678901"), "ORDER_ABC-12345678901.xml", "11 digits are not a hash")
    }

    func testNoncharactersAreRefusedSinceNoXMLCanCarryThem() {
        var draft = OrderDraft(line: 2)
        draft.id = Located("N-1", line: 2)
        draft.customerName = Located("Ewa\u{FFFF}", line: 2, column: 5)
        draft.street = Located("Polna 1", line: 2)
        draft.city = Located("Łódź", line: 2)
        draft.postcode = Located("90-001", line: 2)
        draft.country = Located("PL", line: 2)
        var line = OrderDraft.Line(line: 2)
        line.sku = Located("A", line: 2)
        line.quantity = Located("1", line: 2)
        draft.lines = [line]
        let (order, problems) = OrderValidator().validate(draft)
        XCTAssertNil(order)
        XCTAssertEqual(problems.map(\.code), [.invalidValue])
        XCTAssertEqual(problems.first?.field, "customer_name")
    }

    func testASchemaErrorIsNotRestatedAsMissingFields() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <orders xmlns="urn:edidrop:orders:1">
          <order id="M-1">
            <customer name="Zofia"/>
            <line sku="A" quantity="1"/>
          </order>
          <order id="M-2">
            <customer name="Jan"/>
            <shipTo street="Polna 1" city="Łódź" postcode="90-001" country="PL"/>
            <line sku="B" quantity="1" ean="5901234123458"/>
          </order>
        </orders>
        """
        let r = try dryRun(xml, name: "m.xml")
        XCTAssertFalse(r.valid)
        XCTAssertEqual(r.report.diagnostics.map { "\($0.code.rawValue)@\($0.line ?? 0)" }, ["SCHEMA@5", "INVALID_EAN@10"],
                       "the schema's word for M-1, and what no schema can see in M-2")
    }

    func testASkippedOnlyShopifyFileIsAcceptedInADryRun() throws {
        let text = "Name,Lineitem quantity,Lineitem sku,Lineitem requires shipping,Shipping Name,Shipping Street,Shipping City,Shipping Zip,Shipping Country\n"
            + "#1,1,,false,,,,,\n"
        let r = try dryRun(text, name: "gift.csv")
        XCTAssertTrue(r.valid, r.report.text())
        XCTAssertEqual(r.record.documents, 0)
    }
}

/// Hands out its bytes `size` at a time, as a slow mount would.
struct FormatsPieces: ByteSource {
    private let bytes: [UInt8]
    private let size: Int
    private var offset = 0

    init(_ bytes: [UInt8], size: Int) {
        self.bytes = bytes
        self.size = size
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset, size)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}
