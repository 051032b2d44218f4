/// The CSV files edidrop writes for the shop into to-shop/. People open them in
/// spreadsheets, so text that a spreadsheet would run as a formula is defused.
public enum ShopCSV {
    /// One field: a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front,
    /// so it is shown as text and never evaluated; quoted when it holds `;`, `"` or a line break.
    public static func field(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            v = "'" + v
        }
        if v.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            v = "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    public static func row(_ values: [String]) -> String {
        values.map(field).joined(separator: ";") + "\r\n"
    }
}

/// `to-shop/stock-….csv`: `sku;ean;available` of the SKUs a report changed.
struct StockFeed {
    private var order: [String] = []
    private var lines: [String: StockLine] = [:]

    mutating func add(_ line: StockLine) {
        if lines[line.sku] == nil { order.append(line.sku) }
        lines[line.sku] = line
    }

    func csv() -> String? {
        guard !order.isEmpty else { return nil }
        var out = ShopCSV.row(["sku", "ean", "available"])
        for sku in order {
            let l = lines[sku]!
            out += ShopCSV.row([l.sku, l.ean ?? "", String(l.available)])
        }
        return out
    }
}

/// `to-shop/tracking-….csv`: `order_id;carrier;tracking_number;shipped_at` of new shipments.
struct TrackingFeed {
    private var out = ""

    mutating func add(_ s: Shipment) {
        out += ShopCSV.row([s.orderID, s.carrier ?? "", s.tracking, s.shippedAt ?? ""])
    }

    func csv() -> String? {
        out.isEmpty ? nil : ShopCSV.row(["order_id", "carrier", "tracking_number", "shipped_at"]) + out
    }
}
