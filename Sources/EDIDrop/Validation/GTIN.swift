/// The outcome of checking a barcode number. Kept as a value rather than a message so
/// that reports can say which check digit was expected.
public enum GTINCheck: Equatable, Sendable {
    case valid
    case notDigits
    case wrongLength(Int)
    case wrongCheckDigit(expected: Character)
}

/// GS1 Global Trade Item Numbers: GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13) and
/// GTIN-14. All share one mod-10 check digit, weighted 3,1,3,… from the digit next to it,
/// so a single rule covers every length. The value is checked exactly as given (no
/// trimming): it is sent to the warehouse as received, so it must be right as received.
public enum GTIN {
    public static let validLengths: Set<Int> = [8, 12, 13, 14]

    public static func check(_ text: String) -> GTINCheck {
        let scalars = Array(text.unicodeScalars)
        guard scalars.allSatisfy(ValueText.isDigit) else { return .notDigits }
        guard validLengths.contains(scalars.count) else { return .wrongLength(scalars.count) }
        let digits = scalars.map(ValueText.digitValue)
        let expected = checkDigit(for: digits.dropLast())
        guard digits.last == expected else {
            return .wrongCheckDigit(expected: Character(String(expected)))
        }
        return .valid
    }

    /// The check digit for the digits before it (the payload), weights 3 and 1
    /// alternating from the right.
    static func checkDigit<C: BidirectionalCollection>(for payload: C) -> Int where C.Element == Int {
        var sum = 0
        for (position, digit) in payload.reversed().enumerated() {
            sum += digit * (position % 2 == 0 ? 3 : 1)
        }
        return (10 - sum % 10) % 10
    }
}

extension GTINCheck {
    /// A report-ready explanation, or nil when the number is valid.
    public var problem: ValueProblem? {
        switch self {
        case .valid:
            return nil
        case .notDigits:
            return ValueProblem(message: "EAN/GTIN must consist of digits only",
                                hint: "remove spaces, letters and other characters")
        case .wrongLength(let n):
            return ValueProblem(message: "EAN/GTIN must have 8, 12, 13 or 14 digits, not \(n)")
        case .wrongCheckDigit(let expected):
            return ValueProblem(message: "EAN/GTIN check digit is wrong",
                                hint: "the last digit should be \(expected); otherwise a digit was mistyped")
        }
    }
}
