import Foundation
import XCTest
@testable import EDIDrop

/// The ledger's hand-written order JSON must read back as the same order and say the same
/// as JSONEncoder would (the ledgers of earlier versions hold the encoder's output).
final class OrderJSONTests: XCTestCase {
    static let full = Order(
        id: "C-1 \"quoted\" \\ back", date: DateValue(iso: "2026-11-27T10:15:00+01:00", hasTime: true),
        customer: .init(name: "Zażółć \"gęślą\" jaźń\u{2028}", email: "anna@example.pl", phone: "+48600100200"),
        shipTo: .init(street: "ul. Długa 5/3\ttab", city: "Kraków", postcode: "31-147", country: "PL"),
        carrier: "inpost", pickupPoint: "KRA01M", cod: Money(minorUnits: -12999), currency: "PLN",
        notes: "dzwonić\nprzed 18\u{1}\u{7F}", lines: [
            Order.Line(sku: "MUG-001", ean: "5901234123457", quantity: 2, unitPrice: Money(minorUnits: 1999), name: "Kubek ☕"),
            Order.Line(sku: "=CMD()", ean: nil, quantity: 1, unitPrice: nil, name: nil),
            Order.Line(sku: "X", ean: nil, quantity: 3, unitPrice: nil, name: "only a name"),
        ])
    static let sparse = Order(
        id: "S-2", date: nil, customer: .init(name: "Jan", email: nil, phone: "1"),
        shipTo: .init(street: "", city: "Łódź", postcode: "90-001", country: "PL"),
        carrier: nil, pickupPoint: nil, cod: nil, currency: "EUR", notes: nil,
        lines: [Order.Line(sku: "A", ean: nil, quantity: 1, unitPrice: nil, name: nil)])

    func testItReadsBackAsTheSameOrder() throws {
        for order in [Self.full, Self.sparse] {
            let text = OrderJSON.encode(order)
            XCTAssertEqual(try JSONDecoder().decode(Order.self, from: Data(text.utf8)), order, text)
        }
    }

    func testItSaysWhatJSONEncoderSays() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for order in [Self.full, Self.sparse] {
            let ours = try JSONSerialization.jsonObject(with: Data(OrderJSON.encode(order).utf8)) as? NSDictionary
            let theirs = try JSONSerialization.jsonObject(with: encoder.encode(order)) as? NSDictionary
            XCTAssertNotNil(ours)
            XCTAssertEqual(ours, theirs)
        }
    }

    func testKeysAreSortedAndAbsentValuesLeftOut() {
        let text = OrderJSON.encode(Self.sparse)
        XCTAssertFalse(text.contains("null"))
        XCTAssertFalse(text.contains("\"email\""))
        let keys = ["currency", "customer", "id", "lines", "shipTo"].map { text.range(of: "\"\($0)\":")!.lowerBound }
        XCTAssertEqual(keys, keys.sorted())
    }
}
