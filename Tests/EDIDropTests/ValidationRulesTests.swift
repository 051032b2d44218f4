import Foundation
import XCTest
@testable import EDIDrop

// Expected values (check digits, epoch seconds) were worked out independently of the
// code under test, so a wrong table or formula cannot confirm itself.

final class MoneyRulesTests: XCTestCase {
    private func cents(_ text: String, _ separator: DecimalSeparator = .auto,
                       file: StaticString = #filePath, line: UInt = #line) -> Int64? {
        switch Money.parse(text, separator: separator) {
        case .success(let m): return m.minorUnits
        case .failure(let p):
            XCTFail("\(text) refused: \(p.message)", file: file, line: line)
            return nil
        }
    }

    private func problem(_ text: String, _ separator: DecimalSeparator = .auto,
                         file: StaticString = #filePath, line: UInt = #line) -> ValueProblem? {
        switch Money.parse(text, separator: separator) {
        case .success(let m):
            XCTFail("\(text) accepted as \(m.formatted)", file: file, line: line)
            return nil
        case .failure(let p): return p
        }
    }

    func testAcceptsPointAndCommaUnderAuto() {
        XCTAssertEqual(cents("49.95"), 4995)
        XCTAssertEqual(cents("49,95"), 4995)
        XCTAssertEqual(cents("3"), 300)
        XCTAssertEqual(cents("3.5"), 350)
        XCTAssertEqual(cents("0,05"), 5)
        XCTAssertEqual(cents("0"), 0)
        XCTAssertEqual(cents("007.10"), 710)
    }

    func testSignsAndNegativeZero() {
        XCTAssertEqual(cents("-1.50"), -150)
        XCTAssertEqual(cents("+1.50"), 150)
        XCTAssertEqual(cents("-0"), 0)
        XCTAssertEqual(cents("-0.00"), 0)
        XCTAssertEqual(try Money.parse("-0.00").get().formatted, "0.00")
        XCTAssertEqual(try Money.parse("-0").get(), Money.zero)
    }

    func testTrailingZerosBeyondTwoDecimalsAreFine() {
        XCTAssertEqual(cents("12.500"), 1250)
        XCTAssertEqual(cents("12,5000000"), 1250)
        XCTAssertEqual(cents("1.000"), 100)
    }

    func testTrimsSpacesAtTheEdges() {
        XCTAssertEqual(cents("  49.95 "), 4995)
        XCTAssertEqual(cents("\t12,00\u{A0}"), 1200)
    }

    func testExplicitSeparators() {
        XCTAssertEqual(cents("49.95", .point), 4995)
        XCTAssertEqual(cents("49,95", .comma), 4995)
        XCTAssertEqual(cents("49", .comma), 4900)
        let wrongComma = problem("49,95", .point)
        XCTAssertEqual(wrongComma?.message, "amount must use '.' as the decimal separator, as configured")
        XCTAssertEqual(wrongComma?.hint, "write 49.95")
        XCTAssertEqual(problem("49.95", .comma)?.message, "amount must use ',' as the decimal separator, as configured")
    }

    func testEmpty() {
        XCTAssertEqual(problem("")?.message, "amount is empty")
        XCTAssertEqual(problem("   ")?.message, "amount is empty")
    }

    func testLettersAndCurrencySymbols() {
        for text in ["abc", "12zł", "PLN 12", "12.5a", "1x2", "-", "+", "--1", "+-1", "1-2", "１２"] {
            XCTAssertEqual(problem(text)?.message,
                           "amount must be a decimal number such as 49.95 or 49,95, without currency, letters or spaces",
                           text)
        }
    }

    func testExponent() {
        XCTAssertEqual(problem("1e309")?.message,
                       "amount must be written out in full; exponent notation like 1e309 is not allowed")
        XCTAssertNotNil(problem("1.5E2"))
        XCTAssertNotNil(problem("2e-2"))
    }

    func testNaNAndInfinity() {
        for text in ["NaN", "nan", "inf", "-inf", "Infinity", "+Infinity"] {
            XCTAssertEqual(problem(text)?.message.hasPrefix("amount must be a finite decimal number"), true, text)
        }
    }

    func testThousandsGroupingIsRefusedWithAHint() {
        let spaced = problem("1 234,50")
        XCTAssertEqual(spaced?.message, "amount must not contain thousands separators or spaces")
        XCTAssertEqual(spaced?.hint, "write 1234.50 (no thousands separators)")
        let mixed = problem("1.234,50")
        XCTAssertEqual(mixed?.message, "amount must not contain thousands separators (found both '.' and ',')")
        XCTAssertEqual(mixed?.hint, "write 1234.50 (no thousands separators)")
        XCTAssertEqual(problem("1,234.50")?.hint, "write 1234.50 (no thousands separators)")
        XCTAssertNotNil(problem("1\u{A0}234,50"))
        XCTAssertNotNil(problem("1'234.50"))
        XCTAssertEqual(problem("1.234.567")?.message,
                       "amount has more than one decimal separator; thousands separators are not allowed")
        XCTAssertEqual(problem("1.234.567")?.hint, "write 1234567 (no thousands separators)")
        XCTAssertNotNil(problem("1,2,3"))
        XCTAssertEqual(problem("1.234,50", .comma)?.message,
                       "amount must not contain thousands separators (found both '.' and ',')")
    }

    func testAtMostTwoDecimals() {
        let p = problem("12.345")
        XCTAssertEqual(p?.message, "amount may have at most two decimals")
        XCTAssertEqual(p?.hint, "if this means 12345, write it without the separator")
        XCTAssertEqual(problem("0.001")?.message, "amount may have at most two decimals")
        XCTAssertNil(problem("12.3456")?.hint)
        XCTAssertNil(problem("1234.567")?.hint)
    }

    func testDigitsOnBothSidesOfTheSeparator() {
        XCTAssertEqual(problem(".5")?.message,
                       "amount needs digits on both sides of the decimal separator, such as 49.95 or 49,95")
        XCTAssertNotNil(problem("5."))
        XCTAssertNotNil(problem(","))
        XCTAssertNotNil(problem("-.5"))
    }

    func testOverflow() {
        XCTAssertEqual(problem(String(repeating: "9", count: 400))?.message, "amount is too large")
        XCTAssertEqual(problem("-" + String(repeating: "7", count: 400))?.message, "amount is too large")
        XCTAssertEqual(problem("92233720368547758.08")?.message, "amount is too large")
        XCTAssertEqual(cents("92233720368547758.07"), Int64.max)
        XCTAssertEqual(cents("-92233720368547758.07"), -Int64.max)
        // Leading zeros are not significant and must not count towards overflow.
        XCTAssertEqual(cents(String(repeating: "0", count: 400) + "1.25"), 125)
    }

    func testFormatted() {
        XCTAssertEqual(Money(minorUnits: 4995).formatted, "49.95")
        XCTAssertEqual(Money(minorUnits: 300).formatted, "3.00")
        XCTAssertEqual(Money(minorUnits: -150).formatted, "-1.50")
        XCTAssertEqual(Money(minorUnits: 0).formatted, "0.00")
        XCTAssertEqual(Money(minorUnits: 5).formatted, "0.05")
        XCTAssertEqual(Money(minorUnits: -5).formatted, "-0.05")
        XCTAssertEqual(Money(minorUnits: 123_456_789).formatted, "1234567.89")
        XCTAssertEqual(Money(minorUnits: Int64.max).formatted, "92233720368547758.07")
        XCTAssertEqual(Money(minorUnits: Int64.min).formatted, "-92233720368547758.08")
        XCTAssertEqual(try Money.parse("49,95").get().formatted, "49.95")
        XCTAssertEqual(try Money.parse("3").get().formatted, "3.00")
    }

    func testComparableAndCodable() throws {
        XCTAssertLessThan(Money(minorUnits: -1), Money.zero)
        XCTAssertLessThan(Money(minorUnits: 4995), Money(minorUnits: 5000))
        XCTAssertEqual([Money(minorUnits: 3), Money(minorUnits: 1)].max(), Money(minorUnits: 3))
        let data = try JSONEncoder().encode(Money(minorUnits: 4995))
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"{"minorUnits":4995}"#)
        XCTAssertEqual(try JSONDecoder().decode(Money.self, from: data), Money(minorUnits: 4995))
    }
}

final class QuantityRulesTests: XCTestCase {
    private let positive = "quantity must be a whole number greater than 0"
    private let atMost = "quantity must be a whole number greater than 0 and at most 1000000"

    private func problem(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ValueProblem? {
        switch Quantity.parse(text) {
        case .success(let n):
            XCTFail("\(text) accepted as \(n)", file: file, line: line)
            return nil
        case .failure(let p): return p
        }
    }

    func testAcceptsWholePositiveNumbers() {
        XCTAssertEqual(try Quantity.parse("1").get(), 1)
        XCTAssertEqual(try Quantity.parse("2").get(), 2)
        XCTAssertEqual(try Quantity.parse(" 12 ").get(), 12)
        XCTAssertEqual(try Quantity.parse("+3").get(), 3)
        XCTAssertEqual(try Quantity.parse("007").get(), 7)
        XCTAssertEqual(try Quantity.parse("1000000").get(), 1_000_000)
    }

    func testRefusesNonWholeOrNonPositive() {
        for text in ["2.0", "2,5", "-2", "0", "-0", "+0", "000", "1e3", "", " ", "abc", "+", "2 000", "½", "１"] {
            XCTAssertEqual(problem(text)?.message, positive, text)
        }
    }

    func testHintForWholeValuesWithZeroDecimals() {
        XCTAssertEqual(problem("2.0")?.hint, "write 2")
        XCTAssertEqual(problem("12,00")?.hint, "write 12")
        XCTAssertNil(problem("2,5")?.hint)
        XCTAssertNil(problem("0.0")?.hint)
        XCTAssertNil(problem("-2")?.hint)
    }

    func testUpperBound() {
        XCTAssertEqual(problem("1000001")?.message, atMost)
        XCTAssertEqual(problem("99999999")?.message, atMost)
        XCTAssertEqual(problem(String(repeating: "9", count: 400))?.message, atMost)
        XCTAssertEqual(try Quantity.parse(String(repeating: "0", count: 400) + "5").get(), 5)
    }
}

final class GTINRulesTests: XCTestCase {
    func testValidNumbersOfEveryLength() {
        XCTAssertEqual(GTIN.check("4006381333931"), .valid)  // EAN-13
        XCTAssertEqual(GTIN.check("5901234123457"), .valid)  // EAN-13, Polish prefix
        XCTAssertEqual(GTIN.check("036000291452"), .valid)   // UPC-A
        XCTAssertEqual(GTIN.check("96385074"), .valid)       // GTIN-8
        XCTAssertEqual(GTIN.check("10012345678902"), .valid) // GTIN-14
        XCTAssertEqual(GTIN.check("00012345678905"), .valid) // GTIN-14 with leading zeros
        XCTAssertEqual(GTIN.check("5900000000008"), .valid)
        XCTAssertEqual(GTIN.check("12345670"), .valid)
    }

    func testWrongCheckDigitNamesTheExpectedOne() {
        XCTAssertEqual(GTIN.check("4006381333932"), .wrongCheckDigit(expected: "1"))
        XCTAssertEqual(GTIN.check("5901234123450"), .wrongCheckDigit(expected: "7"))
        XCTAssertEqual(GTIN.check("036000291453"), .wrongCheckDigit(expected: "2"))
        XCTAssertEqual(GTIN.check("96385070"), .wrongCheckDigit(expected: "4"))
        XCTAssertEqual(GTIN.check("10012345678909"), .wrongCheckDigit(expected: "2"))
        // A swapped pair of neighbouring digits is the classic typo the check catches.
        XCTAssertEqual(GTIN.check("5901234213457"), .wrongCheckDigit(expected: "5"))
    }

    func testLengthAndCharacters() {
        XCTAssertEqual(GTIN.check("123456789"), .wrongLength(9))
        XCTAssertEqual(GTIN.check("12345678901"), .wrongLength(11))
        XCTAssertEqual(GTIN.check("123456789012345"), .wrongLength(15))
        XCTAssertEqual(GTIN.check(""), .wrongLength(0))
        XCTAssertEqual(GTIN.check("590123412345X"), .notDigits)
        XCTAssertEqual(GTIN.check(" 5901234123457"), .notDigits)
        XCTAssertEqual(GTIN.check("5901234-123457"), .notDigits)
        XCTAssertEqual(GTIN.check("５９０１２３４１２３４５７"), .notDigits)
        XCTAssertEqual(GTIN.check("5.901234123457E12"), .notDigits)
    }

    func testProblemText() {
        XCTAssertNil(GTINCheck.valid.problem)
        XCTAssertEqual(GTINCheck.wrongCheckDigit(expected: "1").problem?.hint,
                       "the last digit should be 1; otherwise a digit was mistyped")
        XCTAssertEqual(GTINCheck.wrongLength(9).problem?.message, "EAN/GTIN must have 8, 12, 13 or 14 digits, not 9")
        XCTAssertEqual(GTINCheck.notDigits.problem?.message, "EAN/GTIN must consist of digits only")
    }
}

final class CodeListRulesTests: XCTestCase {
    func testCountryTableHasEveryAssignedCode() {
        XCTAssertEqual(CountryCode.assigned.count, 249)
        XCTAssertTrue(CountryCode.assigned.allSatisfy { $0.count == 2 && $0 == $0.uppercased() })
    }

    func testCountryCodes() {
        for code in ["PL", "DE", "CZ", "SK", "GB", "US", "AX", "BQ", "CW", "SS", "SX", "AQ", "BV", "EH", "PS", "TW", "VA", "ZW"] {
            XCTAssertTrue(CountryCode.isValid(code), code)
        }
        for code in ["XX", "UK", "EL", "EU", "XK", "ZZ", "AN", "YU", "CS", "pl", "Pl", "", "P", "POL", " PL", "PL "] {
            XCTAssertFalse(CountryCode.isValid(code), code)
        }
    }

    func testCountrySuggestions() {
        XCTAssertEqual(CountryCode.suggestion(for: "pl"), "PL")
        XCTAssertEqual(CountryCode.suggestion(for: "De"), "DE")
        XCTAssertEqual(CountryCode.suggestion(for: " pl "), "PL")
        XCTAssertEqual(CountryCode.suggestion(for: "UK"), "GB")
        XCTAssertEqual(CountryCode.suggestion(for: "uk"), "GB")
        XCTAssertEqual(CountryCode.suggestion(for: "EL"), "GR")
        XCTAssertNil(CountryCode.suggestion(for: "PL"))
        XCTAssertNil(CountryCode.suggestion(for: "XX"))
        XCTAssertNil(CountryCode.suggestion(for: "xx"))
        XCTAssertNil(CountryCode.suggestion(for: "Polska"))
    }

    func testCurrencyCodes() {
        for code in ["PLN", "EUR", "USD", "GBP", "CZK", "HUF", "CHF", "SEK", "NOK", "DKK", "RON", "BGN", "UAH",
                     "JPY", "CNY", "XAF", "XOF", "XCD", "XPF", "VES", "VED", "SLE", "STN", "MRU", "ZWG", "XCG"] {
            XCTAssertTrue(CurrencyCode.isValid(code), code)
            XCTAssertTrue(CurrencyCode.isUsableForOrders(code), code)
        }
        for code in ["ZZZ", "HRK", "LTL", "BYR", "VEF", "MRO", "STD", "DEM", "pln", "Pln", "PL", "PLNN", "", " PLN", "ZŁ"] {
            XCTAssertFalse(CurrencyCode.isValid(code), code)
        }
    }

    /// XTS is in ISO 4217 (reserved for testing), so it is a valid code; it is refused
    /// only where a real currency is needed.
    func testNonMonetaryCodes() {
        for code in ["XTS", "XXX", "XAU", "XAG", "XDR", "XBA", "XSU", "XUA"] {
            XCTAssertTrue(CurrencyCode.isValid(code), code)
            XCTAssertFalse(CurrencyCode.isUsableForOrders(code), code)
        }
        XCTAssertFalse(CurrencyCode.isUsableForOrders("ZZZ"))
    }

    func testCurrencySuggestions() {
        XCTAssertEqual(CurrencyCode.suggestion(for: "pln"), "PLN")
        XCTAssertEqual(CurrencyCode.suggestion(for: "Eur"), "EUR")
        XCTAssertEqual(CurrencyCode.suggestion(for: "zł"), "PLN")
        XCTAssertEqual(CurrencyCode.suggestion(for: "€"), "EUR")
        XCTAssertEqual(CurrencyCode.suggestion(for: "Kč"), "CZK")
        XCTAssertNil(CurrencyCode.suggestion(for: "PLN"))
        XCTAssertNil(CurrencyCode.suggestion(for: "ZZZ"))
        XCTAssertNil(CurrencyCode.suggestion(for: "HRK"))
    }
}

final class PostcodeRulesTests: XCTestCase {
    /// The ASCII shortcuts (the country code, the shapes matched byte by byte) give the
    /// general path's answers: every country spelling and every short postcode from an
    /// alphabet of the characters the shapes care about.
    func testTheASCIIShortcutsAgreeWithTheGeneralPath() {
        for country in ["pl", "Pl", "PL", "nl", "gb", "De", "xx", "P1", "P-", " P", "P", "PLN", "ıT", "Pł"] {
            let general = ValueText.asciiUppercased(ValueText.string(ValueText.trimmedScalars(country)))
            if let key = Postcode.asciiCountryKey(country) {
                XCTAssertEqual(key, general, country)
            } else {
                XCTAssertFalse(country.utf8.count == 2 && country.allSatisfy { $0.isASCII && $0.isLetter }, country)
            }
        }
        let alphabet: [Character] = ["0", "9", "a", "Z", "-", " ", "N"]
        let shapes = Set(Postcode.shapes.values.flatMap { $0 })
        func check(_ postcode: String) {
            for shape in shapes {
                XCTAssertEqual(Postcode.matches(postcode.utf8, shape: shape), Postcode.matches(Array(postcode.unicodeScalars), shape: shape),
                               "\(postcode) against \(shape)")
            }
        }
        everyString(of: alphabet, upTo: 6).forEach(check)
        randomStrings(of: alphabet, count: 5_000, lengths: 7...7).forEach(check)
        check("1234 AB")
        check("1234 ab")
    }

    func testPoland() {
        XCTAssertEqual(Postcode.check("31-147", country: "PL"), .valid)
        XCTAssertEqual(Postcode.check("00-001", country: "PL"), .valid)
        XCTAssertEqual(Postcode.check("31147", country: "PL"), .invalid(expected: "NN-NNN", suggestion: "31-147"))
        XCTAssertEqual(Postcode.check("31 147", country: "PL"), .invalid(expected: "NN-NNN", suggestion: "31-147"))
        XCTAssertEqual(Postcode.check("31\u{2013}147", country: "PL"), .invalid(expected: "NN-NNN", suggestion: "31-147"))
        XCTAssertEqual(Postcode.check("PL-31147", country: "PL"), .invalid(expected: "NN-NNN", suggestion: "31-147"))
        XCTAssertEqual(Postcode.check(" 31-147", country: "PL"), .invalid(expected: "NN-NNN", suggestion: "31-147"))
        XCTAssertEqual(Postcode.check("3-1147", country: "PL"), .invalid(expected: "NN-NNN", suggestion: "31-147"))
        XCTAssertEqual(Postcode.check("31-14", country: "PL"), .invalid(expected: "NN-NNN", suggestion: nil))
        XCTAssertEqual(Postcode.check("311470", country: "PL"), .invalid(expected: "NN-NNN", suggestion: nil))
        XCTAssertEqual(Postcode.check("AB-CDE", country: "PL"), .invalid(expected: "NN-NNN", suggestion: nil))
        XCTAssertEqual(Postcode.check("", country: "PL"), .invalid(expected: "NN-NNN", suggestion: nil))
        // The country is looked up leniently; whether it is valid is the country rule's job.
        XCTAssertEqual(Postcode.check("31147", country: "pl"), .invalid(expected: "NN-NNN", suggestion: "31-147"))
    }

    func testFixedDigitCountries() {
        XCTAssertEqual(Postcode.check("10115", country: "DE"), .valid)
        XCTAssertEqual(Postcode.check("1011", country: "DE"), .invalid(expected: "NNNNN", suggestion: nil))
        XCTAssertEqual(Postcode.check("D-10115", country: "DE"), .invalid(expected: "NNNNN", suggestion: "10115"))
        for country in ["FR", "IT", "ES", "FI"] {
            XCTAssertEqual(Postcode.check("75001", country: country), .valid, country)
            XCTAssertEqual(Postcode.check("7500", country: country), .invalid(expected: "NNNNN", suggestion: nil), country)
        }
        for country in ["AT", "CH", "BE", "DK", "HU", "NO"] {
            XCTAssertEqual(Postcode.check("1010", country: country), .valid, country)
            XCTAssertEqual(Postcode.check("10100", country: country), .invalid(expected: "NNNN", suggestion: nil), country)
            XCTAssertEqual(Postcode.check("A-1010", country: country), .invalid(expected: "NNNN", suggestion: "1010"), country)
        }
    }

    func testCzechAndSlovak() {
        for country in ["CZ", "SK"] {
            XCTAssertEqual(Postcode.check("110 00", country: country), .valid)
            XCTAssertEqual(Postcode.check("11000", country: country), .valid)
            XCTAssertEqual(Postcode.check("110-00", country: country),
                           .invalid(expected: "NNN NN or NNNNN", suggestion: "110 00"))
            XCTAssertEqual(Postcode.check("1100", country: country),
                           .invalid(expected: "NNN NN or NNNNN", suggestion: nil))
        }
    }

    func testNetherlands() {
        XCTAssertEqual(Postcode.check("1012 AB", country: "NL"), .valid)
        XCTAssertEqual(Postcode.check("1012AB", country: "NL"), .valid)
        XCTAssertEqual(Postcode.check("1012 ab", country: "NL"), .valid)
        XCTAssertEqual(Postcode.check("1012  AB", country: "NL"),
                       .invalid(expected: "NNNN AA or NNNNAA", suggestion: "1012 AB"))
        XCTAssertEqual(Postcode.check("1012", country: "NL"),
                       .invalid(expected: "NNNN AA or NNNNAA", suggestion: nil))
        XCTAssertEqual(Postcode.check("AB 1012", country: "NL"),
                       .invalid(expected: "NNNN AA or NNNNAA", suggestion: nil))
    }

    func testGreatBritain() {
        for code in ["SW1A 1AA", "M1 1AA", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB", "SW1A1AA", "sw1a 1aa", "GIR 0AA"] {
            XCTAssertEqual(Postcode.check(code, country: "GB"), .valid, code)
        }
        let expected = "SW1A 1AA, M1 1AA or B33 8TH"
        XCTAssertEqual(Postcode.check("SW1A  1AA", country: "GB"), .invalid(expected: expected, suggestion: "SW1A 1AA"))
        XCTAssertEqual(Postcode.check("SW1A-1AA", country: "GB"), .invalid(expected: expected, suggestion: "SW1A 1AA"))
        for code in ["", "12345", "SW1A", "1W1A 1AA", "SW1A 1A1", "ABCDE 1AA", "SW1A 1AAA", "SW!A 1AA"] {
            XCTAssertEqual(Postcode.check(code, country: "GB"), .invalid(expected: expected, suggestion: nil), code)
        }
    }

    func testOtherCountries() {
        let expected = "at most 12 letters, digits, spaces or '-'"
        for (code, country) in [("90210", "US"), ("K1A 0B1", "CA"), ("D02 X285", "IE"), ("LT-01100", "LT"), ("100-0001", "JP"), ("X", "SE")] {
            XCTAssertEqual(Postcode.check(code, country: country), .valid, code)
        }
        XCTAssertEqual(Postcode.check("", country: "US"), .invalid(expected: expected, suggestion: nil))
        XCTAssertEqual(Postcode.check("1234567890123", country: "US"), .invalid(expected: expected, suggestion: nil))
        XCTAssertEqual(Postcode.check("123/45", country: "US"), .invalid(expected: expected, suggestion: nil))
        XCTAssertEqual(Postcode.check(" 90210 ", country: "US"), .invalid(expected: expected, suggestion: "90210"))
        XCTAssertEqual(Postcode.check("Łódź", country: "US"), .invalid(expected: expected, suggestion: nil))
    }

    func testProblemText() {
        XCTAssertNil(PostcodeCheck.valid.problem)
        let p = Postcode.check("31147", country: "PL").problem
        XCTAssertEqual(p?.message, "postcode does not have the expected form: NN-NNN")
        XCTAssertEqual(p?.hint, "did you mean 31-147?")
    }
}

final class DateRulesTests: XCTestCase {
    private func iso(_ text: String, _ formats: [DateFormat] = DateFormat.defaults,
                     file: StaticString = #filePath, line: UInt = #line) -> DateValue? {
        switch DateValue.parse(text, formats: formats) {
        case .success(let d): return d
        case .failure(let p):
            XCTFail("\(text) refused: \(p.message)", file: file, line: line)
            return nil
        }
    }

    private func problem(_ text: String, _ formats: [DateFormat] = DateFormat.defaults,
                         file: StaticString = #filePath, line: UInt = #line) -> ValueProblem? {
        switch DateValue.parse(text, formats: formats) {
        case .success(let d):
            XCTFail("\(text) accepted as \(d.iso)", file: file, line: line)
            return nil
        case .failure(let p): return p
        }
    }

    func testISODate() {
        XCTAssertEqual(iso("2026-11-27"), DateValue(iso: "2026-11-27", hasTime: false))
        XCTAssertEqual(iso(" 2026-11-27 "), DateValue(iso: "2026-11-27", hasTime: false))
    }

    func testISODateTimeNormalisation() {
        XCTAssertEqual(iso("2026-11-27T10:15:00Z"), DateValue(iso: "2026-11-27T10:15:00Z", hasTime: true))
        XCTAssertEqual(iso("2026-11-27T10:15:00+01:00"), DateValue(iso: "2026-11-27T10:15:00+01:00", hasTime: true))
        XCTAssertEqual(iso("2026-11-27 10:15:00"), DateValue(iso: "2026-11-27T10:15:00", hasTime: true))
        XCTAssertEqual(iso("2026-11-27T10:15"), DateValue(iso: "2026-11-27T10:15:00", hasTime: true))
        XCTAssertEqual(iso("2026-11-27t10:15:00z")?.iso, "2026-11-27T10:15:00Z")
        XCTAssertEqual(iso("2026-11-27T10:15:00-05:30")?.iso, "2026-11-27T10:15:00-05:30")
        XCTAssertEqual(iso("2026-11-27T10:15:00+0100")?.iso, "2026-11-27T10:15:00+01:00")
        XCTAssertEqual(iso("2026-11-27T10:15:00+01")?.iso, "2026-11-27T10:15:00+01:00")
        XCTAssertEqual(iso("2026-11-27T10:15:00+00:00")?.iso, "2026-11-27T10:15:00+00:00")
        XCTAssertEqual(iso("2026-11-27T10:15+14:00")?.iso, "2026-11-27T10:15:00+14:00")
    }

    func testFractionalSecondsAreKept() {
        XCTAssertEqual(iso("2026-11-27T10:15:00.250Z")?.iso, "2026-11-27T10:15:00.250Z")
        XCTAssertEqual(iso("2026-11-27T10:15:00,5+01:00")?.iso, "2026-11-27T10:15:00.5+01:00")
        XCTAssertEqual(iso("2026-11-27T10:15:00.123456789")?.iso, "2026-11-27T10:15:00.123456789")
        XCTAssertEqual(problem("2026-11-27T10:15:00.1234567890")?.message, "fractional seconds may have at most 9 digits")
        XCTAssertNotNil(problem("2026-11-27T10:15:00."))
        XCTAssertNotNil(problem("2026-11-27T10:15.5"))
    }

    func testDottedDates() {
        XCTAssertEqual(iso("27.11.2026"), DateValue(iso: "2026-11-27", hasTime: false))
        XCTAssertEqual(iso("27.11.2026 10:15"), DateValue(iso: "2026-11-27T10:15:00", hasTime: true))
        XCTAssertEqual(iso("1.2.2026")?.iso, "2026-02-01")
        XCTAssertEqual(iso("27.11.2026 10:15:30")?.iso, "2026-11-27T10:15:30")
        XCTAssertNotNil(problem("27.11.2026T10:15"))
        XCTAssertNotNil(problem("27.11.26"))
        XCTAssertNotNil(problem("27.11.2026."))
    }

    func testSlashedFormatsOnlyWhenConfigured() {
        XCTAssertNotNil(problem("27/11/2026"))
        XCTAssertEqual(iso("27/11/2026", [.slashedDMY])?.iso, "2026-11-27")
        XCTAssertEqual(iso("11/27/2026", [.slashedMDY])?.iso, "2026-11-27")
        XCTAssertEqual(iso("03/04/2026", [.slashedDMY])?.iso, "2026-04-03")
        XCTAssertEqual(iso("03/04/2026", [.slashedMDY])?.iso, "2026-03-04")
        XCTAssertEqual(problem("27/11/2026", [.slashedMDY])?.message, "month must be between 01 and 12, not 27")
        XCTAssertNotNil(problem("2026-11-27", [.dotted]))
        XCTAssertEqual(iso("27.11.2026", [])?.iso, "2026-11-27")
    }

    func testCalendar() {
        XCTAssertEqual(iso("2024-02-29")?.iso, "2024-02-29")
        XCTAssertEqual(iso("2000-02-29")?.iso, "2000-02-29")
        let notLeap = problem("2026-02-29")
        XCTAssertEqual(notLeap?.message, "2026-02-29 is not a date in the calendar")
        XCTAssertEqual(notLeap?.hint, "2026 is not a leap year")
        XCTAssertEqual(problem("1900-02-29")?.hint, "1900 is not a leap year")
        XCTAssertEqual(problem("2100-02-29")?.hint, "2100 is not a leap year")
        XCTAssertEqual(problem("2026-04-31")?.hint, "month 04 of 2026 has 30 days")
        XCTAssertEqual(problem("29.02.2026")?.message, "2026-02-29 is not a date in the calendar")
        XCTAssertEqual(problem("2026-13-01")?.message, "month must be between 01 and 12, not 13")
        XCTAssertEqual(problem("2026-00-10")?.message, "month must be between 01 and 12, not 00")
        XCTAssertNotNil(problem("2026-11-00"))
        XCTAssertNotNil(problem("2026-12-32"))
    }

    func testYearRange() {
        XCTAssertEqual(iso("1900-01-01")?.iso, "1900-01-01")
        XCTAssertEqual(iso("2200-12-31")?.iso, "2200-12-31")
        XCTAssertEqual(problem("1899-12-31")?.message, "year must be between 1900 and 2200, not 1899")
        XCTAssertEqual(problem("2201-01-01")?.message, "year must be between 1900 and 2200, not 2201")
        XCTAssertEqual(problem("0001-01-01")?.message, "year must be between 1900 and 2200, not 1")
    }

    func testTimeRanges() {
        XCTAssertEqual(iso("2026-11-27T23:59:59")?.iso, "2026-11-27T23:59:59")
        XCTAssertEqual(iso("2026-11-27T00:00")?.iso, "2026-11-27T00:00:00")
        XCTAssertEqual(problem("2026-11-27T24:00:00")?.message, "time 24:00:00 is out of range")
        XCTAssertEqual(problem("2026-11-27T10:60")?.message, "time 10:60:00 is out of range")
        XCTAssertEqual(problem("2026-11-27T23:59:60Z")?.message, "time 23:59:60 is out of range")
        XCTAssertEqual(problem("2026-11-27T10:15:00+15:00")?.message, "time zone offset must be between -14:00 and +14:00")
        XCTAssertEqual(problem("2026-11-27T10:15:00+01:60")?.message, "time zone offset must be between -14:00 and +14:00")
    }

    func testMalformed() {
        let shapes = "date must be YYYY-MM-DD or DD.MM.YYYY, optionally followed by a time such as 10:15 or 10:15:00+01:00"
        for text in ["27-11-2026", "2026-1-5", "2026/11/27", "20261127", "tomorrow", "2026-11-27T", "2026-11-27T10",
                     "2026-11-27T1:15", "2026-11-27 10:15:00 +01:00", "2026-11-27X10:15", "2026-11-27T10:15:00Z junk",
                     "2026-11-277", "１２.11.2026"] {
            XCTAssertEqual(problem(text)?.message, shapes, text)
        }
        XCTAssertEqual(problem("")?.message, "date is empty")
        XCTAssertEqual(problem("   ")?.message, "date is empty")
    }

    func testEpochSeconds() {
        XCTAssertEqual(DateValue(iso: "1970-01-01", hasTime: false).utcEpochSeconds(), 0)
        XCTAssertEqual(iso("2026-11-27T10:15:00Z")?.utcEpochSeconds(), 1_795_774_500)
        XCTAssertEqual(iso("2026-11-27T10:15:00+01:00")?.utcEpochSeconds(), 1_795_774_500 - 3600)
        XCTAssertEqual(iso("2026-11-27T10:15:00-05:30")?.utcEpochSeconds(), 1_795_774_500 + 19_800)
        XCTAssertEqual(iso("2026-11-27T10:15:00")?.utcEpochSeconds(), 1_795_774_500)
        XCTAssertEqual(iso("2026-11-27T10:15:00")?.utcEpochSeconds(assumingOffsetSeconds: 3600), 1_795_774_500 - 3600)
        // An explicit offset wins over the assumed one.
        XCTAssertEqual(iso("2026-11-27T10:15:00Z")?.utcEpochSeconds(assumingOffsetSeconds: 3600), 1_795_774_500)
        XCTAssertEqual(iso("2026-11-27T10:15:00.999Z")?.utcEpochSeconds(), 1_795_774_500)
        XCTAssertEqual(iso("2024-02-29")?.utcEpochSeconds(), 1_709_164_800)
        XCTAssertEqual(iso("29.02.2024")?.utcEpochSeconds(assumingOffsetSeconds: 3600), 1_709_164_800 - 3600)
        XCTAssertEqual(iso("1900-01-01")?.utcEpochSeconds(), -2_208_988_800)
        XCTAssertEqual(iso("2200-12-31T23:59:59Z")?.utcEpochSeconds(), 7_289_654_399)
        XCTAssertNil(DateValue(iso: "not a date", hasTime: false).utcEpochSeconds())
    }

    func testDaysFromCivilAgainstDayByDayCount() {
        // Walking day by day from 1900 to 2200 checks every month length and leap rule.
        var expected = DateValue.daysFromCivil(year: 1900, month: 1, day: 1)
        XCTAssertEqual(expected, -25_567)
        for year in 1900...2200 {
            for month in 1...12 {
                for day in 1...DateValue.daysIn(month: month, year: year) {
                    XCTAssertEqual(DateValue.daysFromCivil(year: year, month: month, day: day), expected)
                    expected += 1
                }
            }
        }
        XCTAssertEqual(DateValue.daysFromCivil(year: 2201, month: 1, day: 1), expected)
    }

    func testOffsetSeconds() {
        XCTAssertEqual(iso("2026-11-27T10:15:00+01:00")?.offsetSeconds, 3600)
        XCTAssertEqual(iso("2026-11-27T10:15:00-00:30")?.offsetSeconds, -1800)
        XCTAssertEqual(iso("2026-11-27T10:15:00Z")?.offsetSeconds, 0)
        XCTAssertNil(iso("2026-11-27T10:15:00")?.offsetSeconds)
        XCTAssertNil(iso("2026-11-27")?.offsetSeconds)
    }

    func testFormatRawValuesAndCodable() throws {
        XCTAssertEqual(DateFormat.allCases.map(\.rawValue), ["YYYY-MM-DD", "DD.MM.YYYY", "DD/MM/YYYY", "MM/DD/YYYY"])
        XCTAssertEqual(DateFormat.defaults, [.iso, .dotted])
        let value = DateValue(iso: "2026-11-27T10:15:00Z", hasTime: true)
        let data = try JSONEncoder().encode(value)
        XCTAssertEqual(try JSONDecoder().decode(DateValue.self, from: data), value)
    }
}

/// Every string of one to `length` characters from `alphabet`, shortest first: for checking
/// a fast path against the general one exhaustively where the inputs are short.
func everyString(of alphabet: [Character], upTo length: Int) -> [String] {
    var all: [String] = []
    var last = [""]
    for _ in 0..<length {
        last = last.flatMap { prefix in alphabet.map { prefix + String($0) } }
        all += last
    }
    return all
}

/// `count` random strings from `alphabet`, each of a length in `lengths`.
func randomStrings(of alphabet: [Character], count: Int, lengths: ClosedRange<Int>) -> [String] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in
        String((0..<Int.random(in: lengths, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
    }
}

final class ContactRulesTests: XCTestCase {
    func testPlausibleEmails() {
        for email in ["anna@example.com", "a.kowalska+shop@poczta.onet.pl", "x@y.pl", "zażółć@przykład.pl"] {
            XCTAssertTrue(ContactCheck.isPlausibleEmail(email), email)
        }
    }

    func testImplausibleEmails() {
        let long = String(repeating: "a", count: 250) + "@x.pl"
        for email in ["", "anna", "anna@", "@example.com", "anna@example", "anna@@example.com", "an@na@example.com",
                      "anna @example.com", "anna@exa mple.com", " anna@example.com", "anna@example.com\n",
                      "anna@.pl", "anna@example.", "anna@example..pl", long] {
            XCTAssertFalse(ContactCheck.isPlausibleEmail(email), email)
        }
        XCTAssertTrue(ContactCheck.isPlausibleEmail(String(repeating: "a", count: 249) + "@x.pl"))
    }

    /// The byte-wise check for ASCII addresses gives the scalar rule's answer: every
    /// string of up to six characters from an alphabet of the characters that matter, and
    /// random longer ones; text beyond ASCII is left to the scalar rule.
    func testTheASCIIShortcutAgreesWithTheScalarRule() {
        let alphabet: [Character] = ["a", ".", "@", " ", "\t", "-", "\u{7F}"]
        func check(_ email: String) {
            XCTAssertEqual(ContactCheck.isPlausibleASCIIEmail(email.utf8), ContactCheck.isPlausibleEmailScalars(email),
                           "\(email.debugDescription)")
        }
        everyString(of: alphabet, upTo: 6).forEach(check)
        randomStrings(of: alphabet, count: 2_000, lengths: 7...30).forEach(check)
        for long in [String(repeating: "a", count: 249) + "@x.pl", String(repeating: "a", count: 250) + "@x.pl"] { check(long) }
        XCTAssertNil(ContactCheck.isPlausibleASCIIEmail("zażółć@przykład.pl".utf8))
        XCTAssertNil(ContactCheck.isPlausibleASCIIEmail("a b@przykład.pl".utf8), "beyond ASCII anywhere: the scalar rule")
    }
}
