/// Ordered quantities. Warehouses pick whole units, so "2.0" is refused rather than
/// rounded: a shop that sends decimals is usually sending weights or a broken column.
public enum Quantity {
    /// Larger orders than this are far more likely to be a pasted EAN or a typo than a
    /// real order for a shop of this size.
    public static let maximum = 1_000_000

    static let mustBePositive = "quantity must be a whole number greater than 0"
    static let mustBeAtMost = "quantity must be a whole number greater than 0 and at most 1000000"

    public static func parse(_ text: String) -> Result<Int, ValueProblem> {
        var scalars = ValueText.trimmedScalars(text)[...]
        if scalars.first == "+" { scalars = scalars.dropFirst() }
        guard !scalars.isEmpty, scalars.allSatisfy(ValueText.isDigit) else {
            return .failure(ValueProblem(message: mustBePositive, hint: wholeNumberHint(text)))
        }
        // Counting significant digits first keeps a 400-digit value from overflowing.
        let significant = scalars.drop { $0 == "0" }
        if significant.isEmpty {
            return .failure(ValueProblem(message: mustBePositive))
        }
        if significant.count > 7 {
            return .failure(ValueProblem(message: mustBeAtMost))
        }
        let value = significant.reduce(0) { $0 * 10 + ValueText.digitValue($1) }
        if value > maximum {
            return .failure(ValueProblem(message: mustBeAtMost))
        }
        return .success(value)
    }

    /// "2.0" and "2,00" plainly mean 2; say so instead of leaving the person guessing.
    private static func wholeNumberHint(_ text: String) -> String? {
        let scalars = ValueText.trimmedScalars(text)
        guard let sep = scalars.firstIndex(where: { $0 == "." || $0 == "," }) else { return nil }
        let whole = scalars[..<sep]
        let fraction = scalars[(sep + 1)...]
        guard !whole.isEmpty, !fraction.isEmpty,
              whole.allSatisfy(ValueText.isDigit), fraction.allSatisfy({ $0 == "0" }) else { return nil }
        let digits = whole.drop { $0 == "0" }
        guard !digits.isEmpty else { return nil }
        return "write \(ValueText.string(digits))"
    }
}
