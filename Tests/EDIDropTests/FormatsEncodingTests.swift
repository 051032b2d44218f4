import Foundation
import XCTest
@testable import EDIDrop

/// Polish shops' files as Excel and older systems write them, read by content.
final class FormatsEncodingTests: XCTestCase {
    private let header = "order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes"

    func testTheDescriptionSaysWhetherTheEncodingWasProvedOrTheFallback() {
        XCTAssertEqual(EncodingDetection(encoding: .utf8, bomLength: 0, fallbackUsed: false).description, "UTF-8")
        XCTAssertEqual(EncodingDetection(encoding: .utf8, bomLength: 3, fallbackUsed: false).description, "UTF-8 (with BOM)")
        XCTAssertEqual(EncodingDetection(encoding: .utf16LE, bomLength: 2, fallbackUsed: false).description, "UTF-16LE (with BOM)")
        XCTAssertEqual(EncodingDetection(encoding: .windows1250, bomLength: 0, fallbackUsed: true).description,
                       "windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)")
        XCTAssertEqual(EncodingDetection(encoding: .iso8859_2, bomLength: 0, fallbackUsed: true).description,
                       "ISO-8859-2 (not valid UTF-8, no BOM: read with the configured encoding)")
    }

    func testTheLedgerValueReadsBackAsItsEncoding() {
        // Reports quote a rejected file's lines by reading this column back.
        XCTAssertEqual(TextEncoding(rawValue: "windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)"), .windows1250)
        XCTAssertEqual(TextEncoding(rawValue: "UTF-16LE (with BOM)"), .utf16LE)
        XCTAssertEqual(TextEncoding(rawValue: "ISO-8859-2 (declared in the XML document)"), .iso8859_2)
        XCTAssertEqual(TextEncoding(rawValue: "UTF-8"), .utf8)
        XCTAssertEqual(TextEncoding.utf8.rawValue, "UTF-8")
        XCTAssertNil(TextEncoding(rawValue: "latin1"))
    }

    func testAWindows1250FileWithPolishLettersIsReadAsTheFallback() throws {
        let text = header + "\r\n"
            + "W-1;20.11.2026;Łucja Wąsowska;;;ul. Świętokrzyska 12/4;Łódź;90-001;PL;;;;;KUB-ŻÓŁ;;2;49,75;Kubek żółty – duży;Dzwonić\r\n"
        let opened = try FormatsSupport.open(FormatsSupport.encode(text, .windows1250)).get()
        XCTAssertEqual(opened.format, .ordersCSV)
        XCTAssertEqual(opened.encoding, "windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)")
        let orders = FormatsSupport.orders(opened)
        XCTAssertEqual(orders.first?.customer.name, "Łucja Wąsowska")
        XCTAssertEqual(orders.first?.shipTo.street, "ul. Świętokrzyska 12/4")
        XCTAssertEqual(orders.first?.shipTo.city, "Łódź")
        XCTAssertEqual(orders.first?.lines.first?.sku, "KUB-ŻÓŁ")
        XCTAssertEqual(orders.first?.lines.first?.name, "Kubek żółty – duży")
    }

    func testAUTF16TabSeparatedFileWithBOMAsExcelSavesUnicodeText() throws {
        let text = header.replacingOccurrences(of: ";", with: "\t") + "\r\n"
            + ["U-1", "2026-11-22", "Grażyna Ćwik", "", "", "ul. Źródlana 8", "Zielona Góra", "65-001", "PL", "", "", "", "",
               "SKU-Ą", "5901234123457", "1", "9.99", "Świeca", ""].joined(separator: "\t") + "\r\n"
        let opened = try FormatsSupport.open(FormatsSupport.encode(text, .utf16LE)).get()
        XCTAssertEqual(opened.format, .ordersCSV)
        XCTAssertEqual(opened.encoding, "UTF-16LE (with BOM)")
        let order = try XCTUnwrap(FormatsSupport.orders(opened).first)
        XCTAssertEqual(order.customer.name, "Grażyna Ćwik")
        XCTAssertEqual(order.shipTo.street, "ul. Źródlana 8")
        XCTAssertEqual(order.lines.map(\.sku), ["SKU-Ą"])
        XCTAssertEqual(order.lines.first?.ean, "5901234123457")
    }

    func testISO88592IsReadWhenConfiguredAndMisreadOtherwise() throws {
        // ą ś ź are where ISO-8859-2 and windows-1250 differ.
        let text = header + "\n" + "L-1;2026-11-23;Jadwiga Ślązak;;;ul. Źródłowa 1;Kraśnik;23-200;PL;;;;;MIÓD-1;;1;;Miód gryczany ąśź;\n"
        let bytes = FormatsSupport.encode(text, .iso8859_2)
        var configuration = SpoolConfiguration()
        configuration.intake.fallbackEncoding = .iso8859_2
        let right = try FormatsSupport.open(bytes, configuration: configuration).get()
        XCTAssertEqual(right.encoding, "ISO-8859-2 (not valid UTF-8, no BOM: read with the configured encoding)")
        let order = try XCTUnwrap(FormatsSupport.orders(right).first)
        XCTAssertEqual(order.customer.name, "Jadwiga Ślązak")
        XCTAssertEqual(order.shipTo.city, "Kraśnik")
        XCTAssertEqual(order.lines.first?.name, "Miód gryczany ąśź")

        let wrong = try FormatsSupport.open(bytes).get()
        XCTAssertEqual(wrong.encoding, "windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)")
        XCTAssertNotEqual(wrong.drafts.first?.customerName?.value, "Jadwiga Ślązak",
                          "without the setting the letters come out wrong, which is why the report names the encoding")
    }

    func testAByteUndefinedInWindows1250IsENCODINGWithItsLine() throws {
        var bytes = FormatsSupport.encode(header + "\r\nE-1;;Łukasz;;;Długa 1;Łódź;90-001;PL;;;;;A;;1;;;\r\nE-2;;Ewa ", .windows1250)
        bytes += [0x98] // one of the five bytes windows-1250 leaves undefined
        bytes += FormatsSupport.encode(";;;Polna 2;Łódź;90-001;PL;;;;;B;;1;;;\r\n", .windows1250)
        let opened = try FormatsSupport.open(bytes).get()
        XCTAssertEqual(opened.findings.map(\.code), [.encoding])
        XCTAssertEqual(opened.findings.first?.line, 3)
        XCTAssertEqual(opened.findings.first?.column, 10, "\"E-2;;Ewa \" is 9 characters")
        XCTAssertTrue(opened.findings.first?.message.contains("0x98") ?? false, "\(opened.findings)")
    }

    func testAnXMLDocumentIsDescribedByWhatItsDeclarationSays() throws {
        let xml = """
        <?xml version="1.0" encoding="ISO-8859-2"?>
        <orders xmlns="urn:edidrop:orders:1">
          <order id="X-1"><customer name="Bożena Żądło"/>
            <shipTo street="ul. Ściegiennego 5" city="Kielce" postcode="25-001" country="PL"/>
            <line sku="Ś-1" quantity="1"/></order>
        </orders>

        """
        let opened = try FormatsSupport.open(FormatsSupport.encode(xml, .iso8859_2)).get()
        XCTAssertEqual(opened.format, .ordersXML)
        XCTAssertEqual(opened.encoding, "ISO-8859-2 (declared in the XML document)")
        XCTAssertEqual(FormatsSupport.orders(opened).first?.customer.name, "Bożena Żądło")

        let plain = try FormatsSupport.open(xml.replacingOccurrences(of: " encoding=\"ISO-8859-2\"", with: ""))
        XCTAssertEqual(plain.encoding, "UTF-8", "a UTF-8 document is simply UTF-8")
    }
}
