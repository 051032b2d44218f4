/// The outcome of a postcode check: on failure, the shape that was expected (for the
/// report) and, when the intent is clear, the corrected value.
public enum PostcodeCheck: Equatable, Sendable {
    case valid
    case invalid(expected: String, suggestion: String?)
}

/// Postcode shapes for the countries a Polish shop ships to most. Only the shape is
/// checked, not whether the code exists: no table of real codes is shipped, and a
/// warehouse rejects a well-formed but unknown code anyway. Letters are accepted in
/// either case (carriers uppercase them); separators must be as the country writes them,
/// because labels print the value exactly as received.
public enum Postcode {
    public static func check(_ postcode: String, country: String) -> PostcodeCheck {
        let countryKey = asciiCountryKey(country)
            ?? ValueText.asciiUppercased(ValueText.string(ValueText.trimmedScalars(country)))
        if countryKey == "GB" { return checkGB(postcode) }
        guard let shapes = shapes[countryKey] else { return checkOther(postcode) }
        if postcode.utf8.allSatisfy({ $0 < 0x80 }) {
            if shapes.contains(where: { matches(postcode.utf8, shape: $0) }) { return .valid }
        } else {
            let scalars = Array(postcode.unicodeScalars)
            if shapes.contains(where: { matches(scalars, shape: $0) }) { return .valid }
        }
        return .invalid(expected: shapes.joined(separator: " or "),
                        suggestion: suggestion(for: postcode, shapes: shapes))
    }

    /// "N" a digit, "A" a letter; any other character stands for itself. These strings
    /// double as the "expected" text in reports, where shops already read them this way. The first
    /// shape is the usual one and is used for suggestions.
    static let shapes: [String: [String]] = {
        var table: [String: [String]] = [
            "PL": ["NN-NNN"],
            "CZ": ["NNN NN", "NNNNN"],
            "SK": ["NNN NN", "NNNNN"],
            "NL": ["NNNN AA", "NNNNAA"],
        ]
        for c in ["DE", "FR", "IT", "ES", "FI"] { table[c] = ["NNNNN"] }
        for c in ["AT", "CH", "BE", "DK", "HU", "NO"] { table[c] = ["NNNN"] }
        return table
    }()

    /// A two-letter ASCII country code, uppercased, without the general path's arrays of
    /// scalars (this check and the email check were 1.7% of a small-file run, perf, issue
    /// 8); nil for anything else, which the general path trims and uppercases.
    static func asciiCountryKey(_ country: String) -> String? {
        let bytes = country.utf8
        guard bytes.count == 2, let a = bytes.first, let b = bytes.last,
              ValueText.isLetter(Unicode.Scalar(a)), ValueText.isLetter(Unicode.Scalar(b)) else { return nil }
        return String(unsafeUninitializedCapacity: 2) { out in
            out[0] = a & 0xDF // ASCII letters: clearing this bit uppercases
            out[1] = b & 0xDF
            return 2
        }
    }

    /// `matches` on ASCII text, byte by byte.
    static func matches(_ bytes: String.UTF8View, shape: String) -> Bool {
        guard bytes.count == shape.utf8.count else { return false }
        for (p, b) in zip(shape.utf8, bytes) {
            switch p {
            case UInt8(ascii: "N"): if !(b >= 0x30 && b <= 0x39) { return false }
            case UInt8(ascii: "A"): if !ValueText.isLetter(Unicode.Scalar(b)) { return false }
            default: if p != b { return false }
            }
        }
        return true
    }

    static func matches(_ scalars: [Unicode.Scalar], shape: String) -> Bool {
        let pattern = Array(shape.unicodeScalars)
        guard pattern.count == scalars.count else { return false }
        for (p, s) in zip(pattern, scalars) {
            switch p {
            case "N": if !ValueText.isDigit(s) { return false }
            case "A": if !ValueText.isLetter(s) { return false }
            default: if p != s { return false }
            }
        }
        return true
    }

    /// Rebuilds the value in the first shape from its letters and digits alone, after
    /// dropping a country prefix ("PL-", "D-"), so "31147", "31 147" and "PL-31147" all
    /// become "31-147".
    static func suggestion(for postcode: String, shapes: [String]) -> String? {
        var chars = Array(ValueText.asciiUppercased(postcode).unicodeScalars)
            .filter { ValueText.isDigit($0) || ValueText.isLetter($0) }[...]
        if let first = shapes.first?.unicodeScalars.first, first == "N" {
            let prefix = chars.prefix { ValueText.isLetter($0) }
            if prefix.count <= 3 { chars = chars.dropFirst(prefix.count) }
        }
        for shape in shapes {
            let slots = shape.unicodeScalars.filter { $0 == "N" || $0 == "A" }
            guard slots.count == chars.count else { continue }
            var out = String.UnicodeScalarView()
            var next = chars.startIndex
            var fits = true
            for p in shape.unicodeScalars {
                if p == "N" || p == "A" {
                    let c = chars[next]
                    next += 1
                    if (p == "N" && !ValueText.isDigit(c)) || (p == "A" && !ValueText.isLetter(c)) { fits = false; break }
                    out.append(c)
                } else {
                    out.append(p)
                }
            }
            if fits { return String(out) }
        }
        return nil
    }

    /// Examples rather than a pattern: the six outward shapes make a pattern unreadable.
    static let gbExpected = "SW1A 1AA, M1 1AA or B33 8TH"

    /// UK postcodes: an outward code (A9, A99, AA9, AA99, A9A, AA9A), an optional
    /// single space, then an inward code (9AA). GIR 0AA is the one historic exception.
    static func checkGB(_ postcode: String) -> PostcodeCheck {
        if isGBPostcode(postcode) { return .valid }
        let compact = Array(ValueText.asciiUppercased(postcode).unicodeScalars).filter { $0 != " " && $0 != "-" }
        let compactText = ValueText.string(compact)
        var suggestion: String? = nil
        if compact.count >= 5, isGBPostcode(compactText) {
            suggestion = String(compactText.dropLast(3)) + " " + String(compactText.suffix(3))
        }
        return .invalid(expected: gbExpected, suggestion: suggestion)
    }

    static func isGBPostcode(_ postcode: String) -> Bool {
        let upper = Array(ValueText.asciiUppercased(postcode).unicodeScalars)
        guard upper.count >= 5, upper.count <= 8 else { return false }
        let inward = upper.suffix(3)
        var outward = upper.dropLast(3)
        if outward.last == " " { outward = outward.dropLast() }
        let i = Array(inward), o = Array(outward)
        guard ValueText.isDigit(i[0]), ValueText.isUpper(i[1]), ValueText.isUpper(i[2]) else { return false }
        if ValueText.string(o) == "GIR" && ValueText.string(i) == "0AA" { return true }
        guard o.count >= 2, o.count <= 4, ValueText.isUpper(o[0]) else { return false }
        var k = 1
        if ValueText.isUpper(o[k]) { k += 1 }
        guard k < o.count, ValueText.isDigit(o[k]) else { return false }
        k += 1
        if k < o.count, ValueText.isDigit(o[k]) || ValueText.isUpper(o[k]) { k += 1 }
        return k == o.count
    }

    static let otherExpected = "at most 12 letters, digits, spaces or '-'"

    /// Elsewhere the shapes are too many to keep here; anything a label can print as a
    /// postcode is let through.
    static func checkOther(_ postcode: String) -> PostcodeCheck {
        func plausible(_ scalars: [Unicode.Scalar]) -> Bool {
            guard let first = scalars.first, let last = scalars.last, scalars.count <= 12,
                  first != " ", first != "-", last != " ", last != "-" else { return false }
            return scalars.allSatisfy { ValueText.isDigit($0) || ValueText.isLetter($0) || $0 == " " || $0 == "-" }
        }
        if plausible(Array(postcode.unicodeScalars)) { return .valid }
        let trimmed = ValueText.trimmedScalars(postcode)
        return .invalid(expected: otherExpected,
                        suggestion: plausible(trimmed) ? ValueText.string(trimmed) : nil)
    }
}

extension PostcodeCheck {
    /// A report-ready explanation, or nil when the postcode is valid.
    public var problem: ValueProblem? {
        guard case let .invalid(expected, suggestion) = self else { return nil }
        return ValueProblem(message: "postcode does not have the expected form: \(expected)",
                            hint: suggestion.map { "did you mean \($0)?" })
    }
}
