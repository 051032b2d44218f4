import EDIDrop
import Foundation

/// A fragment of HTML that is safe to send as it is.
///
/// The only ways to make one are a string literal written in this module, or
/// interpolation: the literal parts are trusted markup, and every interpolated `String`
/// (or number, or anything else) goes through `Markup.escape`, which is the core's one
/// escaping function (`HTML.escape`: & < > " '). So a value from a file or the ledger
/// cannot reach a page unescaped unless someone writes `Markup(unsafeRaw:)`, which only
/// this module's builders and the core's escaped report fragment use.
public struct Markup: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var raw: String

    public init(stringLiteral literal: String) { raw = literal }
    public init(stringInterpolation: Interpolation) { raw = stringInterpolation.raw }
    init(unsafeRaw: String) { raw = unsafeRaw }

    public var description: String { raw }

    public struct Interpolation: StringInterpolationProtocol {
        var raw = ""
        public init(literalCapacity: Int, interpolationCount: Int) { raw.reserveCapacity(literalCapacity * 2) }
        public mutating func appendLiteral(_ literal: String) { raw += literal }
        /// Markup made elsewhere in this module: inserted as it is.
        public mutating func appendInterpolation(_ html: Markup) { raw += html.raw }
        public mutating func appendInterpolation(_ parts: [Markup]) { for p in parts { raw += p.raw } }
        /// Text: escaped.
        public mutating func appendInterpolation(_ text: String) { raw += Markup.escape(text) }
        public mutating func appendInterpolation(_ text: Substring) { raw += Markup.escape(String(text)) }
        public mutating func appendInterpolation<T>(_ value: T) { raw += Markup.escape(String(describing: value)) }
        public mutating func appendInterpolation(_ text: String?, or placeholder: String = "–") { raw += Markup.escape(text ?? placeholder) }
    }

    /// Text to HTML, safe in element content and in quoted attribute values alike: the
    /// core's escaping function, so reports and pages escape the same way.
    public static func escape(_ text: String) -> String { HTML.escape(text) }

    public static func + (a: Markup, b: Markup) -> Markup { Markup(unsafeRaw: a.raw + b.raw) }
    public static func += (a: inout Markup, b: Markup) { a.raw += b.raw }

    public static func join(_ parts: [Markup], separator: Markup = "") -> Markup {
        Markup(unsafeRaw: parts.map(\.raw).joined(separator: separator.raw))
    }
}

/// Building URLs from ledger values: each value is one path segment, percent-encoded,
/// so that an order id such as `../x?y#z` stays one segment and cannot change the route.
public enum WebPath {
    /// Everything but RFC 3986's unreserved characters is percent-encoded (UTF-8).
    public static func segment(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "."):
                // A lone "." or ".." segment would be folded away by browsers; see `order(_:)`.
                out += "."
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// A query component value (form encoding: space as %20, everything reserved encoded).
    public static func query(_ value: String) -> String {
        segment(value)
    }

    /// Percent-decoding of a path segment or query value; `plusIsSpace` for form bodies.
    /// Invalid escapes are kept as they are; invalid UTF-8 is replaced.
    public static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var i = text.utf8.startIndex
        let u = text.utf8
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while i < u.endIndex {
            let b = u[i]
            if b == UInt8(ascii: "%"), u.distance(from: i, to: u.endIndex) >= 3,
               let h = hex(u[u.index(after: i)]), let l = hex(u[u.index(i, offsetBy: 2)]) {
                bytes.append(h << 4 | l)
                i = u.index(i, offsetBy: 3)
                continue
            }
            bytes.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            i = u.index(after: i)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `a=1&b=x%20y` -> pairs, in order; form-style (`+` is a space).
    public static func parseForm(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let eq = pair.firstIndex(of: "=") {
                return (decode(pair[..<eq], plusIsSpace: true), decode(pair[pair.index(after: eq)...], plusIsSpace: true))
            }
            return (decode(pair, plusIsSpace: true), "")
        }
    }

    public static func file(_ id: Int64) -> String { "/files/\(id)" }

    /// An order's page. Ids made only of dots cannot be a path segment (browsers fold
    /// `.` and `..` away, even percent-encoded), so those go by query instead.
    public static func order(_ id: String) -> String {
        if !id.isEmpty && id.allSatisfy({ $0 == "." }) { return "/order?id=" + query(id) }
        return "/orders/" + segment(id)
    }
}
