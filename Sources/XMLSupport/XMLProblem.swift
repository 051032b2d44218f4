/// Something wrong with an XML document or an XSD, as reported by libxml2 or by this module.
public struct XMLProblem: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Not well-formed (or not namespace-well-formed), empty, truncated or unreadable input.
        case malformed
        /// Not valid against the schema, or the schema itself could not be compiled.
        case schema
        /// A DOCTYPE that declares entities or points at an external DTD.
        case forbiddenDTD
        /// Bytes that do not fit the declared or detected encoding, or an unknown encoding.
        case encoding
        /// Elements nested deeper than the reader allows.
        case tooDeep
    }

    public var kind: Kind
    /// 1-based, when libxml2 knows it.
    public var line: Int?
    /// 1-based, when known.
    public var column: Int?
    /// One trimmed line, prefixed with "line N: " when the line is known.
    public var message: String

    public init(kind: Kind, line: Int? = nil, column: Int? = nil, message: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.message = message
    }

    /// Builds the message the way every problem of this module reads, so callers can
    /// show it as it is.
    static func make(_ kind: Kind, line: Int?, column: Int? = nil, text: String) -> XMLProblem {
        let body = cleanMessage(text)
        let message = line.map { "line \($0): \(body)" } ?? body
        return XMLProblem(kind: kind, line: line, column: column, message: message)
    }

    /// libxml2's messages end with a newline, sometimes spread details over several lines
    /// ("Bytes: 0xE9 ..."), and start with a capital as if they were whole sentences; a
    /// diagnostic line reads better as one lower-case clause after "line N: ".
    static func cleanMessage(_ raw: String) -> String {
        var text = raw.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" })
            .joined(separator: " ")
        // Only a capital followed by a lower-case letter is a sentence start; "PCDATA" or
        // "XML" must keep their case.
        let chars = Array(text.prefix(2))
        if chars.count == 2, chars[0].isUppercase, chars[1].isLowercase {
            text = chars[0].lowercased() + text.dropFirst()
        }
        return text.isEmpty ? "unknown XML problem" : text
    }
}
