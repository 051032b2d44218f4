/// The orders export of Shopify (Orders → Export → CSV): one row per line item, the rows
/// of one order next to each other under the same `Name` (the order number as the shop
/// shows it, e.g. `#1001`), and the order's own fields only on its first row.
///
/// Columns are found by header name: exports from different years have different column
/// sets (`Shipping Address1/2` and `Payment Method` came later, for example), so nothing
/// may depend on a position. Lines with `Lineitem requires shipping` = false (gift cards,
/// services) are not for the warehouse; an order left with nothing to ship is skipped
/// and listed, not rejected.
public struct ShopifyOrdersReader<Source: ByteSource>: OrderDraftReader {
    /// Every Shopify orders export has these; no other layout edidrop reads does.
    static func matches(_ normalizedNames: Set<String>) -> Bool {
        normalizedNames.contains("name") && normalizedNames.contains("lineitem quantity")
            && (normalizedNames.contains("lineitem sku") || normalizedNames.contains("lineitem name"))
    }

    /// Required columns, with the alternatives an older or newer export may use instead.
    static var required: [[String]] {
        [["Name"], ["Lineitem quantity"], ["Lineitem sku"], ["Shipping Name", "Billing Name"],
         ["Shipping Street", "Shipping Address1"], ["Shipping City"], ["Shipping Zip"], ["Shipping Country"]]
    }

    /// Payment methods that mean the courier collects the money.
    static var cashOnDeliveryMarkers: [String] { ["cash on delivery", "za pobraniem", "pobranie"] }

    private var csv: CSVReader<Source>
    private var columns: CSVColumns?
    private var pending: Pending?
    private var done = false
    public private(set) var findings: [Diagnostic] = []
    public private(set) var skipped: [SkippedOrder] = []
    /// Canonical field -> the Shopify header actually used for it in this file.
    private var used: [String: String] = [:]

    private struct Pending {
        var draft: OrderDraft
        /// Line items of the order, shipped or not (an order of gift cards only is skipped,
        /// an order without any line item is an error like anywhere else).
        var items = 0
    }

    public init(csv: CSVReader<Source>) {
        self.csv = csv
        var header: CSVRecord?
        do {
            header = try self.csv.next()
        } catch {
            findings.append(Diagnostic(csvError: error))
        }
        guard let header else {
            if findings.isEmpty { findings.append(Diagnostic(.emptyFile, line: 1, message: "the file has no header row")) }
            done = true
            return
        }
        let c = CSVColumns(header: header)
        columns = c
        for alternatives in Self.required where !alternatives.contains(where: { c.has(CSVColumns.normalized($0)) }) {
            let named = alternatives.map { "\"\($0)\"" }.joined(separator: " or ")
            findings.append(Diagnostic(.missingField, line: header.line, field: alternatives[0],
                                       message: "the Shopify export has no column \(named)",
                                       hint: "export the orders from Shopify again with all columns (Orders → Export → CSV)"))
        }
        // A column used for a field must be there once: with two, which one is meant
        // cannot be told.
        let readColumns: Set<String> = ["name", "email", "created at", "currency", "notes", "total", "payment method",
                                 "payment gateway names", "shipping name", "billing name", "shipping street",
                                 "shipping address1", "shipping address2", "shipping city", "shipping zip",
                                 "shipping country", "shipping phone", "phone", "lineitem quantity", "lineitem name",
                                 "lineitem price", "lineitem sku", "lineitem requires shipping", "lineitem barcode",
                                 "barcode", "variant barcode"]
        var seen: Set<String> = []
        for field in header.fields {
            let name = CSVColumns.normalized(field.value)
            guard readColumns.contains(name) else { continue }
            if !seen.insert(name).inserted {
                findings.append(Diagnostic(.malformed, line: header.line, column: field.column, field: field.value.trimmingSpaces,
                                           message: "the Shopify export names the column \"\(field.value.trimmingSpaces)\" twice; which one is meant cannot be told"))
            }
        }
        if !findings.isEmpty { done = true }
        // The names reports use: those of this file (with its own spelling).
        let names: [(String, [String])] = [
            ("order_id", ["Name"]), ("order_date", ["Created at"]), ("customer_name", ["Shipping Name", "Billing Name"]),
            ("email", ["Email"]), ("phone", ["Shipping Phone", "Phone"]),
            ("street", ["Shipping Street", "Shipping Address1"]), ("city", ["Shipping City"]),
            ("postcode", ["Shipping Zip"]), ("country", ["Shipping Country"]), ("cod_amount", ["Total"]),
            ("currency", ["Currency"]), ("notes", ["Notes"]), ("sku", ["Lineitem sku"]),
            ("ean", ["Lineitem barcode", "Barcode", "Variant Barcode"]), ("quantity", ["Lineitem quantity"]),
            ("unit_price", ["Lineitem price"]), ("product_name", ["Lineitem name"]),
        ]
        for (field, candidates) in names {
            if let hit = candidates.first(where: { c.has(CSVColumns.normalized($0)) }) {
                let i = c.header.fields.firstIndex { CSVColumns.normalized($0.value) == CSVColumns.normalized(hit) }
                used[field] = i.map { c.header.fields[$0].value.trimmingSpaces } ?? hit
            } else {
                used[field] = candidates[0]
            }
        }
    }

    public func columnName(for field: String) -> String? { used[field] }

    private mutating func readRecord() -> CSVRecord? {
        do {
            if let r = try csv.next() { return r }
        } catch {
            findings.append(Diagnostic(csvError: error))
        }
        done = true
        return nil
    }

    public mutating func next() -> OrderDraft? {
        while !done, let columns {
            guard let record = readRecord() else { break }
            let id = columns.value(record, "name")
            if var current = pending, let cid = current.draft.id?.value, let id, id.value == cid {
                add(record, to: &current, columns)
                pending = current
                continue
            }
            var fresh = Pending(draft: OrderDraft(line: record.line))
            fresh.draft.id = id
            add(record, to: &fresh, columns)
            let finished = pending
            pending = fresh
            if let finished, let draft = finish(finished) { return draft }
        }
        done = true
        while let last = pending {
            pending = nil
            if let draft = finish(last) { return draft }
        }
        return nil
    }

    /// The draft to hand on, or nil when the order has nothing to ship (then it is listed).
    private mutating func finish(_ p: Pending) -> OrderDraft? {
        if p.draft.lines.isEmpty && p.items > 0 {
            skipped.append(SkippedOrder(id: p.draft.id?.value ?? "(no Name)", line: p.draft.line, reason: "nothing to ship"))
            return nil
        }
        return p.draft
    }

    private func value(_ c: CSVColumns, _ r: CSVRecord, _ names: String...) -> Located? {
        for name in names {
            if let v = c.value(r, CSVColumns.normalized(name)), !v.value.trimmingSpaces.isEmpty { return v }
        }
        return nil
    }

    private func add(_ record: CSVRecord, to p: inout Pending, _ c: CSVColumns) {
        // Order-level fields: the first row has them; a later row only fills what is
        // still missing (Shopify leaves them empty there, and a repeat is not a conflict).
        func fill(_ path: WritableKeyPath<OrderDraft, Located?>, _ v: Located?) {
            if p.draft[keyPath: path] == nil, let v { p.draft[keyPath: path] = v }
        }
        fill(\.email, value(c, record, "Email"))
        fill(\.date, value(c, record, "Created at").map(Self.createdAt))
        fill(\.currency, value(c, record, "Currency"))
        fill(\.notes, value(c, record, "Notes"))
        fill(\.customerName, value(c, record, "Shipping Name", "Billing Name"))
        fill(\.street, street(c, record))
        fill(\.city, value(c, record, "Shipping City"))
        fill(\.postcode, value(c, record, "Shipping Zip").map(Self.withoutApostrophe))
        fill(\.country, value(c, record, "Shipping Country"))
        fill(\.phone, value(c, record, "Shipping Phone", "Phone").map(Self.withoutApostrophe))
        if p.draft.cod == nil, let method = value(c, record, "Payment Method", "Payment Gateway Names") {
            let lower = method.value.lowercased()
            if Self.cashOnDeliveryMarkers.contains(where: { lower.contains($0) }) {
                if let total = value(c, record, "Total") {
                    p.draft.cod = total
                } else {
                    p.draft.findings.append(Diagnostic(
                        .missingField, line: method.line, column: method.column, field: used["cod_amount"] ?? "Total",
                        value: method.value,
                        message: "the payment method is cash on delivery, but the order has no Total to collect",
                        orderID: p.draft.id?.value))
                }
            }
        }

        p.items += 1
        if let shipping = value(c, record, "Lineitem requires shipping"),
           ["false", "no", "0"].contains(shipping.value.trimmingSpaces.lowercased()) {
            return
        }
        var line = OrderDraft.Line(line: record.line)
        line.sku = c.value(record, "lineitem sku")
        line.quantity = c.value(record, "lineitem quantity")
        line.unitPrice = value(c, record, "Lineitem price")
        line.name = value(c, record, "Lineitem name")
        line.ean = value(c, record, "Lineitem barcode", "Barcode", "Variant Barcode").map(Self.withoutApostrophe)
        p.draft.lines.append(line)
    }

    /// `Shipping Street` when the export has it; otherwise `Shipping Address1` and
    /// `Shipping Address2` (a flat or floor) together.
    private func street(_ c: CSVColumns, _ r: CSVRecord) -> Located? {
        if let s = value(c, r, "Shipping Street") { return s }
        guard let first = value(c, r, "Shipping Address1") else { return nil }
        guard let second = value(c, r, "Shipping Address2") else { return first }
        return Located(first.value.trimmingSpaces + " " + second.value.trimmingSpaces, line: first.line, column: first.column)
    }

    /// Shopify writes zip codes and phone numbers as `'31-147` so that spreadsheets keep
    /// leading zeros; the apostrophe is not part of the value.
    static func withoutApostrophe(_ v: Located) -> Located {
        let t = v.value.trimmingSpaces
        guard t.hasPrefix("'") else { return v }
        return Located(String(t.dropFirst()), line: v.line, column: v.column.map { $0 + 1 })
    }

    /// `Created at` is "2026-11-20 14:03:11 +0100": ISO 8601 but for the space before the
    /// offset, which is dropped so the usual date rules apply.
    static func createdAt(_ v: Located) -> Located {
        let t = v.value.trimmingSpaces
        let parts = t.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, let sign = parts[2].first, sign == "+" || sign == "-",
              parts[2].dropFirst().allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":") }) else { return v }
        return Located("\(parts[0]) \(parts[1])\(parts[2])", line: v.line, column: v.column)
    }
}
