import Foundation
import XCTest
import XMLSupport
@testable import EDIDrop

/// OASIS UBL 2.1: Order in, DespatchAdvice and InventoryReport from the warehouse, Order out.
final class FormatsUBLTests: XCTestCase {
    static let order = """
    <?xml version="1.0" encoding="UTF-8"?>
    <Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"
           xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
           xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
           xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2">
      <ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><cbc:ID>not-the-order-id</cbc:ID></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>
      <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
      <cbc:ID>UBL-7001</cbc:ID>
      <cbc:IssueDate>2026-11-24</cbc:IssueDate>
      <cbc:IssueTime>09:30:00+01:00</cbc:IssueTime>
      <cbc:Note>Brama od podwórza</cbc:Note>
      <cbc:DocumentCurrencyCode>PLN</cbc:DocumentCurrencyCode>
      <cac:BuyerCustomerParty>
        <cac:Party>
          <cac:Contact>
            <cbc:Telephone>+48 601 202 303</cbc:Telephone>
            <cbc:ElectronicMail>marek@example.pl</cbc:ElectronicMail>
          </cac:Contact>
          <cac:Person>
            <cbc:FirstName>Marek</cbc:FirstName>
            <cbc:FamilyName>Żurawski</cbc:FamilyName>
          </cac:Person>
        </cac:Party>
      </cac:BuyerCustomerParty>
      <cac:SellerSupplierParty><cac:Party><cac:PartyName><cbc:Name>Sklep</cbc:Name></cac:PartyName></cac:Party></cac:SellerSupplierParty>
      <cac:Delivery>
        <cac:DeliveryLocation>
          <cbc:ID>POZ08M</cbc:ID>
          <cac:Address>
            <cbc:StreetName>ul. Półwiejska</cbc:StreetName>
            <cbc:BuildingNumber>32</cbc:BuildingNumber>
            <cbc:CityName>Poznań</cbc:CityName>
            <cbc:PostalZone>61-888</cbc:PostalZone>
            <cac:Country><cbc:IdentificationCode>PL</cbc:IdentificationCode></cac:Country>
          </cac:Address>
        </cac:DeliveryLocation>
        <cac:CarrierParty><cac:PartyName><cbc:Name>inpost</cbc:Name></cac:PartyName></cac:CarrierParty>
      </cac:Delivery>
      <cac:PaymentMeans><cbc:PaymentMeansCode>10</cbc:PaymentMeansCode></cac:PaymentMeans>
      <cac:AnticipatedMonetaryTotal><cbc:PayableAmount currencyID="PLN">74.48</cbc:PayableAmount></cac:AnticipatedMonetaryTotal>
      <cac:OrderLine>
        <cac:LineItem>
          <cbc:ID>1</cbc:ID>
          <cbc:Quantity unitCode="C62">2.000</cbc:Quantity>
          <cac:Price><cbc:PriceAmount currencyID="PLN">24.99</cbc:PriceAmount></cac:Price>
          <cac:Item>
            <cbc:Name>Kubek „Poznań”</cbc:Name>
            <cac:SellersItemIdentification><cbc:ID>MUG-POZ</cbc:ID></cac:SellersItemIdentification>
            <cac:StandardItemIdentification><cbc:ID schemeID="0160">5901234123457</cbc:ID></cac:StandardItemIdentification>
          </cac:Item>
        </cac:LineItem>
      </cac:OrderLine>
      <cac:OrderLine>
        <cac:LineItem>
          <cbc:ID>2</cbc:ID>
          <cbc:Quantity unitCode="C62">1</cbc:Quantity>
          <cac:Price><cbc:PriceAmount currencyID="PLN">24.50</cbc:PriceAmount></cac:Price>
          <cac:Item>
            <cbc:Name>Rogal świętomarciński</cbc:Name>
            <cac:SellersItemIdentification><cbc:ID>ROGAL-1</cbc:ID></cac:SellersItemIdentification>
          </cac:Item>
        </cac:LineItem>
      </cac:OrderLine>
    </Order>

    """

    /// The 1-based line of the first occurrence of `text` in `document`.
    private func line(of text: String, in document: String) -> Int {
        let before = document.components(separatedBy: text)[0]
        return before.filter { $0 == "\n" }.count + 1
    }

    func testAUBLOrderBecomesOneOrder() throws {
        let opened = try FormatsSupport.open(Self.order)
        XCTAssertEqual(opened.format, .ublOrder)
        XCTAssertEqual(opened.encoding, "UTF-8")
        let orders = FormatsSupport.orders(opened)
        XCTAssertEqual(orders.count, 1)
        let o = try XCTUnwrap(orders.first)
        XCTAssertEqual(o.id, "UBL-7001", "not the ID inside the extension")
        XCTAssertEqual(o.date?.iso, "2026-11-24T09:30:00+01:00")
        XCTAssertEqual(o.currency, "PLN")
        XCTAssertEqual(o.customer, Order.Customer(name: "Marek Żurawski", email: "marek@example.pl", phone: "+48 601 202 303"))
        XCTAssertEqual(o.shipTo, Order.Address(street: "ul. Półwiejska 32", city: "Poznań", postcode: "61-888", country: "PL"))
        XCTAssertEqual(o.pickupPoint, "POZ08M")
        XCTAssertEqual(o.carrier, "inpost")
        XCTAssertEqual(o.cod?.formatted, "74.48", "payment means 10 (cash) collects the payable amount")
        XCTAssertEqual(o.notes, "Brama od podwórza")
        XCTAssertEqual(o.lines, [
            Order.Line(sku: "MUG-POZ", ean: "5901234123457", quantity: 2, unitPrice: Money(minorUnits: 2499), name: "Kubek „Poznań”"),
            Order.Line(sku: "ROGAL-1", ean: nil, quantity: 1, unitPrice: Money(minorUnits: 2450), name: "Rogal świętomarciński"),
        ])
    }

    func testDraftsCarryTheLinesOfTheElements() throws {
        let draft = try XCTUnwrap(try FormatsSupport.open(Self.order).drafts.first)
        let doc = Self.order
        XCTAssertEqual(draft.line, line(of: "<Order ", in: doc) + 3, "the root's start tag ends on its fourth line")
        XCTAssertEqual(draft.id?.line, line(of: "<cbc:ID>UBL-7001", in: doc))
        XCTAssertEqual(draft.postcode?.line, line(of: "<cbc:PostalZone>", in: doc))
        XCTAssertEqual(draft.street?.line, line(of: "<cbc:StreetName>", in: doc))
        XCTAssertEqual(draft.lines.map(\.line), [line(of: "<cac:OrderLine>", in: doc),
                                                 line(of: "<cbc:ID>2</cbc:ID>", in: doc) - 2])
        XCTAssertEqual(draft.lines[0].ean?.line, line(of: "schemeID=\"0160\"", in: doc))
        XCTAssertEqual(draft.lines[1].sku?.line, line(of: "ROGAL-1", in: doc))
    }

    func testABadGTINCheckDigitIsINVALID_EANAtItsElement() throws {
        let doc = Self.order.replacingOccurrences(of: "5901234123457", with: "5901234123458")
        let opened = try FormatsSupport.open(doc)
        let (order, problems) = OrderValidator().validate(try XCTUnwrap(opened.drafts.first))
        XCTAssertNil(order)
        XCTAssertEqual(problems.map(\.code), [.invalidEAN])
        XCTAssertEqual(problems.first?.line, line(of: "5901234123458", in: doc))
        XCTAssertEqual(problems.first?.hint, "EAN check digit should be 7")
        XCTAssertEqual(opened.columnName("ean"), "cac:StandardItemIdentification/cbc:ID")
    }

    func testMissingPartsAreMissingFields() throws {
        let doc = """
        <Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"
               xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
               xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
          <cbc:ID>UBL-2</cbc:ID>
          <cac:PaymentMeans><cbc:PaymentMeansCode>10</cbc:PaymentMeansCode></cac:PaymentMeans>
          <cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID><cac:Item><cbc:Name>x</cbc:Name></cac:Item></cac:LineItem></cac:OrderLine>
        </Order>
        """
        let opened = try FormatsSupport.open(doc)
        let (_, problems) = OrderValidator().validate(try XCTUnwrap(opened.drafts.first))
        let fields = Set(problems.filter { $0.code == .missingField }.compactMap(\.field))
        XCTAssertEqual(fields, ["customer_name", "street", "city", "postcode", "country", "sku", "quantity",
                                "cac:AnticipatedMonetaryTotal/cbc:PayableAmount"])
    }

    func testABrokenDocumentIsMALFORMEDAndNotAHalfOrder() throws {
        let cut = String(Self.order.prefix(Self.order.count / 2))
        let opened = try FormatsSupport.open(cut)
        XCTAssertEqual(opened.drafts.count, 0)
        XCTAssertEqual(opened.findings.map(\.code), [.malformed])
    }

    func testOtherUBLDocumentsAreRecognisedForWhatTheyAre() throws {
        let invoice = "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"/>"
        guard case .failure(let d) = try FormatsSupport.open(Array(invoice.utf8)) else { return XCTFail("an invoice is no order") }
        XCTAssertEqual(d.code, .unknownFormat)
        XCTAssertTrue(d.message.contains("<Invoice>"), d.message)
        guard case .failure(let e) = try FormatsSupport.open(Array(Self.order.utf8), channel: .warehouse) else {
            return XCTFail("an order is no warehouse document")
        }
        XCTAssertEqual(e.code, .unknownFormat)
        guard case .failure(let f) = try FormatsSupport.open(Array(Self.despatch.utf8), channel: .orders) else {
            return XCTFail("a despatch advice is no order")
        }
        XCTAssertEqual(f.code, .unknownFormat)
    }

    static let despatch = """
    <?xml version="1.0" encoding="UTF-8"?>
    <DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"
                    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
                    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
      <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
      <cbc:ID>DA-555</cbc:ID>
      <cbc:IssueDate>2026-11-25</cbc:IssueDate>
      <cbc:IssueTime>16:40:00+01:00</cbc:IssueTime>
      <cac:OrderReference><cbc:ID>UBL-7001</cbc:ID></cac:OrderReference>
      <cac:DespatchSupplierParty/>
      <cac:DeliveryCustomerParty/>
      <cac:Shipment>
        <cbc:ID>620000111222333444</cbc:ID>
        <cac:Consignment>
          <cbc:ID>CONS-1</cbc:ID>
          <cac:CarrierParty><cac:PartyName><cbc:Name>InPost</cbc:Name></cac:PartyName></cac:CarrierParty>
        </cac:Consignment>
      </cac:Shipment>
      <cac:DespatchLine><cbc:ID>1</cbc:ID><cac:Item><cbc:Name>Kubek</cbc:Name></cac:Item></cac:DespatchLine>
    </DespatchAdvice>

    """

    func testADespatchAdviceConfirmsTheShipmentOfItsOrder() throws {
        let opened = try FormatsSupport.open(Self.despatch, channel: .warehouse)
        XCTAssertEqual(opened.format, .ublDespatchAdvice)
        XCTAssertEqual(opened.findings, [])
        XCTAssertEqual(opened.shipments.count, 1)
        let s = try XCTUnwrap(opened.shipments.first)
        XCTAssertEqual(s.orderID, Located("UBL-7001", line: line(of: "<cac:OrderReference>", in: Self.despatch)))
        XCTAssertEqual(s.tracking?.value, "620000111222333444")
        XCTAssertEqual(s.carrier?.value, "InPost")
        XCTAssertEqual(s.shippedAt?.value, "2026-11-25T16:40:00+01:00")
        let validator = WarehouseValidator(fileTime: DateValue(iso: "2026-11-26T00:00:00Z", hasTime: true), localOffsetSeconds: 0)
        let (shipment, problems) = validator.validate(s)
        XCTAssertEqual(problems, [])
        XCTAssertEqual(shipment, Shipment(orderID: "UBL-7001", shippedAt: "2026-11-25T16:40:00+01:00", carrier: "InPost",
                                          tracking: "620000111222333444"))
    }

    func testDespatchAdviceFallbacks() throws {
        // No Shipment/ID: the consignment's; order references only on the lines; the
        // despatch date wins over the issue date.
        let doc = """
        <DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"
                        xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
                        xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
          <cbc:ID>DA-9</cbc:ID>
          <cbc:IssueDate>2026-11-26</cbc:IssueDate>
          <cac:Shipment>
            <cac:Consignment><cbc:ID>TRACK-9</cbc:ID></cac:Consignment>
            <cac:Delivery><cac:Despatch><cbc:ActualDespatchDate>2026-11-25</cbc:ActualDespatchDate></cac:Despatch></cac:Delivery>
          </cac:Shipment>
          <cac:DespatchLine><cbc:ID>1</cbc:ID>
            <cac:OrderLineReference><cbc:LineID>1</cbc:LineID><cac:OrderReference><cbc:ID>A-1</cbc:ID></cac:OrderReference></cac:OrderLineReference>
          </cac:DespatchLine>
          <cac:DespatchLine><cbc:ID>2</cbc:ID>
            <cac:OrderLineReference><cbc:LineID>1</cbc:LineID><cac:OrderReference><cbc:ID>A-2</cbc:ID></cac:OrderReference></cac:OrderLineReference>
          </cac:DespatchLine>
          <cac:DespatchLine><cbc:ID>3</cbc:ID>
            <cac:OrderLineReference><cbc:LineID>2</cbc:LineID><cac:OrderReference><cbc:ID>A-1</cbc:ID></cac:OrderReference></cac:OrderLineReference>
          </cac:DespatchLine>
        </DespatchAdvice>
        """
        let opened = try FormatsSupport.open(doc, channel: .warehouse)
        XCTAssertEqual(opened.shipments.map { $0.orderID?.value }, ["A-1", "A-2"])
        XCTAssertEqual(opened.shipments.map { $0.tracking?.value }, ["TRACK-9", "TRACK-9"])
        XCTAssertEqual(opened.shipments.map { $0.shippedAt?.value }, ["2026-11-25", "2026-11-25"])
        XCTAssertNil(opened.shipments.first?.carrier)
    }

    static let inventory = """
    <?xml version="1.0" encoding="UTF-8"?>
    <InventoryReport xmlns="urn:oasis:names:specification:ubl:schema:xsd:InventoryReport-2"
                     xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
                     xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
      <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
      <cbc:ID>INV-2026-11-26</cbc:ID>
      <cbc:IssueDate>2026-11-26</cbc:IssueDate>
      <cbc:IssueTime>06:00:00Z</cbc:IssueTime>
      <cac:InventoryPeriod><cbc:StartDate>2026-11-25</cbc:StartDate><cbc:EndDate>2026-11-26</cbc:EndDate></cac:InventoryPeriod>
      <cac:RetailerCustomerParty/>
      <cac:InventoryReportLine>
        <cbc:ID>1</cbc:ID>
        <cbc:Quantity unitCode="C62">12</cbc:Quantity>
        <cac:Item>
          <cbc:Name>Kubek</cbc:Name>
          <cac:SellersItemIdentification><cbc:ID>MUG-POZ</cbc:ID></cac:SellersItemIdentification>
          <cac:StandardItemIdentification><cbc:ID schemeID="0160">5901234123457</cbc:ID></cac:StandardItemIdentification>
        </cac:Item>
      </cac:InventoryReportLine>
      <cac:InventoryReportLine>
        <cbc:ID>2</cbc:ID>
        <cbc:Quantity unitCode="C62">0.000</cbc:Quantity>
        <cac:Item><cac:SellersItemIdentification><cbc:ID>ROGAL-1</cbc:ID></cac:SellersItemIdentification></cac:Item>
      </cac:InventoryReportLine>
    </InventoryReport>

    """

    func testAnInventoryReportGivesOneStockLinePerLine() throws {
        let opened = try FormatsSupport.open(Self.inventory, channel: .warehouse)
        XCTAssertEqual(opened.format, .ublInventoryReport)
        XCTAssertEqual(opened.findings, [])
        XCTAssertEqual(opened.stock.map { $0.sku?.value }, ["MUG-POZ", "ROGAL-1"])
        XCTAssertEqual(opened.stock.map { $0.available?.value }, ["12", "0"], "\"0.000\" is the whole number 0")
        XCTAssertEqual(opened.stock.map { $0.ean?.value }, ["5901234123457", nil])
        XCTAssertEqual(opened.stock.map { $0.asOf?.value }, ["2026-11-26T06:00:00Z", "2026-11-26T06:00:00Z"])
        XCTAssertEqual(opened.stock.map(\.line), [line(of: "<cac:InventoryReportLine>", in: Self.inventory),
                                                  line(of: "<cbc:ID>2</cbc:ID>", in: Self.inventory) - 1])
        let validator = WarehouseValidator(fileTime: DateValue(iso: "2026-11-26T00:00:00Z", hasTime: true), localOffsetSeconds: 0)
        let lines = opened.stock.compactMap { validator.validate($0).0 }
        XCTAssertEqual(lines.map(\.available), [12, 0])
        XCTAssertEqual(lines.first?.asOf, "2026-11-26T06:00:00Z")
    }

    func testTheInventoryPeriodStandsInForAMissingIssueDate() throws {
        let doc = Self.inventory.replacingOccurrences(of: "<cbc:IssueDate>2026-11-26</cbc:IssueDate>", with: "")
            .replacingOccurrences(of: "<cbc:IssueTime>06:00:00Z</cbc:IssueTime>", with: "")
        let opened = try FormatsSupport.open(doc, channel: .warehouse)
        XCTAssertEqual(opened.stock.map { $0.asOf?.value }, ["2026-11-26", "2026-11-26"])
    }

    // MARK: UBL out

    private func sampleOrders() -> [Order] {
        [
            Order(id: "UBL-7001", date: DateValue(iso: "2026-11-24T09:30:00+01:00", hasTime: true),
                  customer: .init(name: "Marek <Żurawski> & Syn", email: "marek@example.pl", phone: "+48601202303"),
                  shipTo: .init(street: "ul. Półwiejska 32/4", city: "Poznań", postcode: "61-888", country: "PL"),
                  carrier: "inpost", pickupPoint: "POZ08M", cod: Money(minorUnits: 7448), currency: "PLN",
                  notes: "Brama od podwórza\ndzwonić \"dwa razy\"",
                  lines: [Order.Line(sku: "MUG-POZ", ean: "5901234123457", quantity: 2, unitPrice: Money(minorUnits: 2499), name: "Kubek „Poznań”"),
                          Order.Line(sku: "ROGAL-1", ean: nil, quantity: 1, unitPrice: nil, name: nil)]),
            Order(id: "../x y", date: DateValue(iso: "2026-11-24", hasTime: false),
                  customer: .init(name: "Jan", email: nil, phone: nil),
                  shipTo: .init(street: "Rynek 1", city: "Wrocław", postcode: "50-101", country: "PL"),
                  carrier: nil, pickupPoint: nil, cod: nil, currency: "EUR", notes: nil,
                  lines: [Order.Line(sku: "=SUM(A1)", ean: "96385074", quantity: 7, unitPrice: Money(minorUnits: 5), name: "x")]),
            Order(id: "NO-DATE", date: nil,
                  customer: .init(name: "Ewa", email: "ewa@example.pl", phone: nil),
                  shipTo: .init(street: "Polna 2", city: "Łódź", postcode: "90-001", country: "PL"),
                  carrier: "dpd", pickupPoint: nil, cod: Money.zero, currency: "PLN", notes: nil,
                  lines: [Order.Line(sku: "A", ean: nil, quantity: 1, unitPrice: Money.zero, name: "a")]),
        ]
    }

    func testEveryUBLOrderWrittenFollowsTheUBLStructureAndReadsBackTheSame() throws {
        for order in sampleOrders() {
            let xml = WarehouseOrderFile.content(for: order, format: .ubl, receivedOn: "2026-11-27")
            XCTAssertEqual(FormatsSupport.ublProblems(xml), [], "\(order.id):\n\(xml)")
            var reader = FormatsSupport.ublOrderReader(xml)
            let draft = try XCTUnwrap(reader.next())
            XCTAssertNil(reader.next(), "one document, one order")
            XCTAssertEqual(reader.findings, [])
            let (back, problems) = OrderValidator().validate(draft)
            XCTAssertEqual(problems, [], "\(order.id)")
            var expected = order
            if order.date == nil { expected.date = DateValue(iso: "2026-11-27", hasTime: false) }
            XCTAssertEqual(back, expected, "round trip of \(order.id)")
        }
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "UBL-7001", format: .ubl), "ORDER_UBL-7001.xml")
    }

    func testTheCompactSchemaReallyChecksTheStructure() throws {
        let xml = WarehouseOrderFile.ubl(for: sampleOrders()[0], receivedOn: "2026-11-27")
        // Elements out of UBL's order, a required element missing, an amount without currency.
        let swapped = xml.replacingOccurrences(of: "<cbc:ID>UBL-7001</cbc:ID>\n  <cbc:IssueDate>2026-11-24</cbc:IssueDate>",
                                               with: "<cbc:IssueDate>2026-11-24</cbc:IssueDate>\n  <cbc:ID>UBL-7001</cbc:ID>")
        XCTAssertNotEqual(swapped, xml)
        XCTAssertNotEqual(FormatsSupport.ublProblems(swapped), [])
        let noSeller = xml.replacingOccurrences(of: "  <cac:SellerSupplierParty/>\n", with: "")
        XCTAssertNotEqual(FormatsSupport.ublProblems(noSeller), [])
        let noCurrency = xml.replacingOccurrences(of: " currencyID=\"PLN\"", with: "")
        XCTAssertNotEqual(FormatsSupport.ublProblems(noCurrency), [])
        let badDate = xml.replacingOccurrences(of: "<cbc:IssueDate>2026-11-24<", with: "<cbc:IssueDate>24.11.2026<")
        XCTAssertNotEqual(FormatsSupport.ublProblems(badDate), [])
    }

    func testTheReadersUBLFixtureIsValidAgainstTheCompactSchemaWhereItOverlaps() throws {
        // What edidrop writes for the fixture's order is valid and carries its values.
        let order = try XCTUnwrap(FormatsSupport.orders(try FormatsSupport.open(Self.order)).first)
        let xml = WarehouseOrderFile.ubl(for: order, receivedOn: "2026-11-27")
        XCTAssertEqual(FormatsSupport.ublProblems(xml), [])
        XCTAssertTrue(xml.contains("<cbc:PaymentMeansCode>10</cbc:PaymentMeansCode>"))
        XCTAssertTrue(xml.contains("<cbc:PayableAmount currencyID=\"PLN\">74.48</cbc:PayableAmount>"))
        XCTAssertTrue(xml.contains("<cbc:ID schemeID=\"0160\">5901234123457</cbc:ID>"))
        XCTAssertTrue(xml.contains("<cbc:IssueTime>09:30:00+01:00</cbc:IssueTime>"))
    }
}
