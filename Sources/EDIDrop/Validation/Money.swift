/// An amount with exactly two decimals, held as whole hundredths. Binary floating point
/// cannot hold 0.10 exactly, and a COD amount that drifts by a grosz is a real dispute
/// with a courier, so amounts never pass through `Double`.
public struct Money: Sendable, Equatable, Hashable, Comparable, Codable {
    /// Hundredths of the currency unit (grosze for PLN, cents for EUR).
    public var minorUnits: Int64

    public init(minorUnits: Int64) {
        self.minorUnits = minorUnits
    }

    public static let zero = Money(minorUnits: 0)

    public static func < (lhs: Money, rhs: Money) -> Bool {
        lhs.minorUnits < rhs.minorUnits
    }

    /// The form the warehouse files use: decimal point, always two decimals, no grouping.
    public var formatted: String {
        // `magnitude` rather than negation: -Int64.min does not fit in an Int64.
        let magnitude = minorUnits.magnitude
        let whole = magnitude / 100
        let cents = magnitude % 100
        let sign = minorUnits < 0 ? "-" : ""
        return sign + String(whole) + "." + (cents < 10 ? "0" : "") + String(cents)
    }
}

/// Which character ends the whole part. Polish Excel exports use a comma, shop plugins a
/// point; `.auto` takes either because a lone separator is never ambiguous once
/// thousands grouping is refused.
public enum DecimalSeparator: String, Sendable, Codable {
    case auto, point, comma
}

extension Money {
    public static func parse(_ text: String, separator: DecimalSeparator = .auto) -> Result<Money, ValueProblem> {
        let scalars = ValueText.trimmedScalars(text)
        let example: String
        switch separator {
        case .auto: example = "49.95 or 49,95"
        case .point: example = "49.95"
        case .comma: example = "49,95"
        }
        func problem(_ message: String, _ hint: String? = nil) -> Result<Money, ValueProblem> {
            .failure(ValueProblem(message: message, hint: hint))
        }
        // Built only when needed: most amounts are fine.
        var notANumber: String { "amount must be a decimal number such as \(example), without currency, letters or spaces" }

        if scalars.isEmpty { return problem("amount is empty") }

        var negative = false
        var body = scalars[...]
        if let first = body.first, first == "-" || first == "+" {
            negative = first == "-"
            body = body.dropFirst()
        }
        if body.isEmpty { return problem(notANumber) }

        if body.count <= 8, body.contains(where: { ($0.value | 0x20) >= 0x61 && ($0.value | 0x20) <= 0x7A }),
           ["NAN", "INF", "INFINITY", "SNAN"].contains(ValueText.asciiUppercased(ValueText.string(body))) {
            return problem("amount must be a finite decimal number, not \(ValueText.string(scalars))")
        }

        var separators: [(index: Int, scalar: Unicode.Scalar)] = []
        var hasGroupingSpace = false
        var hasExponent = false
        var hasOther = false
        for (offset, s) in body.enumerated() {
            if ValueText.isDigit(s) { continue }
            switch s {
            case ".", ",": separators.append((offset, s))
            case "e", "E": hasExponent = true
            // Spaces and apostrophes between digits are how people and spreadsheets group
            // thousands ("1 234,50", Swiss "1'234.50").
            case " ", "\u{A0}", "\u{202F}", "\u{2007}", "'", "\u{2019}": hasGroupingSpace = true
            case "+", "-": hasOther = hasOther || !hasExponent
            default: hasOther = true
            }
        }
        if hasExponent && !hasOther, let first = body.first, ValueText.isDigit(first) || first == "." || first == "," {
            return problem("amount must be written out in full; exponent notation like \(ValueText.string(scalars)) is not allowed")
        }
        if hasOther || hasExponent { return problem(notANumber) }

        func groupingHint() -> String {
            ungroupedGuess(body, negative: negative).map { "write \($0) (no thousands separators)" }
                ?? "write the amount without thousands separators"
        }
        if hasGroupingSpace {
            return problem("amount must not contain thousands separators or spaces", groupingHint())
        }
        let kinds = Set(separators.map { $0.scalar })
        if kinds.count > 1 {
            return problem("amount must not contain thousands separators (found both '.' and ',')", groupingHint())
        }
        if separators.count > 1 {
            return problem("amount has more than one decimal separator; thousands separators are not allowed", groupingHint())
        }
        if let sep = separators.first?.scalar {
            if separator == .point && sep == "," {
                return problem("amount must use '.' as the decimal separator, as configured", "write \(ValueText.string(scalars).replacingComma())")
            }
            if separator == .comma && sep == "." {
                return problem("amount must use ',' as the decimal separator, as configured")
            }
        }

        let wholeDigits: ArraySlice<Unicode.Scalar>
        var fractionDigits: ArraySlice<Unicode.Scalar>
        if let sepIndex = separators.first?.index {
            let start = body.startIndex
            wholeDigits = body[start..<(start + sepIndex)]
            fractionDigits = body[(start + sepIndex + 1)...]
            if wholeDigits.isEmpty || fractionDigits.isEmpty {
                return problem("amount needs digits on both sides of the decimal separator, such as \(example)")
            }
        } else {
            wholeDigits = body
            fractionDigits = []
        }

        while let last = fractionDigits.last, last == "0", fractionDigits.count > 2 {
            fractionDigits = fractionDigits.dropLast()
        }
        if fractionDigits.count > 2 {
            // "1.234" is as likely to be a grouped 1234 as an amount with three decimals.
            let hint = fractionDigits.count == 3 && wholeDigits.count <= 3
                ? "if this means \(ValueText.string(wholeDigits))\(ValueText.string(fractionDigits)), write it without the separator"
                : nil
            return problem("amount may have at most two decimals", hint)
        }

        var value: Int64 = 0
        var overflow = false
        func push(_ digit: Int64) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(digit)
            overflow = overflow || o1 || o2
            value = sum
        }
        for d in wholeDigits {
            push(Int64(ValueText.digitValue(d)))
            if overflow { return problem("amount is too large") }
        }
        for i in 0..<2 {
            push(i < fractionDigits.count ? Int64(ValueText.digitValue(fractionDigits[fractionDigits.startIndex + i])) : 0)
            if overflow { return problem("amount is too large") }
        }
        return .success(Money(minorUnits: negative ? -value : value))
    }

    /// A best guess at what a grouped amount meant, for the hint only: the last
    /// separator is taken as the decimal one when at most two digits follow it.
    private static func ungroupedGuess(_ body: ArraySlice<Unicode.Scalar>, negative: Bool) -> String? {
        // Grouping characters are dropped; only digits and separators carry the value.
        let kept = body.filter { ValueText.isDigit($0) || $0 == "." || $0 == "," }
        var digits = ""
        var decimals: String? = nil
        if let lastSep = kept.lastIndex(where: { $0 == "." || $0 == "," }) {
            let after = kept[(lastSep + 1)...]
            if after.count >= 1 && after.count <= 2 {
                digits = ValueText.string(kept[..<lastSep].filter(ValueText.isDigit))
                decimals = ValueText.string(Array(after))
            } else {
                digits = ValueText.string(kept.filter(ValueText.isDigit))
            }
        } else {
            digits = ValueText.string(kept.filter(ValueText.isDigit))
        }
        guard !digits.isEmpty else { return nil }
        let guess = (negative ? "-" : "") + digits + (decimals.map { "." + $0 } ?? "")
        guard case .success = parse(guess, separator: .point) else { return nil }
        return guess
    }
}

private extension String {
    func replacingComma() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "," ? "." : $0 }))
    }
}
