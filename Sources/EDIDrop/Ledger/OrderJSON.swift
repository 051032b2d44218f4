/// The form an order is kept in the ledger (`orders.data`): JSON with sorted keys and
/// absent values left out, which `JSONDecoder` reads back as an `Order`.
///
/// Written by hand rather than with JSONEncoder: the encoder took about a tenth of the
/// time of a one-order file and a third of the time of a big one (it is called once per
/// order). `OrderJSONTests` checks that both read back the same order.
enum OrderJSON {
    static func encode(_ order: Order) -> String {
        var out = ""
        out.reserveCapacity(512)
        out += "{"
        var first = true
        func key(_ name: String) {
            if !first { out += "," }
            first = false
            out += "\"" + name + "\":"
        }
        if let carrier = order.carrier { key("carrier"); string(carrier, &out) }
        if let cod = order.cod { key("cod"); money(cod, &out) }
        key("currency"); string(order.currency, &out)
        key("customer")
        out += "{"
        var inner = false
        if let email = order.customer.email { out += "\"email\":"; string(email, &out); inner = true }
        out += inner ? ",\"name\":" : "\"name\":"
        string(order.customer.name, &out)
        if let phone = order.customer.phone { out += ",\"phone\":"; string(phone, &out) }
        out += "}"
        if let date = order.date {
            key("date")
            out += date.hasTime ? "{\"hasTime\":true,\"iso\":" : "{\"hasTime\":false,\"iso\":"
            string(date.iso, &out)
            out += "}"
        }
        key("id"); string(order.id, &out)
        key("lines")
        out += "["
        for (i, line) in order.lines.enumerated() {
            if i > 0 { out += "," }
            out += "{"
            var any = false
            if let ean = line.ean { out += "\"ean\":"; string(ean, &out); any = true }
            if let name = line.name { out += any ? ",\"name\":" : "\"name\":"; string(name, &out); any = true }
            out += any ? ",\"quantity\":" : "\"quantity\":"
            out += String(line.quantity)
            out += ",\"sku\":"
            string(line.sku, &out)
            if let price = line.unitPrice { out += ",\"unitPrice\":"; money(price, &out) }
            out += "}"
        }
        out += "]"
        if let notes = order.notes { key("notes"); string(notes, &out) }
        if let point = order.pickupPoint { key("pickupPoint"); string(point, &out) }
        key("shipTo")
        out += "{\"city\":"
        string(order.shipTo.city, &out)
        out += ",\"country\":"
        string(order.shipTo.country, &out)
        out += ",\"postcode\":"
        string(order.shipTo.postcode, &out)
        out += ",\"street\":"
        string(order.shipTo.street, &out)
        out += "}}"
        return out
    }

    private static func money(_ m: Money, _ out: inout String) {
        out += "{\"minorUnits\":" + String(m.minorUnits) + "}"
    }

    /// A JSON string; the common case (nothing to escape) is copied whole.
    private static func string(_ s: String, _ out: inout String) {
        var plain = true
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F || b == 0xE2 {
            plain = false
            break
        }
        if plain {
            out += "\""
            out += s
            out += "\""
        } else {
            JSONValue.escape(s, into: &out)
        }
    }
}
