import Crypto

/// The file the warehouse receives for one order: `ORDER_<id>.xml` in the canonical
/// orders XML with exactly one `order`.
public enum WarehouseOrderFile {
    /// The file name for an order id. The id comes from a shop's file, so it never
    /// chooses a path: anything outside [A-Za-z0-9._-] is replaced, long ids are cut, and
    /// whenever the id was changed a short hash of it keeps different ids apart.
    public static func fileName(forOrderID id: String) -> String {
        "ORDER_" + safeName(id) + ".xml"
    }

    static func safeName(_ id: String) -> String {
        var safe = ""
        var changed = false
        for scalar in id.unicodeScalars {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-":
                safe.unicodeScalars.append(scalar)
            default:
                safe.append("_")
                changed = true
            }
        }
        // A name of 255 bytes is the usual limit; leave room for the prefix, hash and suffix.
        if safe.utf8.count > 120 {
            safe = String(safe.prefix(120))
            changed = true
        }
        if safe.isEmpty { changed = true }
        guard changed else { return safe }
        let digest = SHA256.hash(data: Array(id.utf8))
        let hex = digest.prefix(5).map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
        return safe + "-" + hex
    }

    /// The canonical XML of one order: UTF-8, values escaped, dates ISO 8601, money with
    /// two decimals, quantities whole numbers.
    public static func xml(for order: Order) -> String {
        var x = XMLText()
        x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        x.raw("<orders xmlns=\"urn:edidrop:orders:1\">\n")
        x.open("  <order", ["id": order.id, "date": order.date?.iso], order: ["id", "date"])
        x.raw(">\n")
        x.open("    <customer", ["name": order.customer.name, "email": order.customer.email, "phone": order.customer.phone],
               order: ["name", "email", "phone"])
        x.raw("/>\n")
        x.open("    <shipTo", ["street": order.shipTo.street, "city": order.shipTo.city,
                               "postcode": order.shipTo.postcode, "country": order.shipTo.country],
               order: ["street", "city", "postcode", "country"])
        x.raw("/>\n")
        if order.carrier != nil || order.pickupPoint != nil {
            x.open("    <delivery", ["carrier": order.carrier, "pickupPoint": order.pickupPoint], order: ["carrier", "pickupPoint"])
            x.raw("/>\n")
        }
        x.open("    <payment", ["cod": order.cod?.formatted, "currency": order.currency], order: ["cod", "currency"])
        x.raw("/>\n")
        if let notes = order.notes {
            x.raw("    <notes>")
            x.text(notes)
            x.raw("</notes>\n")
        }
        for line in order.lines {
            x.open("    <line", ["sku": line.sku, "ean": line.ean, "quantity": String(line.quantity),
                                "unitPrice": line.unitPrice?.formatted, "name": line.name],
                   order: ["sku", "ean", "quantity", "unitPrice", "name"])
            x.raw("/>\n")
        }
        x.raw("  </order>\n</orders>\n")
        return x.output
    }
}

/// Builds XML text with correct escaping. Tab, line feed and carriage return in
/// attributes are written as character references, since a parser would otherwise
/// normalise them to spaces and change the value.
struct XMLText {
    var output = ""

    mutating func raw(_ s: String) { output += s }

    mutating func open(_ tag: String, _ attributes: [String: String?], order: [String]) {
        output += tag
        for key in order {
            guard let value = attributes[key] ?? nil else { continue }
            output += " \(key)=\""
            escape(value, attribute: true)
            output += "\""
        }
    }

    mutating func text(_ s: String) { escape(s, attribute: false) }

    private mutating func escape(_ s: String, attribute: Bool) {
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"" where attribute: output += "&quot;"
            case "\t" where attribute: output += "&#9;"
            case "\n" where attribute: output += "&#10;"
            case "\r": output += "&#13;"
            default: output.unicodeScalars.append(scalar)
            }
        }
    }
}
