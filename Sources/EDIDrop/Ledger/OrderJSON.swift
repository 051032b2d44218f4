/// The form an order is kept in the ledger (`orders.data`): JSON with sorted keys and
/// absent values left out, which `JSONDecoder` reads back as an `Order`.
///
/// Written by hand rather than with JSONEncoder: the encoder took about a tenth of the
/// time of a one-order file and a third of the time of a big one (it is called once per
/// order). `OrderJSONTests` checks that both read back the same order.
enum OrderJSON {
    static func encode(_ order: Order) -> String {
        var out = UTF8Output(capacity: 512)
        out.append("{")
        var first = true
        func key(_ name: String) {
            if !first { out.append(",") }
            first = false
            out.append("\"")
            out.append(name)
            out.append("\":")
        }
        if let carrier = order.carrier { key("carrier"); string(carrier, &out) }
        if let cod = order.cod { key("cod"); money(cod, &out) }
        key("currency"); string(order.currency, &out)
        key("customer")
        out.append("{")
        var inner = false
        if let email = order.customer.email { out.append("\"email\":"); string(email, &out); inner = true }
        out.append(inner ? ",\"name\":" : "\"name\":")
        string(order.customer.name, &out)
        if let phone = order.customer.phone { out.append(",\"phone\":"); string(phone, &out) }
        out.append("}")
        if let date = order.date {
            key("date")
            out.append(date.hasTime ? "{\"hasTime\":true,\"iso\":" : "{\"hasTime\":false,\"iso\":")
            string(date.iso, &out)
            out.append("}")
        }
        key("id"); string(order.id, &out)
        key("lines")
        out.append("[")
        for (i, line) in order.lines.enumerated() {
            if i > 0 { out.append(",") }
            out.append("{")
            var any = false
            if let ean = line.ean { out.append("\"ean\":"); string(ean, &out); any = true }
            if let name = line.name { out.append(any ? ",\"name\":" : "\"name\":"); string(name, &out); any = true }
            out.append(any ? ",\"quantity\":" : "\"quantity\":")
            out.append(String(line.quantity))
            out.append(",\"sku\":")
            string(line.sku, &out)
            if let price = line.unitPrice { out.append(",\"unitPrice\":"); money(price, &out) }
            out.append("}")
        }
        out.append("]")
        if let notes = order.notes { key("notes"); string(notes, &out) }
        if let point = order.pickupPoint { key("pickupPoint"); string(point, &out) }
        key("shipTo")
        out.append("{\"city\":")
        string(order.shipTo.city, &out)
        out.append(",\"country\":")
        string(order.shipTo.country, &out)
        out.append(",\"postcode\":")
        string(order.shipTo.postcode, &out)
        out.append(",\"street\":")
        string(order.shipTo.street, &out)
        out.append("}}")
        return out.string
    }

    private static func money(_ m: Money, _ out: inout UTF8Output) {
        out.append("{\"minorUnits\":")
        out.append(String(m.minorUnits))
        out.append("}")
    }

    /// A JSON string; the common case (nothing to escape) is copied whole.
    private static func string(_ s: String, _ out: inout UTF8Output) {
        var plain = true
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F || b == 0xE2 {
            plain = false
            break
        }
        if plain {
            out.append("\"")
            out.append(s)
            out.append("\"")
        } else {
            var escaped = ""
            JSONValue.escape(s, into: &escaped)
            out.append(escaped)
        }
    }
}
