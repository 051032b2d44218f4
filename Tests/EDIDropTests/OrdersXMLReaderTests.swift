import Foundation
import XCTest
import XMLSupport
@testable import EDIDrop

final class OrdersXMLReaderTests: XCTestCase {
    private func readDrafts(_ xml: String) -> (drafts: [OrderDraft], findings: [Diagnostic]) {
        var source = BytesSource(xml)
        let stream = XMLStreamReader(documentName: "orders.xml", schema: Fixture.schemas.orders) { try source.read(into: $0) }
        var reader = OrdersXMLReader(reader: stream)
        var drafts: [OrderDraft] = []
        while let d = reader.next() { drafts.append(d) }
        XCTAssertNil(reader.next())
        return (drafts, reader.findings)
    }

    private let twoOrders = """
    <?xml version="1.0" encoding="UTF-8"?>
    <orders xmlns="urn:edidrop:orders:1">
      <order id="PL-1001" date="2026-11-27">
        <customer name="Anna Kowalska" email="anna@example.com" phone="+48600100200"/>
        <shipTo street="ul. Długa 5/3" city="Kraków" postcode="31-147" country="PL"/>
        <delivery carrier="inpost" pickupPoint="KRA01M"/>
        <payment cod="129.99" currency="PLN"/>
        <notes>Proszę dzwonić &amp; czekać
    przed 10:00</notes>
        <line sku="MUG-001" ean="5901234123457" quantity="2" unitPrice="19.99" name="Kubek"/>
        <line sku="TEA-002" quantity="1"/>
      </order>
      <order id="PL-1002">
        <customer name="Jan &quot;Żółw&quot; Nowak"/>
        <shipTo street="Polna 1" city="Łódź" postcode="90-001" country="PL"/>
        <line sku="BOOK-7" quantity="3" unitPrice="49.50" name="Książka &lt;twarda&gt;"/>
      </order>
    </orders>

    """

    /// From 1 MiB on, DocumentOpener has the file parsed on a thread of its own; the
    /// drafts and findings must be exactly those of reading it on one thread.
    func testALargeFileParsedConcurrentlyGivesTheSameDraftsAndFindings() throws {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">\n"
        var k = 0
        while xml.utf8.count < 3 << 19 {
            let quantity = k % 1500 == 7 ? "0" : "\(k % 9 + 1)"
            xml += """
                  <order id="BIG-\(k)" date="2026-11-27">
                    <customer name="Zażółć Gęślą \(k)"/>
                    <shipTo street="ul. Długa \(k)" city="Kraków" postcode="31-147" country="PL"/>
                    <line sku="SKU-\(k)" quantity="\(quantity)" name="Kubek &amp; spodek"/>
                  </order>

                """
            k += 1
        }
        xml += "</orders>\n"
        let inline = readDrafts(xml)
        let opened = try FormatsSupport.open(Array(xml.utf8), name: "big.xml").get()
        XCTAssertGreaterThanOrEqual(Int64(xml.utf8.count), DocumentOpener.concurrentXMLParsing)
        XCTAssertEqual(opened.drafts.count, k)
        XCTAssertEqual(opened.drafts.map { "\($0)" }, inline.drafts.map { "\($0)" })
        XCTAssertEqual(opened.findings, inline.findings)
        XCTAssertEqual(opened.findings.count, (k + 1499 - 7) / 1500)
        XCTAssertEqual(opened.findings.first?.code, .schema)
        XCTAssertEqual(opened.findings.first?.line, 3 + 7 * 5 + 3)
    }

    func testDraftsWithTheirLines() throws {
        let (drafts, findings) = readDrafts(twoOrders)
        XCTAssertEqual(findings, [])
        XCTAssertEqual(drafts.count, 2)

        let a = drafts[0]
        XCTAssertEqual(a.line, 3)
        XCTAssertEqual(a.id, Located("PL-1001", line: 3))
        XCTAssertEqual(a.date?.value, "2026-11-27")
        XCTAssertEqual(a.customerName, Located("Anna Kowalska", line: 4))
        XCTAssertEqual(a.email?.value, "anna@example.com")
        XCTAssertEqual(a.phone?.value, "+48600100200")
        XCTAssertEqual(a.street, Located("ul. Długa 5/3", line: 5))
        XCTAssertEqual(a.city?.value, "Kraków")
        XCTAssertEqual(a.postcode?.value, "31-147")
        XCTAssertEqual(a.country?.value, "PL")
        XCTAssertEqual(a.carrier, Located("inpost", line: 6))
        XCTAssertEqual(a.pickupPoint?.value, "KRA01M")
        XCTAssertEqual(a.cod, Located("129.99", line: 7))
        XCTAssertEqual(a.currency?.value, "PLN")
        XCTAssertEqual(a.notes, Located("Proszę dzwonić & czekać\nprzed 10:00", line: 8))
        XCTAssertEqual(a.lines.count, 2)
        XCTAssertEqual(a.lines.map(\.line), [10, 11])
        XCTAssertEqual(a.lines[0].sku, Located("MUG-001", line: 10))
        XCTAssertEqual(a.lines[0].ean?.value, "5901234123457")
        XCTAssertEqual(a.lines[0].quantity?.value, "2")
        XCTAssertEqual(a.lines[0].unitPrice?.value, "19.99")
        XCTAssertEqual(a.lines[0].name?.value, "Kubek")
        XCTAssertNil(a.lines[1].ean)
        XCTAssertNil(a.lines[1].unitPrice)
        XCTAssertEqual(a.findings, [])

        let b = drafts[1]
        XCTAssertEqual(b.line, 13)
        XCTAssertEqual(b.id?.value, "PL-1002")
        XCTAssertNil(b.date)
        XCTAssertEqual(b.customerName?.value, "Jan \"Żółw\" Nowak")
        XCTAssertNil(b.carrier)
        XCTAssertNil(b.cod)
        XCTAssertNil(b.notes, "notes of the previous order must not leak")
        XCTAssertEqual(b.lines.map { $0.sku?.value }, ["BOOK-7"])
        XCTAssertEqual(b.lines.first?.name?.value, "Książka <twarda>")
    }

    func testDraftsValidateIntoOrders() throws {
        let (drafts, _) = readDrafts(twoOrders)
        let orders = drafts.compactMap { OrderValidator().validate($0).order }
        XCTAssertEqual(orders.map(\.id), ["PL-1001", "PL-1002"])
        XCTAssertEqual(orders[0].cod?.formatted, "129.99")
        XCTAssertEqual(orders[1].lines.first?.unitPrice?.formatted, "49.50")
    }

    func testBadQuantityIsASchemaFindingOnItsLine() throws {
        let xml = """
        <orders xmlns="urn:edidrop:orders:1">
          <order id="S-1">
            <customer name="Anna"/>
            <shipTo street="Polna 1" city="Łódź" postcode="90-001" country="PL"/>
            <line sku="A" quantity="1"/>
            <line sku="B" quantity="0"/>
          </order>
        </orders>
        """
        let (drafts, findings) = readDrafts(xml)
        XCTAssertEqual(drafts.count, 1, "the reader goes on past a schema error")
        XCTAssertEqual(drafts.first?.lines.map { $0.quantity?.value }, ["1", "0"])
        XCTAssertEqual(findings.count, 1, "\(findings)")
        let f = try XCTUnwrap(findings.first)
        XCTAssertEqual(f.code, .schema)
        XCTAssertEqual(f.line, 6)
        XCTAssertTrue(f.message.contains("quantity"), f.message)
    }

    func testMissingRequiredElementAndAttributeAreSchemaFindings() {
        let xml = """
        <orders xmlns="urn:edidrop:orders:1">
          <order id="S-1">
            <customer name="Anna"/>
            <line sku="A" quantity="1"/>
          </order>
          <order id="S-2">
            <customer/>
            <shipTo street="Polna 1" city="Łódź" postcode="90-001" country="PL"/>
            <line sku="A" quantity="abc"/>
          </order>
        </orders>
        """
        let (drafts, findings) = readDrafts(xml)
        XCTAssertEqual(drafts.count, 2)
        XCTAssertTrue(findings.allSatisfy { $0.code == .schema }, "\(findings)")
        XCTAssertEqual(Set(findings.compactMap(\.line)), [4, 7, 9], "\(findings)")
    }

    func testElementsOfOtherNamespacesAreIgnoredAndBrokenXMLIsMalformed() {
        let (_, wrong) = readDrafts("<orders xmlns=\"urn:edidrop:orders:1\"><order id=\"S-1\"><customer name=\"A\"/></orders>")
        XCTAssertTrue(wrong.contains { $0.code == .malformed }, "\(wrong)")

        let (drafts, findings) = readDrafts("<orders xmlns=\"urn:other\"><order id=\"S-1\"/></orders>")
        XCTAssertEqual(drafts.count, 0, "an order outside the namespace is not an order")
        XCTAssertTrue(findings.contains { $0.code == .schema }, "\(findings)")
    }
}
