import XMLSupport

/// One line of a stock report, as read.
public struct StockLineDraft: Sendable {
    public var line: Int
    public var sku: Located?
    public var ean: Located?
    public var available: Located?
    public var reserved: Located?
    /// The line's own time, or the report's (`asOf` on the XML root).
    public var asOf: Located?
}

/// One shipment confirmation, as read.
public struct ShipmentDraft: Sendable {
    public var line: Int
    public var orderID: Located?
    public var shippedAt: Located?
    public var carrier: Located?
    public var tracking: Located?
}

/// Reads records one at a time; fatal problems end the reading and stay in `findings`.
public protocol RecordReader<Record> {
    associatedtype Record
    mutating func next() -> Record?
    var findings: [Diagnostic] { get }
}

/// Columns of a CSV file found by header name (without case, spaces or a stray BOM).
public struct CSVColumns: Sendable {
    public let header: CSVRecord
    private var index: [String: Int] = [:]

    public init(header: CSVRecord) {
        self.header = header
        for (i, field) in header.fields.enumerated() {
            let name = Self.normalized(field.value)
            if index[name] == nil { index[name] = i }
        }
    }

    public static func normalized(_ s: String) -> String {
        var t = s
        if t.utf8.starts(with: [0xEF, 0xBB, 0xBF]) { t.removeFirst() }
        return t.trimmingSpaces.asciiFastLowercased
    }

    public var names: Set<String> { Set(index.keys) }

    public func has(_ column: String) -> Bool { index[column] != nil }

    public func value(_ record: CSVRecord, _ column: String) -> Located? {
        guard let i = index[column], i < record.fields.count else { return nil }
        let f = record.fields[i]
        return Located(f.value, line: f.line, column: f.column)
    }

    /// One MISSING_FIELD finding per required column the header lacks.
    public func missing(_ required: [String], layout: [String]) -> [Diagnostic] {
        required.filter { index[$0] == nil }.map { column in
            Diagnostic(.missingField, line: header.line, field: column,
                       message: "the header has no column \"\(column)\"",
                       hint: "the header must name the columns: " + layout.joined(separator: ";"))
        }
    }
}

/// A CSV file read record by record through a row-mapping function.
public struct CSVRecordReader<Source: ByteSource, Record>: RecordReader {
    private var csv: CSVReader<Source>
    private let columns: CSVColumns?
    private let map: (CSVColumns, CSVRecord) -> Record
    private var done = false
    public private(set) var findings: [Diagnostic] = []

    public init(csv: CSVReader<Source>, required: [String], layout: [String], map: @escaping (CSVColumns, CSVRecord) -> Record) {
        self.csv = csv
        self.map = map
        var header: CSVRecord?
        do {
            header = try self.csv.next()
        } catch {
            findings.append(Diagnostic(csvError: error))
        }
        guard let header else {
            if findings.isEmpty { findings.append(Diagnostic(.emptyFile, line: 1, message: "the file has no header row")) }
            columns = nil
            done = true
            return
        }
        let c = CSVColumns(header: header)
        columns = c
        findings += c.missing(required, layout: layout)
        if !findings.isEmpty { done = true }
    }

    public mutating func next() -> Record? {
        guard !done, let columns else { return nil }
        do {
            if let record = try csv.next() { return map(columns, record) }
        } catch {
            findings.append(Diagnostic(csvError: error))
        }
        done = true
        return nil
    }
}

/// An XML document read one element (at depth 1) at a time; the root's attributes are
/// handed to the mapping too (a stock report's `asOf`).
public struct XMLRecordReader<Record>: RecordReader {
    private let reader: XMLStreamReader
    private let namespace: String
    private let element: String
    private let map: (XMLStart, XMLStart?) -> Record
    private var root: XMLStart?

    public init(reader: XMLStreamReader, namespace: String, element: String, map: @escaping (XMLStart, XMLStart?) -> Record) {
        self.reader = reader
        self.namespace = namespace
        self.element = element
        self.map = map
    }

    public var findings: [Diagnostic] {
        var out = reader.problems.map(Diagnostic.init(xml:))
        if reader.problemsDropped > 0 {
            out.append(Diagnostic(.schema, message: "\(reader.problemsDropped) more problems were found and not listed"))
        }
        return out
    }

    public mutating func next() -> Record? {
        while let event = reader.next() {
            guard case .start(let e) = event, e.namespaceURI == namespace else { continue }
            if e.depth == 0 { root = e; continue }
            if e.depth == 1 && e.localName == element { return map(e, root) }
        }
        return nil
    }
}

extension Diagnostic {
    init(csvError error: Error) {
        if let e = error as? CSVError {
            self.init(e.kind == .encoding ? .encoding : .malformed, line: e.line, column: e.column, message: e.message)
        } else {
            self.init(.unreadable, message: "the file could not be read: \(error)")
        }
    }
}

/// The warehouse's documents: layouts and element names.
public enum WarehouseLayouts {
    public static let stockColumns = ["sku", "ean", "available", "reserved", "as_of"]
    public static let stockRequired = ["sku", "available"]
    public static let shipmentColumns = ["order_id", "shipped_at", "carrier", "tracking_number"]
    public static let shipmentRequired = ["order_id", "tracking_number"]

    static func stockLine(_ c: CSVColumns, _ r: CSVRecord) -> StockLineDraft {
        StockLineDraft(line: r.line, sku: c.value(r, "sku"), ean: c.value(r, "ean"), available: c.value(r, "available"),
                       reserved: c.value(r, "reserved"), asOf: c.value(r, "as_of"))
    }

    static func shipment(_ c: CSVColumns, _ r: CSVRecord) -> ShipmentDraft {
        ShipmentDraft(line: r.line, orderID: c.value(r, "order_id"), shippedAt: c.value(r, "shipped_at"),
                      carrier: c.value(r, "carrier"), tracking: c.value(r, "tracking_number"))
    }

    static func stockItem(_ e: XMLStart, _ root: XMLStart?) -> StockLineDraft {
        StockLineDraft(line: e.line, sku: e.located("sku"), ean: e.located("ean"), available: e.located("available"),
                       reserved: e.located("reserved"), asOf: e.located("asOf") ?? root?.located("asOf"))
    }

    static func shipmentElement(_ e: XMLStart, _ root: XMLStart?) -> ShipmentDraft {
        ShipmentDraft(line: e.line, orderID: e.located("order"), shippedAt: e.located("shippedAt"),
                      carrier: e.located("carrier"), tracking: e.located("tracking"))
    }
}
