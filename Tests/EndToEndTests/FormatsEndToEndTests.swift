import CLibXML2
import EDIDrop
import Foundation
import XCTest
import XMLSupport

/// Real-world formats through the real executable: Polish encodings, Shopify exports, UBL
/// 2.1 in and out, the shop's own CSV layout and the outbox formats, checked down to the
/// values in the files the warehouse and the shop receive. Fixtures are in Fixtures/.
final class FormatsEndToEndTests: XCTestCase {
    // MARK: Helpers

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: fixtures.appendingPathComponent(name))
    }

    static func fixturePath(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    private func runOnce(_ spool: TestSpool, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
    }

    /// One canonical warehouse order file, as parsed XML.
    struct WarehouseOrder {
        var attributes: [String: [String: String]] = [:]
        var lines: [[String: String]] = []
        var notes: String?
        subscript(_ element: String, _ attribute: String) -> String? { attributes[element]?[attribute] }
    }

    /// Every canonical order file in the outbox by order id, each checked against the
    /// shipped schema and holding exactly one order.
    private func warehouseOrders(_ spool: TestSpool, file: StaticString = #filePath, line: UInt = #line) throws -> [String: WarehouseOrder] {
        let schemas = try CompiledSchemas()
        var result: [String: WarehouseOrder] = [:]
        for name in spool.files(in: "outbox") {
            let data = try Data(contentsOf: URL(fileURLWithPath: spool.path("outbox/\(name)")))
            XCTAssertNotNil(String(data: data, encoding: .utf8), "\(name) is UTF-8", file: file, line: line)
            XCTAssertTrue(data.starts(with: Data("<?xml version=\"1.0\" encoding=\"UTF-8\"?>".utf8)), name, file: file, line: line)
            var offset = 0
            let reader = XMLStreamReader(documentName: name, schema: schemas.orders) { buffer in
                let n = min(buffer.count, data.count - offset)
                if n > 0 { data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: offset..<(offset + n)) }
                offset += n
                return n
            }
            var order = WarehouseOrder()
            var ids: [String] = []
            var inNotes = false
            while let event = reader.next() {
                switch event {
                case .start(let s):
                    let attrs = Dictionary(uniqueKeysWithValues: s.attributes.map { ($0.localName, $0.value) })
                    if s.localName == "order" { ids.append(attrs["id"] ?? "") }
                    if s.localName == "line" { order.lines.append(attrs) } else { order.attributes[s.localName] = attrs }
                    inNotes = s.localName == "notes"
                case .text(let t, _):
                    if inNotes { order.notes = (order.notes ?? "") + t }
                case .end:
                    inNotes = false
                }
            }
            XCTAssertEqual(reader.problems, [], "\(name) follows the schema", file: file, line: line)
            XCTAssertEqual(ids.count, 1, "\(name) holds one order", file: file, line: line)
            XCTAssertTrue(name.hasPrefix("ORDER_") && name.hasSuffix(".xml"), name, file: file, line: line)
            XCTAssertNil(name.range(of: "[^A-Za-z0-9._-]", options: .regularExpression), "\(name): a safe name", file: file, line: line)
            result[ids[0]] = order
        }
        return result
    }

    private func fileRecord(_ spool: TestSpool, named name: String) throws -> [String: Any] {
        let files = try spool.json(["files"]) as? [[String: Any]] ?? []
        return try XCTUnwrap(files.first { $0["name"] as? String == name }, "\(name) in \(files)")
    }

    // MARK: Encodings

    func testAWindows1250FileReachesTheWarehouseAsUTF8WithItsPolishLetters() throws {
        let spool = try TestSpool()
        try spool.drop("zamowienia.csv", try Self.fixture("polish-windows-1250.csv"))
        try runOnce(spool)
        let orders = try warehouseOrders(spool)
        XCTAssertEqual(Set(orders.keys), ["W-1", "W-2"])
        let w1 = try XCTUnwrap(orders["W-1"])
        XCTAssertEqual(w1["order", "date"], "2026-11-20")
        XCTAssertEqual(w1["customer", "name"], "Łucja Wąsowska")
        XCTAssertEqual(w1["customer", "phone"], "+48 600 100 200")
        XCTAssertEqual(w1["shipTo", "street"], "ul. Świętokrzyska 12/4")
        XCTAssertEqual(w1["shipTo", "city"], "Łódź")
        XCTAssertEqual(w1["payment", "cod"], "149.50")
        XCTAssertEqual(w1.notes, "Proszę dzwonić przed doręczeniem")
        XCTAssertEqual(w1.lines.map { $0["sku"] }, ["KUB-ŻÓŁ", "HER-01"])
        XCTAssertEqual(w1.lines.map { $0["name"] }, ["Kubek ceramiczny żółty", "Herbata źródlana \"Góralska\""])
        XCTAssertEqual(w1.lines.map { $0["unitPrice"] }, ["49.75", "50.00"])
        let w2 = try XCTUnwrap(orders["W-2"])
        XCTAssertEqual(w2["customer", "name"], "Zbigniew Żółkiewski")
        XCTAssertEqual(w2["shipTo", "city"], "Gdańsk")
        XCTAssertEqual(w2.lines.first?["name"], "Świeca sojowa – zapach łąki")
        XCTAssertEqual(w2.lines.first?["sku"], "ŚWIECA-9")
        // The raw bytes: Ł is C5 81 in UTF-8 (it was A3 in the original).
        let raw = try Data(contentsOf: URL(fileURLWithPath: spool.path("outbox/ORDER_W-1.xml")))
        XCTAssertNotNil(raw.range(of: Data([0xC5, 0x81, 0x75, 0x63, 0x6A, 0x61])), "\"Łucja\" in UTF-8")

        let record = try fileRecord(spool, named: "zamowienia.csv")
        XCTAssertEqual(record["encoding"] as? String, "windows-1250")
        XCTAssertEqual(record["format"] as? String, "orders-csv")
        let show = try spool.run(["show", String(try XCTUnwrap(record["id"] as? Int))])
        XCTAssertTrue(show.stdout.contains("orders-csv, windows-1250"), show.stdout)
    }

    func testAByteWindows1250DoesNotDefineIsENCODINGWithItsLine() throws {
        let spool = try TestSpool()
        try spool.drop("zepsute.csv", try Self.fixture("windows-1250-undefined-byte.csv"))
        try runOnce(spool)
        XCTAssertEqual(spool.files(in: "outbox"), [], "nothing from the file is sent")
        XCTAssertEqual(try spool.errorCodes("zepsute.csv"), ["ENCODING@3"])
        let report = try spool.report("zepsute.csv")
        XCTAssertEqual(report["encoding"] as? String, "windows-1250")
        let errors = report["errors"] as? [[String: Any]] ?? []
        XCTAssertEqual(errors.first?["column"] as? Int, 20, "after \"W-3;22.11.2026;Ewa \"")
        XCTAssertTrue((errors.first?["message"] as? String ?? "").contains("0x98"), "\(errors)")
        let text = try String(contentsOfFile: spool.path("rejected/zepsute.csv.report.txt"), encoding: .utf8)
        XCTAssertTrue(text.contains("windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)"), text)
        XCTAssertTrue(text.contains("ENCODING") && text.contains("line 3"), text)
    }

    func testAUTF16TabSeparatedFileAsExcelSavesUnicodeText() throws {
        let spool = try TestSpool()
        try spool.drop("excel.txt", try Self.fixture("excel-unicode-text.txt"))
        try runOnce(spool)
        let orders = try warehouseOrders(spool)
        XCTAssertEqual(Set(orders.keys), ["U-1", "U-2"])
        XCTAssertEqual(orders["U-1"]?["customer", "name"], "Grażyna Ćwik")
        XCTAssertEqual(orders["U-1"]?["shipTo", "street"], "ul. Źródlana 8")
        XCTAssertEqual(orders["U-1"]?["shipTo", "city"], "Zielona Góra")
        XCTAssertEqual(orders["U-1"]?.lines.first?["ean"], "5901234123457")
        XCTAssertEqual(orders["U-1"]?.lines.first?["unitPrice"], "12.30")
        XCTAssertEqual(orders["U-2"]?["customer", "name"], "Jürgen Müller")
        XCTAssertEqual(orders["U-2"]?["shipTo", "street"], "Königstraße 4")
        XCTAssertEqual(orders["U-2"]?["shipTo", "country"], "DE")
        XCTAssertEqual(orders["U-2"]?["payment", "currency"], "EUR")
        XCTAssertEqual(orders["U-2"]?.lines.first?["name"], "Książka „Ślady”")
        XCTAssertEqual(orders["U-2"]?.lines.first?["quantity"], "2")
        XCTAssertEqual(orders["U-2"]?.notes, "Bitte klingeln")
        XCTAssertEqual(try fileRecord(spool, named: "excel.txt")["encoding"] as? String, "UTF-16LE")
    }

    func testISO88592IsReadAsConfigured() throws {
        let spool = try TestSpool(configuration: "[intake]\nencoding = \"iso-8859-2\"\n")
        try spool.drop("stary-system.csv", try Self.fixture("latin2-iso-8859-2.csv"))
        try runOnce(spool)
        let order = try XCTUnwrap(try warehouseOrders(spool)["L-1"])
        XCTAssertEqual(order["customer", "name"], "Jadwiga Ślązak")
        XCTAssertEqual(order["shipTo", "street"], "ul. Źródłowa 1")
        XCTAssertEqual(order["shipTo", "city"], "Kraśnik")
        XCTAssertEqual(order.lines.first?["sku"], "MIÓD-1")
        XCTAssertEqual(order.lines.first?["name"], "Miód gryczany ąśź")
        XCTAssertEqual(order.notes, "Śląsk")
        XCTAssertEqual(try fileRecord(spool, named: "stary-system.csv")["encoding"] as? String, "ISO-8859-2")
        let validate = try spool.run(["validate", Self.fixturePath("latin2-iso-8859-2.csv")])
        XCTAssertTrue(validate.stdout.contains("valid — canonical orders CSV, ISO-8859-2 (not valid UTF-8, no BOM: read with the configured encoding), 1 order"),
                      validate.stdout)
    }

    // MARK: Shopify

    func testShopifyExportsOfTwoYearsReachTheWarehouseAndGiftCardsDoNot() throws {
        let spool = try TestSpool()
        try spool.drop("orders_export_2026.csv", try Self.fixture("shopify-orders-2026.csv"))
        try spool.drop("orders_export_2019.csv", try Self.fixture("shopify-orders-2019.csv"))
        try runOnce(spool)
        try spool.assertInvariants(inputs: ["orders_export_2026.csv", "orders_export_2019.csv"],
                                   orders: ["#1001", "#1002", "#1004", "#2001", "#2002"])
        let orders = try warehouseOrders(spool)

        let a = try XCTUnwrap(orders["#1001"])
        XCTAssertEqual(a["order", "date"], "2026-11-20T14:03:11+01:00")
        XCTAssertEqual(a["customer", "name"], "Anna Kowalska")
        XCTAssertEqual(a["customer", "email"], "anna@example.pl")
        XCTAssertEqual(a["customer", "phone"], "+48600100200")
        XCTAssertEqual(a["shipTo", "street"], "ul. Długa 5/3")
        XCTAssertEqual(a["shipTo", "postcode"], "31-147", "the apostrophe is dropped")
        XCTAssertEqual(a["payment", "currency"], "PLN")
        XCTAssertNil(a["payment", "cod"])
        XCTAssertEqual(a.notes, "Proszę zostawić u sąsiada\nspod 4, jeśli mnie nie będzie")
        XCTAssertEqual(a.lines.map { $0["sku"] }, ["MUG-001", "TEA-002"])
        XCTAssertEqual(a.lines.map { $0["quantity"] }, ["2", "1"])
        XCTAssertEqual(a.lines.map { $0["unitPrice"] }, ["19.99", "19.99"])
        XCTAssertEqual(a.lines.map { $0["ean"] }, [nil, nil])

        let cod = try XCTUnwrap(orders["#1002"])
        XCTAssertEqual(cod["payment", "cod"], "89.97", "cash on delivery collects the Total")
        XCTAssertEqual(cod["shipTo", "street"], "Marszałkowska 1 m. 12")
        XCTAssertEqual(cod["shipTo", "postcode"], "00-624")
        XCTAssertEqual(cod["customer", "phone"], "+48 501 502 503")

        let mixed = try XCTUnwrap(orders["#1004"])
        XCTAssertEqual(mixed.lines.map { $0["sku"] }, ["BOOK-9"], "the gift card line stays behind")
        XCTAssertEqual(mixed["shipTo", "country"], "DE")
        XCTAssertEqual(mixed["shipTo", "postcode"], "10115")
        XCTAssertEqual(mixed["payment", "currency"], "EUR")

        let old = try XCTUnwrap(orders["#2001"])
        XCTAssertEqual(old["payment", "cod"], "45.50", "\"za pobraniem\"")
        XCTAssertEqual(old["shipTo", "street"], "ul. Polna 3")
        XCTAssertEqual(old["shipTo", "postcode"], "80-001")
        XCTAssertEqual(old["order", "date"], "2019-03-04T08:15:00+01:00")
        XCTAssertEqual(orders["#2002"]?.notes, "Prezent — proszę\nnie wkładać paragonu")
        XCTAssertEqual(orders["#2002"]?.lines.first?["quantity"], "2")

        // #1003 was a gift card only: skipped, listed, and the file is accepted.
        let record = try fileRecord(spool, named: "orders_export_2026.csv")
        XCTAssertEqual(record["state"] as? String, "accepted")
        XCTAssertEqual(record["format"] as? String, "shopify-orders-csv")
        let show = try spool.run(["show", String(try XCTUnwrap(record["id"] as? Int))])
        XCTAssertTrue(show.stdout.contains("3 orders, 1 order skipped (nothing to ship): #1003"), show.stdout)
        let detail = try spool.json(["show", String(try XCTUnwrap(record["id"] as? Int))]) as? [String: Any]
        let history = detail?["history"] as? [[String: Any]] ?? []
        XCTAssertTrue(history.contains { ($0["detail"] as? String)?.contains("#1003") ?? false }, "\(history)")

        let validate = try spool.run(["validate", Self.fixturePath("shopify-orders-2026.csv")])
        XCTAssertEqual(validate.status, 0)
        XCTAssertTrue(validate.stdout.contains("valid — Shopify orders export CSV, UTF-8, 3 orders; 1 order skipped (nothing to ship): #1003"),
                      validate.stdout)
        let json = try spool.json(["validate", Self.fixturePath("shopify-orders-2026.csv")]) as? [[String: Any]]
        let skipped = json?.first?["skippedOrders"] as? [[String: Any]]
        XCTAssertEqual(skipped?.map { $0["orderId"] as? String }, ["#1003"])
        XCTAssertEqual(skipped?.first?["line"] as? Int, 6)
    }

    func testAShopifyExportOfGiftCardsOnlyIsAcceptedWithNothingSent() throws {
        let spool = try TestSpool()
        let text = "Name,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem requires shipping,Shipping Name,Shipping Street,Shipping City,Shipping Zip,Shipping Country\n"
            + "#3001,50.00,2026-11-23 10:00:00 +0100,1,Karta podarunkowa,50.00,,false,,,,,\n"
            + "#3002,80.00,2026-11-23 11:00:00 +0100,2,Karta podarunkowa,40.00,,false,,,,,\n"
        try spool.drop("gift-cards.csv", text)
        try runOnce(spool)
        XCTAssertEqual(spool.files(in: "outbox"), [])
        let record = try fileRecord(spool, named: "gift-cards.csv")
        XCTAssertEqual(record["state"] as? String, "accepted", "skipped orders are not errors")
        let show = try spool.run(["show", String(try XCTUnwrap(record["id"] as? Int))])
        XCTAssertTrue(show.stdout.contains("0 orders, 2 orders skipped (nothing to ship): #3001, #3002"), show.stdout)
    }

    // MARK: UBL

    func testAUBLOrderReachesTheWarehouseAndABadGTINIsRejected() throws {
        let spool = try TestSpool()
        try spool.drop("order-7001.xml", try Self.fixture("ubl-order.xml"))
        try spool.drop("order-7002.xml", try Self.fixture("ubl-order-bad-gtin.xml"))
        try runOnce(spool)
        let orders = try warehouseOrders(spool)
        XCTAssertEqual(Array(orders.keys), ["UBL-7001"])
        let o = try XCTUnwrap(orders["UBL-7001"])
        XCTAssertEqual(o["order", "date"], "2026-11-24T09:30:00+01:00")
        XCTAssertEqual(o["customer", "name"], "Marek Żurawski")
        XCTAssertEqual(o["customer", "email"], "marek@example.pl")
        XCTAssertEqual(o["customer", "phone"], "+48601202303")
        XCTAssertEqual(o["shipTo", "street"], "ul. Półwiejska 32")
        XCTAssertEqual(o["shipTo", "city"], "Poznań")
        XCTAssertEqual(o["shipTo", "postcode"], "61-888")
        XCTAssertEqual(o["shipTo", "country"], "PL")
        XCTAssertEqual(o["delivery", "carrier"], "inpost")
        XCTAssertEqual(o["delivery", "pickupPoint"], "POZ08M")
        XCTAssertEqual(o["payment", "cod"], "74.48")
        XCTAssertEqual(o["payment", "currency"], "PLN")
        XCTAssertEqual(o.notes, "Brama od podwórza, kod 1234")
        XCTAssertEqual(o.lines.map { $0["sku"] }, ["MUG-POZ", "ROGAL-1"])
        XCTAssertEqual(o.lines.map { $0["ean"] }, ["5901234123457", nil])
        XCTAssertEqual(o.lines.map { $0["quantity"] }, ["2", "1"])
        XCTAssertEqual(o.lines.map { $0["unitPrice"] }, ["24.99", "24.50"])
        XCTAssertEqual(o.lines.map { $0["name"] }, ["Kubek „Poznań”", "Rogal świętomarciński"])
        XCTAssertEqual(try fileRecord(spool, named: "order-7001.xml")["format"] as? String, "ubl-order")

        XCTAssertEqual(try spool.errorCodes("order-7002.xml"), ["INVALID_EAN@69"])
        let report = try spool.report("order-7002.xml")
        XCTAssertEqual(report["format"] as? String, "ubl-order")
        let error = (report["errors"] as? [[String: Any]])?.first
        XCTAssertEqual(error?["hint"] as? String, "EAN check digit should be 7")
        XCTAssertEqual(error?["orderId"] as? String, "UBL-7002")
    }

    func testUBLDespatchAdviceAndInventoryReportFromTheWarehouse() throws {
        let spool = try TestSpool()
        try spool.drop("order-7001.xml", try Self.fixture("ubl-order.xml"))
        try runOnce(spool)
        try spool.drop("despatch.xml", try Self.fixture("ubl-despatch-advice.xml"), into: "from-warehouse")
        try spool.drop("inventory.xml", try Self.fixture("ubl-inventory-report.xml"), into: "from-warehouse")
        try runOnce(spool)
        XCTAssertEqual(try fileRecord(spool, named: "despatch.xml")["format"] as? String, "ubl-despatch-advice")
        XCTAssertEqual(try fileRecord(spool, named: "inventory.xml")["format"] as? String, "ubl-inventory-report")

        let journey = try spool.json(["orders", "show", "UBL-7001"]) as? [String: Any]
        XCTAssertEqual(journey?["status"] as? String, "shipped")
        XCTAssertEqual(journey?["shippedAt"] as? String, "2026-11-25T16:40:00+01:00")
        let parcels = journey?["parcels"] as? [[String: Any]] ?? []
        XCTAssertEqual(parcels.count, 1)
        XCTAssertEqual(parcels.first?["tracking"] as? String, "620000111222333444")
        XCTAssertEqual(parcels.first?["carrier"] as? String, "InPost")

        let stock = try spool.json(["stock"]) as? [[String: Any]] ?? []
        let bySKU = Dictionary(uniqueKeysWithValues: stock.map { ($0["sku"] as? String ?? "", $0) })
        XCTAssertEqual(bySKU["MUG-POZ"]?["available"] as? Int, 12)
        XCTAssertEqual(bySKU["MUG-POZ"]?["ean"] as? String, "5901234123457")
        XCTAssertEqual(bySKU["MUG-POZ"]?["asOf"] as? String, "2026-11-26T06:00:00Z")
        XCTAssertEqual(bySKU["ROGAL-1"]?["available"] as? Int, 0)
        XCTAssertEqual(bySKU["=TEA-002"]?["available"] as? Int, 250)

        let feeds = spool.files(in: "to-shop")
        let tracking = try XCTUnwrap(feeds.first { $0.hasPrefix("tracking-") })
        XCTAssertEqual(try String(contentsOfFile: spool.path("to-shop/\(tracking)"), encoding: .utf8),
                       "order_id;carrier;tracking_number;shipped_at\r\nUBL-7001;InPost;620000111222333444;2026-11-25T16:40:00+01:00\r\n")
        let feed = try XCTUnwrap(feeds.first { $0.hasPrefix("stock-") })
        XCTAssertEqual(try String(contentsOfFile: spool.path("to-shop/\(feed)"), encoding: .utf8),
                       "sku;ean;available\r\nMUG-POZ;5901234123457;12\r\nROGAL-1;;0\r\n'=TEA-002;;250\r\n")
    }

    func testADespatchAdviceForAnOrderNeverSentIsUNKNOWN_ORDER() throws {
        let spool = try TestSpool()
        try spool.drop("despatch.xml", try Self.fixture("ubl-despatch-advice.xml"), into: "from-warehouse")
        try runOnce(spool)
        XCTAssertEqual(try spool.errorCodes("despatch.xml"), ["UNKNOWN_ORDER@11"], "the line of the order reference")
        XCTAssertEqual(spool.files(in: "to-shop"), [])
    }

    // MARK: The shop's own layout

    func testTheShopsOwnColumnsAreReadWithItsConfiguration() throws {
        let configuration = try String(contentsOfFile: Self.fixturePath("custom-columns.toml"), encoding: .utf8)
        let spool = try TestSpool(configuration: configuration)
        try spool.drop("eksport.csv", try Self.fixture("custom-columns.csv"))
        try spool.drop("eksport-zly.csv", try Self.fixture("custom-columns-bad.csv"))
        try runOnce(spool)
        let orders = try warehouseOrders(spool)
        XCTAssertEqual(Set(orders.keys), ["ZAM/2026/11/0042", "ZAM/2026/11/0043"])
        XCTAssertTrue(spool.files(in: "outbox").allSatisfy { $0.hasPrefix("ORDER_ZAM_2026_11_004") }, "\(spool.files(in: "outbox"))")
        let a = try XCTUnwrap(orders["ZAM/2026/11/0042"])
        XCTAssertEqual(a["order", "date"], "2026-11-27")
        XCTAssertEqual(a["customer", "name"], "Krystyna Bąk")
        XCTAssertEqual(a["customer", "email"], "k.bak@example.pl")
        XCTAssertEqual(a["customer", "phone"], "501 502 503")
        XCTAssertEqual(a["shipTo", "street"], "ul. Kościuszki 7")
        XCTAssertEqual(a["shipTo", "city"], "Poznań")
        XCTAssertEqual(a["shipTo", "postcode"], "61-890")
        XCTAssertEqual(a["delivery", "carrier"], "inpost")
        XCTAssertEqual(a["delivery", "pickupPoint"], "POZ12A")
        XCTAssertEqual(a["payment", "cod"], "234.50")
        XCTAssertEqual(a.lines.map { $0["sku"] }, ["KAW-1", "FIL-3"])
        XCTAssertEqual(a.lines.map { $0["quantity"] }, ["2", "3"])
        XCTAssertEqual(a.lines.map { $0["unitPrice"] }, ["117.25", "0.00"])
        XCTAssertEqual(a.lines.map { $0["ean"] }, ["5901234123457", nil])
        XCTAssertEqual(a.lines.map { $0["name"] }, ["Kawa ziarnista 1 kg", "Filtry papierowe"])
        let b = try XCTUnwrap(orders["ZAM/2026/11/0043"])
        XCTAssertEqual(b.notes, "Dzwonić po 17")
        XCTAssertEqual(b.lines.first?["unitPrice"], "12.50")
        XCTAssertEqual(try fileRecord(spool, named: "eksport.csv")["format"] as? String, "custom-orders-csv")

        // The shop's conventions are enforced, and errors name the shop's columns.
        let errors = (try spool.report("eksport-zly.csv")["errors"] as? [[String: Any]]) ?? []
        let found = Set(errors.map { "\($0["code"] as? String ?? "?")@\($0["line"] as? Int ?? 0):\($0["field"] as? String ?? "-")" })
        XCTAssertEqual(found, ["INVALID_DATE@2:Data", "INVALID_QUANTITY@2:Ilość", "INVALID_VALUE@2:Cena brutto"])
        let text = try String(contentsOfFile: spool.path("rejected/eksport-zly.csv.report.txt"), encoding: .utf8)
        XCTAssertTrue(text.contains("Ilość"), text)
    }

    // MARK: Outbox formats

    func testTheWarehouseCanReceiveUBLOrders() throws {
        let spool = try TestSpool(configuration: "[outbox]\nformat = \"ubl\"\n")
        try spool.drop("zamowienia.csv", try Self.fixture("polish-windows-1250.csv"))
        try spool.drop("order-7001.xml", try Self.fixture("ubl-order.xml"))
        try spool.drop("shopify.csv", try Self.fixture("shopify-orders-2026.csv"))
        try runOnce(spool)
        let names = spool.files(in: "outbox")
        XCTAssertEqual(names.count, 6, "\(names)")
        XCTAssertTrue(names.allSatisfy { $0.hasPrefix("ORDER_") && $0.hasSuffix(".xml") }, "\(names)")
        let schema = try FormatsEndToEndSchema.ublOrder()
        var orders: [String: Order] = [:]
        for name in names {
            let text = try String(contentsOfFile: spool.path("outbox/\(name)"), encoding: .utf8)
            XCTAssertEqual(FormatsEndToEndSchema.problems(text, schema), [], "\(name) follows UBL 2.1 Order:\n\(text)")
            var source = BytesSource(text)
            var reader = UBLOrderReader(reader: XMLStreamReader(documentName: name, schema: nil) { try source.read(into: $0) })
            let draft = try XCTUnwrap(reader.next(), name)
            XCTAssertNil(reader.next(), "one order per document")
            let (order, problems) = OrderValidator().validate(draft)
            XCTAssertEqual(problems, [], name)
            if let order { orders[order.id] = order }
        }
        XCTAssertEqual(Set(orders.keys), ["W-1", "W-2", "UBL-7001", "#1001", "#1002", "#1004"])
        let w1 = try XCTUnwrap(orders["W-1"])
        XCTAssertEqual([w1.customer.name, w1.customer.email, w1.customer.phone], ["Łucja Wąsowska", "lucja@example.pl", "+48 600 100 200"])
        XCTAssertEqual([w1.shipTo.street, w1.shipTo.city, w1.shipTo.postcode, w1.shipTo.country],
                       ["ul. Świętokrzyska 12/4", "Łódź", "90-001", "PL"])
        XCTAssertEqual(w1.date?.iso, "2026-11-20")
        XCTAssertEqual(w1.carrier, "inpost")
        XCTAssertEqual(w1.pickupPoint, "LOD01M")
        XCTAssertEqual(w1.cod?.formatted, "149.50")
        XCTAssertEqual(w1.notes, "Proszę dzwonić przed doręczeniem")
        XCTAssertEqual(w1.lines.map(\.sku), ["KUB-ŻÓŁ", "HER-01"])
        XCTAssertEqual(w1.lines.map(\.ean), ["5901234123457", nil])
        XCTAssertEqual(w1.lines.map(\.quantity), [2, 1])
        XCTAssertEqual(w1.lines.map { $0.unitPrice?.formatted }, ["49.75", "50.00"])
        XCTAssertEqual(w1.lines.map(\.name), ["Kubek ceramiczny żółty", "Herbata źródlana \"Góralska\""])
        XCTAssertEqual(orders["UBL-7001"]?.shipTo.street, "ul. Półwiejska 32")
        XCTAssertEqual(orders["UBL-7001"]?.cod?.formatted, "74.48")
        XCTAssertEqual(orders["UBL-7001"]?.date?.iso, "2026-11-24T09:30:00+01:00")
        XCTAssertEqual(orders["#1002"]?.cod?.formatted, "89.97")
        XCTAssertEqual(orders["#1001"]?.notes, "Proszę zostawić u sąsiada\nspod 4, jeśli mnie nie będzie")
        XCTAssertEqual(orders["W-2"]?.cod, nil)
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertEqual((status?["orders"] as? [String: Int])?["sent"], 6)
    }

    func testTheWarehouseCanReceiveCSVOrders() throws {
        let spool = try TestSpool(configuration: "[outbox]\nformat = \"csv\"\n")
        try spool.drop("zamowienia.csv", try Self.fixture("polish-windows-1250.csv"))
        try runOnce(spool)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_W-1.csv", "ORDER_W-2.csv"])
        let data = try Data(contentsOf: URL(fileURLWithPath: spool.path("outbox/ORDER_W-1.csv")))
        let text = try XCTUnwrap(String(data: data, encoding: .utf8), "UTF-8")
        let lines = text.components(separatedBy: "\r\n")
        XCTAssertEqual(lines[0], "order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes")
        XCTAssertEqual(lines[1], "W-1;2026-11-20;Łucja Wąsowska;lucja@example.pl;'+48 600 100 200;ul. Świętokrzyska 12/4;Łódź;90-001;PL;inpost;LOD01M;149.50;PLN;KUB-ŻÓŁ;5901234123457;2;49.75;Kubek ceramiczny żółty;Proszę dzwonić przed doręczeniem",
                       "one row per line, the phone defused for spreadsheets")
        XCTAssertEqual(lines[2], "W-1;2026-11-20;Łucja Wąsowska;lucja@example.pl;'+48 600 100 200;ul. Świętokrzyska 12/4;Łódź;90-001;PL;inpost;LOD01M;149.50;PLN;HER-01;;1;50.00;\"Herbata źródlana \"\"Góralska\"\"\";Proszę dzwonić przed doręczeniem")
        XCTAssertEqual(lines.count, 4, "header, two rows, and the final line break")
        // And edidrop reads what it wrote as a canonical orders CSV.
        var reader = OrdersCSVReader(csv: CSVReader(source: BytesSource(Array(data))))
        let draft = try XCTUnwrap(reader.next())
        let (order, problems) = OrderValidator().validate(draft)
        XCTAssertEqual(problems, [])
        XCTAssertEqual(order?.lines.map(\.sku), ["KUB-ŻÓŁ", "HER-01"])
        XCTAssertEqual(order?.cod?.formatted, "149.50")
        let w2 = try String(contentsOfFile: spool.path("outbox/ORDER_W-2.csv"), encoding: .utf8)
        XCTAssertTrue(w2.contains("W-2;2026-11-21;Zbigniew Żółkiewski;;;Plac Grunwaldzki 3;Gdańsk;80-244;PL;dpd;;;PLN;ŚWIECA-9;;3;12.30;Świeca sojowa – zapach łąki;\r\n"), w2)
    }

    // MARK: validate

    func testValidateSaysWhichFormatAndEncodingItFound() throws {
        let spool = try TestSpool()
        let w1250 = try spool.run(["validate", Self.fixturePath("polish-windows-1250.csv")])
        XCTAssertEqual(w1250.status, 0)
        XCTAssertTrue(w1250.stdout.contains("valid — canonical orders CSV, windows-1250 (not valid UTF-8, no BOM: read with the configured encoding), 2 orders"),
                      w1250.stdout)
        let utf16 = try spool.run(["validate", Self.fixturePath("excel-unicode-text.txt")])
        XCTAssertTrue(utf16.stdout.contains("valid — canonical orders CSV, UTF-16LE (with BOM), 2 orders"), utf16.stdout)
        let ubl = try spool.run(["validate", Self.fixturePath("ubl-order.xml")])
        XCTAssertTrue(ubl.stdout.contains("valid — UBL 2.1 Order XML, UTF-8, 1 order"), ubl.stdout)

        let bad = try spool.run(["validate", Self.fixturePath("windows-1250-undefined-byte.csv")])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("INVALID — canonical orders CSV, windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)"), bad.stdout)
        XCTAssertTrue(bad.stdout.contains("ENCODING") && bad.stdout.contains("line 3"), bad.stdout)
        let gtin = try spool.run(["validate", Self.fixturePath("ubl-order-bad-gtin.xml")])
        XCTAssertEqual(gtin.status, 1)
        XCTAssertTrue(gtin.stdout.contains("INVALID — UBL 2.1 Order XML, UTF-8"), gtin.stdout)
        XCTAssertTrue(gtin.stdout.contains("INVALID_EAN") && gtin.stdout.contains("line 69"), gtin.stdout)

        let junk = spool.path("junk.csv")
        try "Numer;Klient\n1;Ewa\n".write(toFile: junk, atomically: true, encoding: .utf8)
        let unknown = try spool.run(["validate", junk])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stdout.contains("INVALID — format not recognised, UTF-8"), unknown.stdout)
        XCTAssertTrue(unknown.stdout.contains("UNKNOWN_FORMAT"), unknown.stdout)

        let several = try spool.run(["validate", "--json", Self.fixturePath("ubl-order.xml"), Self.fixturePath("windows-1250-undefined-byte.csv"), junk])
        XCTAssertEqual(several.status, 1)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(several.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(json.map { $0["format"] as? String }, ["ubl-order", "orders-csv", nil])
        XCTAssertEqual(json.map { $0["formatTitle"] as? String }, ["UBL 2.1 Order XML", "canonical orders CSV", nil])
        XCTAssertEqual(json.map { $0["encoding"] as? String }, ["UTF-8", "windows-1250", "UTF-8"])
        XCTAssertEqual(json.map { $0["encodingDescription"] as? String },
                       ["UTF-8", "windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)", "UTF-8"])
        XCTAssertEqual(json.map { $0["encodingFallback"] as? Bool }, [false, true, false])
        XCTAssertEqual(json.map { $0["valid"] as? Bool }, [true, false, false])
        XCTAssertEqual(json.first?["documents"] as? Int, 1)
    }
}

/// The compact UBL 2.1 Order schema that ships in `Schemas`, compiled with its two
/// imported parts served from memory (XMLSupport's loader refuses every external load, so
/// a loader that knows only these two names stands in while it compiles).
enum FormatsEndToEndSchema {
    private static let compiled: Result<XMLSchema, Error> = {
        _ = try? CompiledSchemas()
        let saved = xmlGetExternalEntityLoader()
        xmlSetExternalEntityLoader(formatsEndToEndPartsLoader)
        defer { xmlSetExternalEntityLoader(saved) }
        return Result { try XMLSchema(xsd: Schemas.ublOrderOutputXSD, name: "edidrop-ubl-order.xsd") }
    }()

    static func ublOrder() throws -> XMLSchema { try compiled.get() }

    static func problems(_ xml: String, _ schema: XMLSchema) -> [XMLProblem] {
        var source = BytesSource(xml)
        let reader = XMLStreamReader(documentName: "ubl.xml", schema: schema) { try source.read(into: $0) }
        while reader.next() != nil {}
        return reader.problems
    }
}

private func formatsEndToEndPartsLoader(_ url: UnsafePointer<CChar>?, _ id: UnsafePointer<CChar>?,
                                        _ context: xmlParserCtxtPtr?) -> xmlParserInputPtr? {
    guard let url, let context else { return nil }
    let name = String(cString: url)
    guard let part = Schemas.ublOrderOutputParts.first(where: { name.hasSuffix($0.key) })?.value else { return nil }
    let bytes = Array(part.utf8)
    let buffer = bytes.withUnsafeBufferPointer { p in
        p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
            xmlParserInputBufferCreateMem($0, Int32(bytes.count), XML_CHAR_ENCODING_NONE)
        }
    }
    guard let buffer else { return nil }
    return xmlNewIOInputStream(context, buffer, XML_CHAR_ENCODING_NONE)
}
