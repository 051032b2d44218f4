import Foundation
import XCTest
@testable import EDIDrop

/// The shop's own CSV layout from `[formats.orders_csv]`, and the outbox format settings.
final class FormatsCustomColumnsTests: XCTestCase {
    static let configuration = """
    [formats.orders_csv]
    date_formats = ["DD.MM.YYYY"]
    decimal_separator = "comma"

    [formats.orders_csv.columns]
    order_id = "Nr zamówienia"
    order_date = "Data"
    customer_name = "Odbiorca"
    street = "Ulica i numer"
    city = "Miejscowość"
    postcode = "Kod pocztowy"
    country = "Kraj"
    cod_amount = "Pobranie"
    sku = "Symbol"
    quantity = "Ilość"
    unit_price = "Cena brutto"
    product_name = "Nazwa towaru"

    [outbox]
    format = "ubl"

    """

    func testTheConfigurationIsRead() throws {
        let c = try SpoolConfiguration.parse(Self.configuration)
        XCTAssertEqual(c.formats.ordersCSV.columns["order_id"], "Nr zamówienia")
        XCTAssertEqual(c.formats.ordersCSV.columns.count, 12)
        XCTAssertEqual(c.formats.ordersCSV.dateFormats, [.dotted])
        XCTAssertEqual(c.formats.ordersCSV.decimalSeparator, .comma)
        XCTAssertEqual(c.formats.ordersCSV.header(for: "email"), "email", "unnamed fields keep their canonical name")
        XCTAssertEqual(c.outbox.format, .ubl)
        XCTAssertEqual(try SpoolConfiguration.parse("[outbox]\nformat = \"CSV\"\n").outbox.format, .csv)

        let defaults = try SpoolConfiguration.parse(Spool.configurationTemplate)
        XCTAssertEqual(defaults.outbox.format, .edidropXML)
        XCTAssertEqual(defaults.formats, SpoolConfiguration.Formats())
    }

    func testConfigurationMistakesNameTheKey() {
        func problem(_ text: String) -> String {
            do {
                _ = try SpoolConfiguration.parse(text)
                return "no problem"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(problem("[outbox]\nformat = \"edifact\"\n").contains("[outbox] format \"edifact\" is not one of edidrop-xml, ubl, csv"))
        XCTAssertTrue(problem("[formats.orders_csv.columns]\norder_no = \"Nr\"\n").contains("has no field \"order_no\""))
        XCTAssertTrue(problem("[formats.orders_csv.columns]\norder_id = \"\"\n").contains("order_id must be the shop's column header"))
        XCTAssertTrue(problem("[formats.orders_csv.columns]\norder_id = \"Nr\"\nsku = \" nr \"\n").contains("both name the column"))
        XCTAssertTrue(problem("[formats.orders_csv]\ndate_formats = [\"YYYY/MM/DD\"]\n").contains("\"YYYY/MM/DD\" is not one of"))
        XCTAssertTrue(problem("[formats.orders_csv]\ndate_formats = [\"DD/MM/YYYY\", \"MM/DD/YYYY\"]\n").contains("ambiguous"))
        XCTAssertTrue(problem("[formats.orders_csv]\ndate_formats = \"DD.MM.YYYY\"\n").contains("must be a list"))
        XCTAssertTrue(problem("[formats.orders_csv]\ndecimal_separator = \"dot\"\n").contains("decimal_separator must be"))
        XCTAssertTrue(problem("[formats.orders_csv]\ncolumn = {}\n").contains("has no key \"column\""))
        XCTAssertTrue(problem("[formats.shopify]\nx = 1\n").contains("[formats] has no key \"shopify\""))
    }

    static let file = """
    Nr zamówienia;Data;Odbiorca;email;Ulica i numer;Miejscowość;Kod pocztowy;Kraj;Pobranie;Symbol;Nazwa towaru;Ilość;Cena brutto;Magazyn
    ZAM/2026/11/0042;27.11.2026;Krystyna Bąk;k.bak@example.pl;ul. Kościuszki 7;Poznań;61-890;PL;234,50;KAW-1;Kawa ziarnista;2;117,25;A
    ZAM/2026/11/0043;28.11.2026;Tomasz Żak;;Rynek 5;Toruń;87-100;PL;;HER-2;Herbata;1;12,5;B

    """

    private var layout: SpoolConfiguration {
        (try? SpoolConfiguration.parse(Self.configuration)) ?? SpoolConfiguration()
    }

    private var validator: OrderValidator {
        OrderValidator(decimalSeparator: layout.formats.ordersCSV.decimalSeparator, dateFormats: layout.formats.ordersCSV.dateFormats)
    }

    func testAFileWithTheShopsHeaderIsReadWithTheMapping() throws {
        let opened = try FormatsSupport.open(Self.file, configuration: layout)
        XCTAssertEqual(opened.format, .customOrdersCSV)
        let orders = FormatsSupport.orders(opened, validator: validator)
        XCTAssertEqual(orders.map(\.id), ["ZAM/2026/11/0042", "ZAM/2026/11/0043"])
        let a = orders[0]
        XCTAssertEqual(a.date?.iso, "2026-11-27")
        XCTAssertEqual(a.customer, Order.Customer(name: "Krystyna Bąk", email: "k.bak@example.pl", phone: nil))
        XCTAssertEqual(a.shipTo, Order.Address(street: "ul. Kościuszki 7", city: "Poznań", postcode: "61-890", country: "PL"))
        XCTAssertEqual(a.cod?.formatted, "234.50")
        XCTAssertEqual(a.lines, [Order.Line(sku: "KAW-1", ean: nil, quantity: 2, unitPrice: Money(minorUnits: 11725), name: "Kawa ziarnista")])
        XCTAssertEqual(orders[1].lines.first?.unitPrice?.formatted, "12.50")
        XCTAssertEqual(opened.columnName("quantity"), "Ilość")
        XCTAssertNil(opened.columnName("email"))
    }

    func testTheShopsConventionsAreEnforcedForItsLayout() throws {
        let file = Self.file.replacingOccurrences(of: "27.11.2026", with: "2026-11-27").replacingOccurrences(of: "117,25", with: "117.25")
        let opened = try FormatsSupport.open(file, configuration: layout)
        let (_, problems) = validator.validate(try XCTUnwrap(opened.drafts.first))
        XCTAssertEqual(Set(problems.map(\.code)), [.invalidDate, .invalidValue])
    }

    func testAMissingMappedColumnIsNamedAsTheShopNamesIt() throws {
        let file = Self.file.replacingOccurrences(of: "Kod pocztowy", with: "Kod")
        let opened = try FormatsSupport.open(file, configuration: layout)
        XCTAssertEqual(opened.format, .customOrdersCSV)
        XCTAssertEqual(opened.findings.map(\.code), [.missingField])
        XCTAssertEqual(opened.findings.first?.field, "Kod pocztowy")
        XCTAssertTrue(opened.findings.first?.message.contains("(postcode, set in [formats.orders_csv.columns])") ?? false)
    }

    func testCanonicalAndShopifyFilesAreStillRecognisedBesideAMapping() throws {
        XCTAssertEqual(try FormatsSupport.open(Fixture.validOrdersCSV, configuration: layout).format, .ordersCSV)
        XCTAssertEqual(try FormatsSupport.open(FormatsShopifyTests.older, configuration: layout).format, .shopifyOrdersCSV)
        guard case .failure(let d) = try FormatsSupport.open(Array("Numer;Klient\n1;Ewa\n".utf8), configuration: layout) else {
            return XCTFail("an unknown header")
        }
        XCTAssertEqual(d.code, .unknownFormat)
        XCTAssertTrue(d.message.contains("\"Nr zamówienia\""), d.message)
    }

    // MARK: CSV out

    func testTheOutboxCSVHasTheCanonicalColumnsAndReadsBack() throws {
        let order = Order(id: "C-1", date: DateValue(iso: "2026-11-27T10:15:00+01:00", hasTime: true),
                          customer: .init(name: "Anna; \"Ania\" Kowalska", email: "anna@example.pl", phone: "+48600100200"),
                          shipTo: .init(street: "ul. Długa 5/3", city: "Kraków", postcode: "31-147", country: "PL"),
                          carrier: "inpost", pickupPoint: "KRA01M", cod: Money(minorUnits: 12999), currency: "PLN",
                          notes: "dzwonić\nprzed 18", lines: [
                              Order.Line(sku: "MUG-001", ean: "5901234123457", quantity: 2, unitPrice: Money(minorUnits: 1999), name: "Kubek"),
                              Order.Line(sku: "=CMD()", ean: nil, quantity: 1, unitPrice: nil, name: nil),
                          ])
        let csv = WarehouseOrderFile.content(for: order, format: .csv, receivedOn: "2026-11-27")
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "C-1", format: .csv), "ORDER_C-1.csv")
        XCTAssertTrue(csv.hasPrefix(OrdersCSVReader<BytesSource>.columns.joined(separator: ";") + "\r\n"))
        XCTAssertTrue(csv.contains("'=CMD()"), "formula-safe")
        XCTAssertTrue(csv.contains("'+48600100200"), "formula-safe, as the shop feeds")
        XCTAssertTrue(csv.contains("\"Anna; \"\"Ania\"\" Kowalska\""))
        let opened = try FormatsSupport.open(csv)
        XCTAssertEqual(opened.format, .ordersCSV)
        let back = try XCTUnwrap(FormatsSupport.orders(opened).first)
        XCTAssertEqual(back.customer.name, order.customer.name)
        XCTAssertEqual(back.notes, "dzwonić\nprzed 18")
        XCTAssertEqual(back.date, order.date)
        XCTAssertEqual(back.cod, order.cod)
        XCTAssertEqual(back.lines.count, 2)
        XCTAssertEqual(back.lines[0], order.lines[0])
        XCTAssertEqual(back.lines[1].sku, "'=CMD()")
    }
}
