/// Reads order drafts one order at a time from some format. Fatal problems (a broken
/// file) end the reading and are left in `findings`; problems with one order travel
/// inside that order's draft.
public protocol OrderDraftReader {
    mutating func next() -> OrderDraft?
    /// File-level findings (bad header, broken structure, schema errors).
    var findings: [Diagnostic] { get }
    /// Orders read but not meant for the warehouse (a Shopify order with nothing to ship),
    /// complete once `next()` has returned nil.
    var skipped: [SkippedOrder] { get }
    /// What the file itself calls a canonical field (`postcode` is "Shipping Zip" in a
    /// Shopify export), so that reports name the column the shop knows; nil: the same.
    func columnName(for field: String) -> String?
}

extension OrderDraftReader {
    public var skipped: [SkippedOrder] { [] }
    public func columnName(for field: String) -> String? { nil }
}

/// An order that was read and is deliberately not sent: not an error, but listed so that a
/// person can see it was not forgotten.
public struct SkippedOrder: Sendable, Equatable {
    public var id: String
    public var line: Int
    public var reason: String

    public init(id: String, line: Int, reason: String) {
        self.id = id
        self.line = line
        self.reason = reason
    }

    /// "1 order skipped (nothing to ship): #1003, #1004", at most `limit` ids named.
    public static func summary(_ skipped: [SkippedOrder], limit: Int = 20) -> String? {
        guard !skipped.isEmpty else { return nil }
        var parts: [String] = []
        var reasons: [String] = []
        for s in skipped where !reasons.contains(s.reason) { reasons.append(s.reason) }
        for reason in reasons {
            let ids = skipped.filter { $0.reason == reason }.map(\.id)
            var text = "\(ids.count) order\(ids.count == 1 ? "" : "s") skipped (\(reason)): " + ids.prefix(limit).joined(separator: ", ")
            if ids.count > limit { text += ", … (\(ids.count - limit) more)" }
            parts.append(text)
        }
        return parts.joined(separator: "; ")
    }
}

/// The canonical orders CSV's columns and where each field goes. Stored here rather than
/// in the generic reader, which cannot store static properties: built afresh on every use
/// (for every record), these tables and the lookups of fields by name cost a fifth of a
/// small file's reading (measured with perf, issue 8).
enum OrdersCSVLayout {
    /// The canonical column names, in DESIGN.md's order.
    static let columns = ["order_id", "order_date", "customer_name", "email", "phone", "street", "city", "postcode",
                          "country", "carrier", "pickup_point", "cod_amount", "currency", "sku", "ean", "quantity",
                          "unit_price", "product_name", "notes"]
    /// A field's position in `columns`.
    static func position(_ field: String) -> Int { columns.firstIndex(of: field)! }
    /// The positions of the columns a file must have.
    static let required = ["order_id", "customer_name", "street", "city", "postcode", "country", "sku", "quantity"]
        .map(position)
    static let orderID = position("order_id")
    /// Whether a header is exactly the canonical one, as nearly every file's is: then each
    /// column is where the layout has it, with nothing repeated or missing, and neither
    /// the names' normalised forms nor a table of them need be built (two dictionaries of
    /// 19 hashed names per file were 1.2% of a small-file run, perf, issue 8).
    static func isCanonical(_ header: CSVRecord) -> Bool {
        header.fields.count == columns.count && zip(header.fields, columns).allSatisfy { $0.value == $1 }
    }
    /// The reader's column index for a canonical header: each column where the layout has it.
    static let canonicalIndex: [Int?] = Array(columns.indices)
    /// Fields that belong to the order, which every row of it must agree on.
    static let orderLevel: [(name: String, position: Int, path: WritableKeyPath<OrderDraft, Located?>)] =
        [("order_date", \.date), ("customer_name", \.customerName), ("email", \.email), ("phone", \.phone),
         ("street", \.street), ("city", \.city), ("postcode", \.postcode), ("country", \.country),
         ("carrier", \.carrier), ("pickup_point", \.pickupPoint), ("cod_amount", \.cod),
         ("currency", \.currency), ("notes", \.notes)].map { ($0.0, position($0.0), $0.1) }
    static let lineLevel: [(position: Int, path: WritableKeyPath<OrderDraft.Line, Located?>)] =
        [("sku", \.sku), ("ean", \.ean), ("quantity", \.quantity), ("unit_price", \.unitPrice),
         ("product_name", \.name)].map { (position($0.0), $0.1) }
}

/// The canonical orders CSV: one row per order line, columns found by header name,
/// consecutive rows with the same order_id forming one order. With a column mapping
/// (`[formats.orders_csv.columns]`) it reads the shop's own layout the same way, each
/// field under the shop's header.
public struct OrdersCSVReader<Source: ByteSource>: OrderDraftReader {
    /// The canonical column names, in DESIGN.md's order.
    public static var columns: [String] { OrdersCSVLayout.columns }

    private var csv: CSVReader<Source>
    /// For each canonical column (by its position in `OrdersCSVLayout.columns`), its
    /// column's index in the file; nil when the file lacks it.
    private var index: [Int?] = []
    /// Canonical field -> the shop's header, for the fields the mapping renames.
    private let mapping: [String: String]
    private var pending: OrderDraft?
    private var done = false
    public private(set) var findings: [Diagnostic] = []

    /// Reads the header. A header without the required columns makes a reader that
    /// yields nothing and holds one MISSING_FIELD finding per missing column.
    public init(csv: CSVReader<Source>, columns mapping: [String: String] = [:]) {
        self.csv = csv
        self.mapping = mapping
        guard let header = readRecord() else {
            if findings.isEmpty {
                findings.append(Diagnostic(.emptyFile, line: 1, message: "the file has no header row"))
            }
            done = true
            return
        }
        if mapping.isEmpty && OrdersCSVLayout.isCanonical(header) {
            index = OrdersCSVLayout.canonicalIndex
            return
        }
        var byHeader: [String: Int] = [:]
        var repeated: [String: CSVField] = [:]
        for (i, field) in header.fields.enumerated() {
            let name = Self.normalizedHeader(field.value)
            if byHeader[name] == nil { byHeader[name] = i } else if repeated[name] == nil { repeated[name] = field }
        }
        for field in OrdersCSVLayout.columns {
            let name = Self.normalizedHeader(mapping[field] ?? field)
            index.append(byHeader[name])
            // Two columns for one field: which one the shop meant cannot be known, and
            // taking the first would send the other's values nowhere without a word.
            if let second = repeated[name], let first = byHeader[name] {
                findings.append(Diagnostic(.malformed, line: header.line, column: second.column, field: mapping[field] ?? field,
                                           value: second.value,
                                           message: "the header names the column \"\(mapping[field] ?? field)\" twice (columns \(first + 1) and \(header.fields.firstIndex(of: second)! + 1)); which one holds \(field) cannot be told",
                                           hint: "remove or rename one of the two columns"))
            }
        }
        let missing = OrdersCSVLayout.required.filter { index[$0] == nil }.map { OrdersCSVLayout.columns[$0] }
        let layout = missing.isEmpty ? [] : OrdersCSVLayout.columns.map { mapping[$0] ?? $0 }
        for field in missing {
            let column = mapping[field] ?? field
            let what = mapping[field] == nil ? "\"\(column)\"" : "\"\(column)\" (\(field), set in [formats.orders_csv.columns])"
            findings.append(Diagnostic(.missingField, line: header.line, field: column,
                                       message: "the header has no column \(what)",
                                       hint: "the header must name the columns: " + layout.joined(separator: ";")))
        }
        if !findings.isEmpty { done = true }
    }

    /// Goes on from a reader that has just read the canonical header (`isCanonical`): the
    /// opener reads the header to tell the layout, and a small file need not be opened and
    /// its header parsed again.
    init(continuing csv: CSVReader<Source>, afterCanonicalHeader header: CSVRecord) {
        precondition(OrdersCSVLayout.isCanonical(header), "only the canonical header is taken as read")
        self.csv = csv
        self.mapping = [:]
        index = OrdersCSVLayout.canonicalIndex
    }

    public func columnName(for field: String) -> String? { mapping[field] }

    /// Header names compared without case, surrounding spaces or a stray BOM.
    static func normalizedHeader(_ s: String) -> String {
        var t = s
        if t.utf8.starts(with: [0xEF, 0xBB, 0xBF]) { t.removeFirst() }
        return t.trimmingSpaces.asciiFastLowercased
    }

    private mutating func readRecord() -> CSVRecord? {
        do {
            return try csv.next()
        } catch let error as CSVError {
            findings.append(Diagnostic(error.kind == .encoding ? .encoding : .malformed,
                                       line: error.line, column: error.column, message: error.message))
        } catch {
            findings.append(Diagnostic(.unreadable, message: "the file could not be read: \(error)"))
        }
        done = true
        return nil
    }

    /// The value of the canonical column at `position` in `OrdersCSVLayout.columns`.
    private func value(_ record: CSVRecord, _ position: Int) -> Located? {
        guard position < index.count, let i = index[position], i < record.fields.count else { return nil }
        let f = record.fields[i]
        return Located(f.value, line: f.line, column: f.column)
    }

    public mutating func next() -> OrderDraft? {
        while !done {
            guard let record = readRecord() else { break }
            let id = value(record, OrdersCSVLayout.orderID)
            if var current = pending, let cid = current.id?.value, let id, id.value == cid {
                add(record, to: &current)
                pending = current
                continue
            }
            var draft = OrderDraft(line: record.line)
            draft.id = id
            for field in OrdersCSVLayout.orderLevel { draft[keyPath: field.path] = value(record, field.position) }
            add(record, to: &draft)
            let finished = pending
            pending = draft
            if let finished { return finished }
        }
        done = true
        let last = pending
        pending = nil
        return last
    }

    private func add(_ record: CSVRecord, to draft: inout OrderDraft) {
        if record.line != draft.line {
            // A later row of the same order: an order-level value it repeats must be the
            // same; an empty one inherits the first row's.
            for (column, position, path) in OrdersCSVLayout.orderLevel {
                guard let v = value(record, position), !v.value.trimmingSpaces.isEmpty else { continue }
                if let first = draft[keyPath: path], !first.value.trimmingSpaces.isEmpty {
                    if first.value != v.value {
                        draft.findings.append(Diagnostic(
                            .inconsistentOrder, line: v.line, column: v.column, field: column, value: v.value,
                            message: "rows of order \(draft.id?.value ?? "?") disagree on \(column): line \(first.line) has \"\(first.value)\"",
                            orderID: draft.id?.value))
                    }
                } else {
                    draft[keyPath: path] = v
                }
            }
        }
        var line = OrderDraft.Line(line: record.line)
        for field in OrdersCSVLayout.lineLevel { line[keyPath: field.path] = value(record, field.position) }
        draft.lines.append(line)
    }
}
