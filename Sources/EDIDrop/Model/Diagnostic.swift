/// Stable error codes. The raw values appear in reports, JSON and the README and
/// must never change meaning.
public enum ErrorCode: String, Codable, Sendable, CaseIterable {
    case malformed = "MALFORMED"
    case schema = "SCHEMA"
    case encoding = "ENCODING"
    case emptyFile = "EMPTY_FILE"
    case tooLarge = "TOO_LARGE"
    case unknownFormat = "UNKNOWN_FORMAT"
    case forbiddenDTD = "FORBIDDEN_DTD"
    case missingField = "MISSING_FIELD"
    case invalidValue = "INVALID_VALUE"
    case invalidQuantity = "INVALID_QUANTITY"
    case invalidEAN = "INVALID_EAN"
    case invalidPostcode = "INVALID_POSTCODE"
    case invalidCountry = "INVALID_COUNTRY"
    case invalidCurrency = "INVALID_CURRENCY"
    case invalidDate = "INVALID_DATE"
    case inconsistentOrder = "INCONSISTENT_ORDER"
    case duplicateOrder = "DUPLICATE_ORDER"
    case duplicateFile = "DUPLICATE_FILE"
    case unknownOrder = "UNKNOWN_ORDER"
    case unreadable = "UNREADABLE"
}

/// One finding about an input file: what is wrong, where, and with which value.
public struct Diagnostic: Codable, Sendable, Equatable, Error {
    public var code: ErrorCode
    /// 1-based line in the file (a CSV header is line 1), when known.
    public var line: Int?
    /// 1-based character position in that line, when known.
    public var column: Int?
    public var field: String?
    public var value: String?
    public var message: String
    /// The order the finding belongs to, when there is one.
    public var orderID: String?
    /// The most likely fix, when one is known ("the check digit should be 7").
    public var hint: String?

    public init(_ code: ErrorCode, line: Int? = nil, column: Int? = nil, field: String? = nil,
                value: String? = nil, message: String, orderID: String? = nil, hint: String? = nil) {
        self.code = code
        self.line = line
        self.column = column
        self.field = field
        self.value = value
        self.message = message
        self.orderID = orderID
        self.hint = hint
    }
}
