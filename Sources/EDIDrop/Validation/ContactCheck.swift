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
