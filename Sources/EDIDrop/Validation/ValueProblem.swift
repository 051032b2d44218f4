/// Why a single value was refused. Kept free of error codes and positions: the caller
/// knows which field and line it came from and turns this into a `Diagnostic`.
public struct ValueProblem: Error, Sendable, Equatable {
    /// What is wrong, phrased for the person who has to fix the file.
    public var message: String
    /// The most likely fix, when one can be guessed ("write 1234.50").
    public var hint: String?

    public init(message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

/// Small text helpers shared by the value rules. They work on Unicode scalars so that
/// look-alike characters (full-width digits, no-break spaces) are never mistaken for ASCII.
enum ValueText {
    /// Spreadsheet exports pad cells with ordinary and no-break spaces; those are noise
    /// at the edges of a number but meaningful inside it.
    static func isEdgeSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x202F, 0x2007: return true
        default: return false
        }
    }

    static func trimmedScalars(_ text: String) -> [Unicode.Scalar] {
        let scalars = Array(text.unicodeScalars)
        var start = 0
        var end = scalars.count
        while start < end, isEdgeSpace(scalars[start]) { start += 1 }
        while end > start, isEdgeSpace(scalars[end - 1]) { end -= 1 }
        return Array(scalars[start..<end])
    }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
    static func isUpper(_ s: Unicode.Scalar) -> Bool { s.value >= 0x41 && s.value <= 0x5A }
    static func isLower(_ s: Unicode.Scalar) -> Bool { s.value >= 0x61 && s.value <= 0x7A }
    static func isLetter(_ s: Unicode.Scalar) -> Bool { isUpper(s) || isLower(s) }

    static func digitValue(_ s: Unicode.Scalar) -> Int { Int(s.value - 0x30) }

    /// Uppercases ASCII letters only, so that a code like "ı" never turns into a valid one.
    static func asciiUppercased(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            out.append(isLower(s) ? Unicode.Scalar(s.value - 0x20)! : s)
        }
        return String(out)
    }

    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    static func string(_ scalars: [Unicode.Scalar]) -> String { string(scalars[...]) }
}
