/// Customer contact details. They are passed to the warehouse for courier notifications,
/// so only values that are certainly broken are worth refusing an order for.
///
/// Phone numbers are not validated at all: shops send them with and without country
/// codes, spaces, dashes, brackets and extensions, and couriers take whatever the
/// customer typed. A strict rule would reject good orders; a loose one would catch
/// nothing.
public enum ContactCheck {
    /// A deliberately loose check (one '@', something on both sides, a dotted domain, no
    /// spaces, at most 254 characters). Full RFC 5322 parsing would accept addresses no
    /// mail server delivers to and still not prove the mailbox exists.
    public static func isPlausibleEmail(_ s: String) -> Bool {
        // Nearly every address is ASCII, which is checked byte by byte: the general path
        // below builds arrays of scalars and looks up each one's Unicode properties, 0.8%
        // of a small-file run (perf, issue 8). For ASCII the two agree: every ASCII space
        // is at or below 0x20.
        if let verdict = isPlausibleASCIIEmail(s.utf8) { return verdict }
        return isPlausibleEmailScalars(s)
    }

    /// The rule on ASCII bytes; nil when the text is not all ASCII.
    static func isPlausibleASCIIEmail(_ bytes: String.UTF8View) -> Bool? {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        guard bytes.count <= 254 else { return false }
        var ats = 0, localLength = 0, domainDots = 0
        var previous: UInt8 = 0 // the domain's byte before this one; 0 at the domain's start
        for b in bytes {
            if b <= 0x20 || b == 0x7F { return false }
            if b == UInt8(ascii: "@") {
                ats += 1
                previous = 0
                continue
            }
            if ats == 0 {
                localLength += 1
                continue
            }
            if b == UInt8(ascii: ".") {
                // An empty label: a dot first in the domain or right after another.
                if previous == 0 || previous == UInt8(ascii: ".") { return false }
                domainDots += 1
            }
            previous = b
        }
        return ats == 1 && localLength > 0 && domainDots > 0 && previous != UInt8(ascii: ".")
    }

    /// The rule on Unicode scalars, for text beyond ASCII.
    static func isPlausibleEmailScalars(_ s: String) -> Bool {
        let scalars = Array(s.unicodeScalars)
        guard scalars.count <= 254 else { return false }
        guard !scalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.properties.isWhitespace })
        else { return false }
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0], domain = parts[1]
        guard !local.isEmpty, domain.contains(".") else { return false }
        // "a@.pl", "a@example." and "a@example..pl" have an empty domain label.
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { !$0.isEmpty }
    }
}
