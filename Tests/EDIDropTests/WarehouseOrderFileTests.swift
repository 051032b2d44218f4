import Foundation
import XCTest
import XMLSupport
@testable import EDIDrop

final class WarehouseOrderFileNameTests: XCTestCase {
    private let pattern = try! NSRegularExpression(pattern: "^ORDER_[A-Za-z0-9._-]+\\.xml$")

    private func assertSafe(_ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let range = NSRange(name.startIndex..., in: name)
        XCTAssertNotNil(pattern.firstMatch(in: name, range: range), "unsafe name \(name.debugDescription)", file: file, line: line)
        XCTAssertLessThanOrEqual(name.utf8.count, 255, file: file, line: line)
        XCTAssertFalse(name.contains("/"), file: file, line: line)
    }

    func testSafeIDsAreKeptAsTheyAre() {
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "PL-1001"), "ORDER_PL-1001.xml")
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "S-1001"), "ORDER_S-1001.xml")
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "a.B_c-9"), "ORDER_a.B_c-9.xml")
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "12345"), "ORDER_12345.xml")
    }

    func testAwkwardIDsBecomeSafeAndDistinctNames() {
        let ids = [
            "../etc/passwd", "../../x", "a/b", "a\\b", "a b", "a\u{0}b", "a\nb", "a\rb", "a\tb",
            "Zamówienie-źdźbło", "ŻÓŁĆ", "#1001", "1001#", "a:b", "a*b", "a?b", "a|b", "\"q\"",
            "", " ", "/", "\\", "..", String(repeating: "x", count: 10_000),
            String(repeating: "x", count: 9_999) + "y", String(repeating: "ż", count: 10_000),
            "a_b", "a-b", "😀", "e\u{301}", "é",
        ]
        var seen: [String: String] = [:]
        for id in ids {
            let name = WarehouseOrderFile.fileName(forOrderID: id)
            assertSafe(name)
            if let other = seen[name] {
                XCTFail("\(id.debugDescription) and \(other.debugDescription) both map to \(name)")
            }
            seen[name] = id
        }
        XCTAssertEqual(seen.count, ids.count)
    }

    /// An id that already looks like a made-safe name ("a_b-<hash of a/b>") is kept as it
    /// is, and so takes the very name the other order gets.
    func testAnIDShapedLikeAMadeSafeNameDoesNotCollide() {
        let original = "a/b"
        let taken = WarehouseOrderFile.fileName(forOrderID: original)
        let lookalike = String(taken.dropFirst("ORDER_".count).dropLast(".xml".count))
        XCTAssertNotEqual(lookalike, original)
        XCTAssertNotEqual(WarehouseOrderFile.fileName(forOrderID: lookalike), taken,
                          "order ids \(original.debugDescription) and \(lookalike.debugDescription) get the same file name")
    }

    func testChangedIDsKeepAReadablePrefixAndAHash() {
        let name = WarehouseOrderFile.fileName(forOrderID: "../etc/passwd")
        XCTAssertTrue(name.hasPrefix("ORDER_.._etc_passwd-"), name)
        let hash = name.dropFirst("ORDER_.._etc_passwd-".count).dropLast(".xml".count)
        XCTAssertFalse(hash.isEmpty)
        XCTAssertTrue(hash.allSatisfy { $0.isHexDigit }, String(hash))
        // Deterministic: the same id always gives the same name (recovery depends on it).
        XCTAssertEqual(WarehouseOrderFile.fileName(forOrderID: "../etc/passwd"), name)

        let long = WarehouseOrderFile.fileName(forOrderID: String(repeating: "x", count: 10_000))
        XCTAssertTrue(long.hasPrefix("ORDER_xxxxxxxxxx"))
        XCTAssertLessThan(long.utf8.count, 200)
    }
}

final class WarehouseOrderFileXMLTests: XCTestCase {
    /// An order whose values need every kind of escaping.
    private func awkwardOrder() -> Order {
        Order(id: "A&B<1>\"x\"'y'",
              date: DateValue(iso: "2026-11-27T10:15:00+01:00", hasTime: true),
              customer: .init(name: "Zażółć \"gęślą\" <jaźń> & Co", email: "a&b@example.com", phone: "+48 600\t100 200"),
              shipTo: .init(street: "ul. Długa 5/3\nlok. 2", city: "Kraków\r\nPodgórze", postcode: "31-147", country: "PL"),
              carrier: "in&post", pickupPoint: "KRA01M",
              cod: Money(minorUnits: 12_999), currency: "PLN",
              notes: "Proszę dzwonić\n\tprzed 10:00 & <nie> \"później\" 'ok'",
              lines: [
                  .init(sku: "MUG<1>&", ean: "5901234123457", quantity: 2, unitPrice: Money(minorUnits: 1_999), name: "Kubek \"duży\" & 'mały'"),
                  .init(sku: "TEA-2", ean: nil, quantity: 1_000_000, unitPrice: Money(minorUnits: 300), name: nil),
              ])
    }

    private struct Parsed {
        var starts: [XMLStart] = []
        var texts: [String] = []
        var problems: [XMLProblem] = []
    }

    private func parse(_ xml: String) -> Parsed {
        var source = BytesSource(xml)
        let reader = XMLStreamReader(documentName: "ORDER.xml", schema: Fixture.schemas.orders) { try source.read(into: $0) }
        var parsed = Parsed()
        while let event = reader.next() {
            switch event {
            case .start(let s): parsed.starts.append(s)
            case .text(let t, _): parsed.texts.append(t)
            case .end: break
            }
        }
        parsed.problems = reader.problems
        return parsed
    }

    private func attributes(_ start: XMLStart) -> [String: String] {
        Dictionary(uniqueKeysWithValues: start.attributes.map { ($0.localName, $0.value) })
    }

    func testRoundTripKeepsEveryValueExactly() throws {
        let order = awkwardOrder()
        let xml = WarehouseOrderFile.xml(for: order)
        XCTAssertTrue(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">"))
        let parsed = parse(xml)
        XCTAssertEqual(parsed.problems, [], xml)
        XCTAssertEqual(parsed.starts.map(\.localName), ["orders", "order", "customer", "shipTo", "delivery", "payment", "notes", "line", "line"])
        XCTAssertTrue(parsed.starts.allSatisfy { $0.namespaceURI == "urn:edidrop:orders:1" })

        let s = parsed.starts
        XCTAssertEqual(attributes(s[1]), ["id": order.id, "date": "2026-11-27T10:15:00+01:00"])
        XCTAssertEqual(attributes(s[2]), ["name": order.customer.name, "email": "a&b@example.com", "phone": "+48 600\t100 200"])
        XCTAssertEqual(attributes(s[3]), ["street": "ul. Długa 5/3\nlok. 2", "city": "Kraków\r\nPodgórze", "postcode": "31-147", "country": "PL"])
        XCTAssertEqual(attributes(s[4]), ["carrier": "in&post", "pickupPoint": "KRA01M"])
        XCTAssertEqual(attributes(s[5]), ["cod": "129.99", "currency": "PLN"])
        XCTAssertEqual(attributes(s[7]), ["sku": "MUG<1>&", "ean": "5901234123457", "quantity": "2", "unitPrice": "19.99",
                                          "name": "Kubek \"duży\" & 'mały'"])
        XCTAssertEqual(attributes(s[8]), ["sku": "TEA-2", "quantity": "1000000", "unitPrice": "3.00"])
        XCTAssertEqual(parsed.texts, [order.notes!])
    }

    /// The outbox keeps bytes, rendered straight into them for the default format: the
    /// same bytes as the text, in every format, escapes and all.
    func testTheOutboxBytesAreTheTextInEveryFormat() {
        let plain = Order(id: "S-1", date: nil, customer: .init(name: "Jan", email: nil, phone: nil),
                          shipTo: .init(street: "Polna 1", city: "Łódź", postcode: "90-001", country: "PL"),
                          carrier: nil, pickupPoint: nil, cod: nil, currency: "EUR", notes: nil,
                          lines: [.init(sku: "X", ean: nil, quantity: 1, unitPrice: nil, name: nil)])
        for order in [awkwardOrder(), plain] {
            for format in [SpoolConfiguration.OutboxFormat.edidropXML, .ubl, .csv] {
                let text = WarehouseOrderFile.content(for: order, format: format, receivedOn: "2026-11-27")
                let bytes = WarehouseOrderFile.contentData(for: order, format: format, receivedOn: "2026-11-27")
                XCTAssertEqual(bytes, Data(text.utf8), "\(format) of \(order.id)")
            }
        }
        let bytes = WarehouseOrderFile.contentData(for: awkwardOrder(), format: .edidropXML, receivedOn: "2026-11-27")
        let parsed = parse(String(decoding: bytes, as: UTF8.self))
        XCTAssertEqual(parsed.problems, [])
        XCTAssertEqual(parsed.starts.first { $0.localName == "customer" }.map(attributes)?["name"], "Zażółć \"gęślą\" <jaźń> & Co")
        XCTAssertEqual(parsed.texts, [awkwardOrder().notes!])
    }

    func testOptionalPartsAreLeftOut() {
        let order = Order(id: "S-1", date: nil, customer: .init(name: "Jan", email: nil, phone: nil),
                          shipTo: .init(street: "Polna 1", city: "Łódź", postcode: "90-001", country: "PL"),
                          carrier: nil, pickupPoint: nil, cod: nil, currency: "EUR", notes: nil,
                          lines: [.init(sku: "X", ean: nil, quantity: 1, unitPrice: nil, name: nil)])
        let xml = WarehouseOrderFile.xml(for: order)
        XCTAssertEqual(xml, """
        <?xml version="1.0" encoding="UTF-8"?>
        <orders xmlns="urn:edidrop:orders:1">
          <order id="S-1">
            <customer name="Jan"/>
            <shipTo street="Polna 1" city="Łódź" postcode="90-001" country="PL"/>
            <payment currency="EUR"/>
            <line sku="X" quantity="1"/>
          </order>
        </orders>

        """)
        XCTAssertEqual(parse(xml).problems, [])
    }

    /// Whatever the validator accepts must come out as a well-formed warehouse file.
    /// U+FFFE/U+FFFF are valid UTF-8 (so a CSV can carry them) but are not XML characters.
    func testEveryAcceptedOrderRendersAsWellFormedXML() {
        for odd in ["\u{FFFF}", "\u{FFFE}"] {
            var draft = OrderDraft(line: 2)
            draft.id = Located("S-1", line: 2)
            draft.customerName = Located("Anna\(odd)Kowalska", line: 2)
            draft.street = Located("Polna 1", line: 2)
            draft.city = Located("Kraków", line: 2)
            draft.postcode = Located("31-147", line: 2)
            draft.country = Located("PL", line: 2)
            var l = OrderDraft.Line(line: 2)
            l.sku = Located("X", line: 2)
            l.quantity = Located("1", line: 2)
            draft.lines = [l]
            let (order, findings) = OrderValidator().validate(draft)
            guard let order else {
                XCTAssertEqual(findings.first?.code, .invalidValue)
                continue
            }
            let problems = parse(WarehouseOrderFile.xml(for: order)).problems
            XCTAssertEqual(problems, [], "an accepted order with U+\(String(odd.unicodeScalars.first!.value, radix: 16, uppercase: true)) in a value renders to XML the warehouse cannot parse")
        }
    }
}
