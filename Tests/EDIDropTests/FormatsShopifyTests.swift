import Foundation
import XCTest
@testable import EDIDrop

/// Shopify's orders export, as its two kinds of header (older and newer exports) lay it out.
final class FormatsShopifyTests: XCTestCase {
    /// A newer export: Shipping Address1/2 and Payment Method present, comma-separated.
    static let newer = """
    Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem requires shipping,Billing Name,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping City,Shipping Zip,Shipping Country,Shipping Phone,Notes,Payment Method,Id
    #1001,anna@example.pl,paid,2026-11-20 14:05:00 +0100,PLN,59.97,9.99,0.00,69.96,InPost,2026-11-20 14:03:11 +0100,2,Kubek ceramiczny,19.99,MUG-001,true,Anna Kowalska,Anna Kowalska,ul. Długa 5/3,ul. Długa 5/3,,Kraków,'31-147,PL,'+48600100200,"Proszę dzwonić
    przed doręczeniem",Przelewy24,5001
    #1001,anna@example.pl,,,,,,,,,,1,Herbata,19.99,TEA-002,true,,,,,,,,,,,,5001
    #1002,jan@example.pl,pending,,PLN,89.97,0.00,0.00,89.97,DPD,2026-11-21 09:00:00 +0100,3,Świeca sojowa,29.99,CANDLE-3,true,Jan Nowak,Jan Nowak,,Marszałkowska 1,m. 12,Warszawa,'00-624,PL,,,Cash on Delivery (COD),5002
    #1003,ola@example.pl,paid,,PLN,100.00,0.00,0.00,100.00,,2026-11-21 10:00:00 +0100,1,Karta podarunkowa 100 zł,100.00,,false,Ola Zięba,,,,,,,,,,Przelewy24,5003
    #1004,ewa@example.pl,paid,,EUR,60.00,0.00,0.00,60.00,DHL,2026-11-22 11:30:00 +0100,1,Gift card,50.00,,false,Ewa Schmidt,Ewa Schmidt,Hauptstraße 1,Hauptstraße 1,,Berlin,'10115,DE,,,PayPal,5004
    #1004,ewa@example.pl,,,,,,,,,,1,Notizbuch,10.00,BOOK-9,true,,,,,,,,,,,,5004

    """

    /// An older export: fewer columns, in another order, no Address1/2 and no requires-shipping.
    static let older = """
    Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Shipping Name,Shipping Street,Shipping City,Shipping Zip,Shipping Country,Notes,Payment Method
    #2001,piotr@example.pl,pending,PLN,45.50,2019-03-04 08:15:00 +0100,1,Miód,45.50,HONEY-1,Piotr Wiśniewski,ul. Polna 3,Gdańsk,'80-001,PL,,za pobraniem
    #2002,kasia@example.pl,paid,PLN,20.00,2019-03-05 12:00:00 +0100,2,Zeszyt,10.00,NOTE-2,Katarzyna Lis,Rynek 1,Wrocław,'50-101,PL,,Przelewy24

    """

    func testOrdersAreGroupedByNameWithTheirFirstRowsFields() throws {
        let opened = try FormatsSupport.open(Self.newer)
        XCTAssertEqual(opened.format, .shopifyOrdersCSV)
        let orders = FormatsSupport.orders(opened)
        XCTAssertEqual(orders.map(\.id), ["#1001", "#1002", "#1004"])

        let a = orders[0]
        XCTAssertEqual(a.date?.iso, "2026-11-20T14:03:11+01:00", "Shopify's \"… +0100\" is read")
        XCTAssertEqual(a.customer, Order.Customer(name: "Anna Kowalska", email: "anna@example.pl", phone: "+48600100200"))
        XCTAssertEqual(a.shipTo, Order.Address(street: "ul. Długa 5/3", city: "Kraków", postcode: "31-147", country: "PL"))
        XCTAssertEqual(a.notes, "Proszę dzwonić\nprzed doręczeniem")
        XCTAssertNil(a.cod)
        XCTAssertEqual(a.currency, "PLN")
        XCTAssertEqual(a.lines.map(\.sku), ["MUG-001", "TEA-002"])
        XCTAssertEqual(a.lines.map(\.quantity), [2, 1])
        XCTAssertEqual(a.lines.map { $0.unitPrice?.formatted }, ["19.99", "19.99"])
        XCTAssertEqual(a.lines.map(\.name), ["Kubek ceramiczny", "Herbata"])
        XCTAssertEqual(a.lines.map(\.ean), [nil, nil], "Shopify has no EAN column: none is fine")

        let cod = orders[1]
        XCTAssertEqual(cod.cod?.formatted, "89.97", "cash on delivery collects the Total")
        XCTAssertEqual(cod.shipTo.street, "Marszałkowska 1 m. 12", "Address1 and Address2 when Street is empty")
        XCTAssertEqual(cod.shipTo.postcode, "00-624")

        let mixed = orders[2]
        XCTAssertEqual(mixed.lines.map(\.sku), ["BOOK-9"], "the gift card line is not for the warehouse")
        XCTAssertEqual(mixed.currency, "EUR")
        XCTAssertEqual(mixed.shipTo.postcode, "10115")

        XCTAssertEqual(opened.skipped, [SkippedOrder(id: "#1003", line: 6, reason: "nothing to ship")])
        XCTAssertEqual(SkippedOrder.summary(opened.skipped), "1 order skipped (nothing to ship): #1003")
    }

    func testDraftsKeepTheRealLinesAndColumnsOfTheCells() throws {
        let opened = try FormatsSupport.open(Self.newer)
        let first = try XCTUnwrap(opened.drafts.first)
        XCTAssertEqual(first.line, 2)
        XCTAssertEqual(first.lines.map(\.line), [2, 4], "the quoted note spans lines 2 and 3")
        XCTAssertEqual(first.postcode?.line, 2)
        let row = Self.newer.split(separator: "\n")[1]
        let zipColumn = row.components(separatedBy: "'31-147")[0].count + 1
        XCTAssertEqual(first.postcode?.column, zipColumn + 1, "points past the dropped apostrophe")
        XCTAssertEqual(opened.columnName("postcode"), "Shipping Zip")
        XCTAssertEqual(opened.columnName("street"), "Shipping Street")
        XCTAssertEqual(opened.columnName("cod_amount"), "Total")
    }

    func testAnOlderExportWithOtherColumnsMapsTheSame() throws {
        let opened = try FormatsSupport.open(Self.older)
        XCTAssertEqual(opened.format, .shopifyOrdersCSV)
        let orders = FormatsSupport.orders(opened)
        XCTAssertEqual(orders.map(\.id), ["#2001", "#2002"])
        XCTAssertEqual(orders[0].cod?.formatted, "45.50", "\"za pobraniem\" is cash on delivery")
        XCTAssertEqual(orders[0].shipTo, Order.Address(street: "ul. Polna 3", city: "Gdańsk", postcode: "80-001", country: "PL"))
        XCTAssertEqual(orders[0].date?.iso, "2019-03-04T08:15:00+01:00")
        XCTAssertNil(orders[1].cod)
        XCTAssertEqual(orders[1].lines.first?.quantity, 2)
        XCTAssertEqual(opened.skipped, [])
    }

    func testMissingColumnsAreNamedAsShopifyNamesThem() throws {
        let text = "Name,Lineitem quantity,Lineitem sku,Shipping Name,Shipping City\n#1,1,A,Ewa,Łódź\n"
        let opened = try FormatsSupport.open(text)
        XCTAssertEqual(opened.format, .shopifyOrdersCSV)
        XCTAssertEqual(opened.drafts.count, 0)
        XCTAssertEqual(Set(opened.findings.compactMap(\.field)), ["Shipping Street", "Shipping Zip", "Shipping Country"])
        XCTAssertTrue(opened.findings.contains { $0.message.contains("\"Shipping Street\" or \"Shipping Address1\"") })
    }

    func testCashOnDeliveryWithoutATotalIsAnError() throws {
        let text = "Name,Total,Lineitem quantity,Lineitem sku,Shipping Name,Shipping Street,Shipping City,Shipping Zip,Shipping Country,Payment Method\n"
            + "#9,,1,A,Ewa,Polna 1,Łódź,'90-001,PL,Cash on Delivery (COD)\n"
        let opened = try FormatsSupport.open(text)
        let (order, problems) = OrderValidator().validate(try XCTUnwrap(opened.drafts.first))
        XCTAssertNil(order)
        XCTAssertEqual(problems.map(\.code), [.missingField])
        XCTAssertEqual(problems.first?.field, "Total")
    }

    func testSkippedOrdersAreSummedUpByReason() {
        let many = (1...25).map { SkippedOrder(id: "#\($0)", line: $0, reason: "nothing to ship") }
        XCTAssertEqual(SkippedOrder.summary(Array(many.prefix(2))), "2 orders skipped (nothing to ship): #1, #2")
        XCTAssertTrue(SkippedOrder.summary(many)?.hasSuffix("#20, … (5 more)") ?? false)
        XCTAssertNil(SkippedOrder.summary([]))
    }
}
