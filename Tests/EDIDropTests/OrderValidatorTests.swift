import Foundation
import XCTest
@testable import EDIDrop

final class OrderValidatorTests: XCTestCase {
    /// A valid draft as a CSV reader would make it: line 2, the columns of a canonical row.
    private func validDraft(line: Int = 2) -> OrderDraft {
        var d = OrderDraft(line: line)
        d.id = Located("S-1", line: line, column: 1)
        d.date = Located("27.11.2026", line: line, column: 5)
        d.customerName = Located("Anna Kowalska", line: line, column: 16)
        d.email = Located("anna@example.com", line: line, column: 30)
        d.phone = Located("+48600100200", line: line, column: 47)
        d.street = Located("ul. Długa 5/3", line: line, column: 60)
        d.city = Located("Kraków", line: line, column: 74)
        d.postcode = Located("31-147", line: line, column: 81)
        d.country = Located("PL", line: line, column: 88)
        d.carrier = Located("inpost", line: line, column: 91)
        d.pickupPoint = Located("KRA01M", line: line, column: 98)
        d.cod = Located("49,95", line: line, column: 105)
        d.currency = Located("", line: line, column: 111)
        var l = OrderDraft.Line(line: line)
        l.sku = Located("MUG-001", line: line, column: 112)
        l.ean = Located("5901234123457", line: line, column: 120)
        l.quantity = Located("2", line: line, column: 134)
        l.unitPrice = Located("3", line: line, column: 136)
        l.name = Located("Kubek", line: line, column: 138)
        d.lines = [l]
        return d
    }

    private func findings(_ draft: OrderDraft) -> [Diagnostic] {
        let (order, findings) = OrderValidator().validate(draft)
        XCTAssertNil(order, "an order with findings must not come out")
        return findings
    }

    private func only(_ draft: OrderDraft, file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
        let f = findings(draft)
        XCTAssertEqual(f.count, 1, "\(f)", file: file, line: line)
        return f.first
    }

    // MARK: Normalisation

    func testValidDraftIsNormalised() throws {
        let (order, findings) = OrderValidator().validate(validDraft())
        XCTAssertEqual(findings, [])
        let o = try XCTUnwrap(order)
        XCTAssertEqual(o.id, "S-1")
        XCTAssertEqual(o.date, DateValue(iso: "2026-11-27", hasTime: false))
        XCTAssertEqual(o.cod, Money(minorUnits: 4995))
        XCTAssertEqual(o.cod?.formatted, "49.95")
        XCTAssertEqual(o.currency, "PLN", "an empty currency means PLN")
        XCTAssertEqual(o.customer, Order.Customer(name: "Anna Kowalska", email: "anna@example.com", phone: "+48600100200"))
        XCTAssertEqual(o.shipTo, Order.Address(street: "ul. Długa 5/3", city: "Kraków", postcode: "31-147", country: "PL"))
        XCTAssertEqual(o.carrier, "inpost")
        XCTAssertEqual(o.pickupPoint, "KRA01M")
        XCTAssertNil(o.notes)
        XCTAssertEqual(o.lines, [Order.Line(sku: "MUG-001", ean: "5901234123457", quantity: 2,
                                            unitPrice: Money(minorUnits: 300), name: "Kubek")])
        XCTAssertEqual(o.lines.first?.unitPrice?.formatted, "3.00")
    }

    func testAbsentOptionalFieldsAndDefaults() throws {
        var d = validDraft()
        d.date = nil
        d.email = nil
        d.phone = Located("   ", line: 2, column: 47)
        d.carrier = nil
        d.pickupPoint = nil
        d.cod = nil
        d.currency = nil
        d.lines[0].ean = Located("", line: 2, column: 120)
        d.lines[0].unitPrice = nil
        d.lines[0].name = nil
        let o = try XCTUnwrap(OrderValidator().validate(d).order)
        XCTAssertNil(o.date)
        XCTAssertNil(o.customer.email)
        XCTAssertNil(o.customer.phone, "a blank value is absent")
        XCTAssertNil(o.cod)
        XCTAssertEqual(o.currency, "PLN")
        XCTAssertNil(o.lines[0].ean)
        XCTAssertNil(o.lines[0].unitPrice)
    }

    func testDatesAndCurrencyAndTrimmedCodes() throws {
        var d = validDraft()
        d.date = Located("2026-11-27T10:15:00+01:00", line: 2, column: 5)
        d.currency = Located("EUR", line: 2, column: 111)
        d.country = Located(" PL ", line: 2, column: 88)
        d.postcode = Located(" 31-147", line: 2, column: 81)
        d.cod = Located("0", line: 2, column: 105)
        let o = try XCTUnwrap(OrderValidator().validate(d).order)
        XCTAssertEqual(o.date, DateValue(iso: "2026-11-27T10:15:00+01:00", hasTime: true))
        XCTAssertEqual(o.currency, "EUR")
        XCTAssertEqual(o.shipTo.country, "PL")
        XCTAssertEqual(o.shipTo.postcode, "31-147")
        XCTAssertEqual(o.cod?.formatted, "0.00", "a COD of zero is allowed")

        d.date = Located("01.02.2026", line: 2, column: 5)
        XCTAssertEqual(OrderValidator().validate(d).order?.date?.iso, "2026-02-01")
    }

    func testSeveralLinesAllKept() throws {
        var d = validDraft()
        var second = OrderDraft.Line(line: 3)
        second.sku = Located("TEA-2", line: 3, column: 112)
        second.quantity = Located("10", line: 3, column: 134)
        second.unitPrice = Located("1234,5", line: 3, column: 136)
        d.lines.append(second)
        let o = try XCTUnwrap(OrderValidator().validate(d).order)
        XCTAssertEqual(o.lines.map(\.sku), ["MUG-001", "TEA-2"])
        XCTAssertEqual(o.lines.map(\.quantity), [2, 10])
        XCTAssertEqual(o.lines[1].unitPrice?.formatted, "1234.50")
    }

    // MARK: Every code

    func testMissingRequiredFields() {
        var d = validDraft(line: 7)
        d.customerName = nil
        let f = only(d)
        XCTAssertEqual(f?.code, .missingField)
        XCTAssertEqual(f?.field, "customer_name")
        XCTAssertEqual(f?.line, 7, "an absent field points at the order's line")
        XCTAssertNil(f?.column)
        XCTAssertEqual(f?.orderID, "S-1")

        d = validDraft(line: 7)
        d.street = Located("  ", line: 8, column: 60)
        let blank = only(d)
        XCTAssertEqual(blank?.code, .missingField)
        XCTAssertEqual(blank?.field, "street")
        XCTAssertEqual(blank?.line, 8)
        XCTAssertEqual(blank?.column, 60, "a blank cell is pointed at")

        for (field, clear) in [("order_id", { (d: inout OrderDraft) in d.id = nil }),
                               ("city", { d in d.city = nil }),
                               ("postcode", { d in d.postcode = Located("", line: 7, column: 81) }),
                               ("country", { d in d.country = nil }),
                               ("sku", { d in d.lines[0].sku = nil })] as [(String, (inout OrderDraft) -> Void)] {
            var x = validDraft(line: 7)
            clear(&x)
            let found = findings(x)
            XCTAssertEqual(found.map(\.code), [.missingField], field)
            XCTAssertEqual(found.first?.field, field)
            XCTAssertEqual(found.first?.line, 7)
        }
    }

    func testMissingQuantityAndMissingLines() {
        var d = validDraft()
        d.lines[0].quantity = nil
        d.lines[0].line = 5
        let q = only(d)
        XCTAssertEqual(q?.code, .missingField)
        XCTAssertEqual(q?.field, "quantity")
        XCTAssertEqual(q?.line, 5, "a missing quantity points at its line's row")
        XCTAssertEqual(q?.message, "quantity is required")

        d = validDraft()
        d.lines = []
        let l = only(d)
        XCTAssertEqual(l?.code, .missingField)
        XCTAssertEqual(l?.field, "line")
        XCTAssertEqual(l?.line, 2)
    }

    func testInvalidQuantity() {
        for bad in ["0", "-2", "2.5", "abc", "2,0", "10000001"] {
            var d = validDraft()
            d.lines[0].quantity = Located(bad, line: 2, column: 134)
            let f = only(d)
            XCTAssertEqual(f?.code, .invalidQuantity, bad)
            XCTAssertEqual(f?.field, "quantity")
            XCTAssertEqual(f?.value, bad)
            XCTAssertEqual(f?.line, 2)
            XCTAssertEqual(f?.column, 134)
            XCTAssertTrue(f?.message.contains("whole number greater than 0") == true, f?.message ?? "")
        }
        var d = validDraft()
        d.lines[0].quantity = Located("2,0", line: 2, column: 134)
        XCTAssertEqual(only(d)?.hint, "write 2")
    }

    func testInvalidEANGivesTheExpectedCheckDigit() {
        var d = validDraft()
        d.lines[0].ean = Located("5901234123458", line: 2, column: 120)
        let f = only(d)
        XCTAssertEqual(f?.code, .invalidEAN)
        XCTAssertEqual(f?.field, "ean")
        XCTAssertEqual(f?.value, "5901234123458")
        XCTAssertEqual(f?.line, 2)
        XCTAssertEqual(f?.column, 120)
        XCTAssertEqual(f?.hint, "EAN check digit should be 7")

        // GTIN-8 96385074 is valid; 96385075 should end in 4.
        d.lines[0].ean = Located("96385075", line: 2, column: 120)
        XCTAssertEqual(only(d)?.hint, "EAN check digit should be 4")

        for bad in ["59012341234", "59012341234X", "5901 234123457"] {
            d.lines[0].ean = Located(bad, line: 2, column: 120)
            let g = only(d)
            XCTAssertEqual(g?.code, .invalidEAN, bad)
            XCTAssertEqual(g?.value, bad)
        }
    }

    func testInvalidPostcode() {
        var d = validDraft()
        d.postcode = Located("31147", line: 2, column: 81)
        let f = only(d)
        XCTAssertEqual(f?.code, .invalidPostcode)
        XCTAssertEqual(f?.field, "postcode")
        XCTAssertEqual(f?.value, "31147")
        XCTAssertEqual(f?.column, 81)
        XCTAssertEqual(f?.hint, "write it as 31-147")
        XCTAssertTrue(f?.message.contains("NN-NNN") == true, f?.message ?? "")

        // The same shape is fine for Germany.
        d.country = Located("DE", line: 2, column: 88)
        XCTAssertNotNil(OrderValidator().validate(d).order)
    }

    func testInvalidCountrySkipsThePostcodeCheck() {
        var d = validDraft()
        d.country = Located("XX", line: 2, column: 88)
        d.postcode = Located("31147", line: 2, column: 81)
        let f = only(d)
        XCTAssertEqual(f?.code, .invalidCountry)
        XCTAssertEqual(f?.field, "country")
        XCTAssertEqual(f?.value, "XX")
        XCTAssertEqual(f?.column, 88)

        d.country = Located("UK", line: 2, column: 88)
        XCTAssertEqual(only(d)?.hint, "did you mean GB?")
        d.country = Located("pl", line: 2, column: 88)
        XCTAssertEqual(only(d)?.code, .invalidCountry)
        d.country = Located("POL", line: 2, column: 88)
        XCTAssertEqual(only(d)?.code, .invalidCountry)
    }

    func testInvalidCurrency() {
        for bad in ["ZZZ", "zł", "EURO", "XXX"] {
            var d = validDraft()
            d.currency = Located(bad, line: 2, column: 111)
            let f = only(d)
            XCTAssertEqual(f?.code, .invalidCurrency, bad)
            XCTAssertEqual(f?.field, "currency")
            XCTAssertEqual(f?.value, bad)
            XCTAssertEqual(f?.column, 111)
        }
    }

    func testInvalidDate() {
        for bad in ["2026-02-30", "31.13.2026", "yesterday", "11/27/2026"] {
            var d = validDraft()
            d.date = Located(bad, line: 2, column: 5)
            let f = only(d)
            XCTAssertEqual(f?.code, .invalidDate, bad)
            XCTAssertEqual(f?.field, "order_date")
            XCTAssertEqual(f?.value, bad)
            XCTAssertEqual(f?.column, 5)
        }
    }

    func testInvalidValues() {
        var d = validDraft()
        d.cod = Located("-5", line: 2, column: 105)
        var f = only(d)
        XCTAssertEqual(f?.code, .invalidValue)
        XCTAssertEqual(f?.field, "cod_amount")
        XCTAssertEqual(f?.value, "-5")
        XCTAssertEqual(f?.message, "cod_amount must be 0 or more")

        d = validDraft()
        d.cod = Located("12 zł", line: 2, column: 105)
        XCTAssertEqual(only(d)?.code, .invalidValue)

        d = validDraft()
        d.customerName = Located("Anna\u{1B}[31m", line: 2, column: 16)
        f = only(d)
        XCTAssertEqual(f?.code, .invalidValue)
        XCTAssertEqual(f?.field, "customer_name")
        XCTAssertEqual(f?.column, 16)
        XCTAssertEqual(f?.message, "customer_name contains a control character")

        d = validDraft()
        d.notes = Located("ok\u{7F}", line: 2, column: 140)
        XCTAssertEqual(only(d)?.field, "notes")
        d = validDraft()
        d.lines[0].sku = Located("MUG\u{0}", line: 2, column: 112)
        XCTAssertEqual(only(d)?.field, "sku")

        d = validDraft()
        d.email = Located("not-an-email", line: 2, column: 30)
        f = only(d)
        XCTAssertEqual(f?.code, .invalidValue)
        XCTAssertEqual(f?.field, "email")

        d = validDraft()
        d.lines[0].unitPrice = Located("-1", line: 2, column: 136)
        XCTAssertEqual(only(d)?.field, "unit_price")

        d = validDraft()
        d.id = Located(String(repeating: "9", count: 1001), line: 2, column: 1)
        f = only(d)
        XCTAssertEqual(f?.code, .invalidValue)
        XCTAssertEqual(f?.field, "order_id")

        // Tab and line breaks are not control characters here (notes span lines).
        d = validDraft()
        d.notes = Located("first\nsecond\tthird\r\n", line: 2, column: 140)
        XCTAssertEqual(OrderValidator().validate(d).order?.notes, "first\nsecond\tthird\r\n")
    }

    // MARK: Collecting

    func testEveryFindingIsCollectedNotJustTheFirst() {
        var d = validDraft()
        d.customerName = nil
        d.country = Located("PL", line: 2, column: 88)
        d.postcode = Located("31147", line: 2, column: 81)
        d.date = Located("2026-13-01", line: 2, column: 5)
        d.currency = Located("ZZZ", line: 2, column: 111)
        d.cod = Located("-1", line: 2, column: 105)
        d.lines[0].ean = Located("5901234123458", line: 2, column: 120)
        var second = OrderDraft.Line(line: 3)
        second.sku = Located("X", line: 3, column: 112)
        second.quantity = Located("0", line: 3, column: 134)
        d.lines.append(second)
        d.findings = [Diagnostic(.inconsistentOrder, line: 3, column: 74, field: "city", value: "Kraków ", message: "rows disagree", orderID: "S-1")]

        let f = findings(d)
        let got = Set(f.map { "\($0.code.rawValue)@\($0.line ?? 0):\($0.field ?? "-")" })
        XCTAssertEqual(got, [
            "INCONSISTENT_ORDER@3:city", "MISSING_FIELD@2:customer_name", "INVALID_POSTCODE@2:postcode",
            "INVALID_DATE@2:order_date", "INVALID_CURRENCY@2:currency", "INVALID_VALUE@2:cod_amount",
            "INVALID_EAN@2:ean", "INVALID_QUANTITY@3:quantity",
        ])
        XCTAssertEqual(f.count, 8)
        XCTAssertTrue(f.allSatisfy { $0.orderID == "S-1" })
    }
}
