import XMLSupport

/// The formats edidrop reads. The raw value is stored in the ledger and shown to users.
public enum DocumentFormat: String, Codable, Sendable, CaseIterable {
    case ordersCSV = "orders-csv"
    case ordersXML = "orders-xml"
    case stockCSV = "stock-csv"
    case stockXML = "stock-xml"
    case shipmentsCSV = "shipments-csv"
    case shipmentsXML = "shipments-xml"

    public var title: String {
        switch self {
        case .ordersCSV: return "canonical orders CSV"
        case .ordersXML: return "canonical orders XML (urn:edidrop:orders:1)"
        case .stockCSV: return "stock report CSV"
        case .stockXML: return "stock report XML (urn:edidrop:stock:1)"
        case .shipmentsCSV: return "shipment confirmations CSV"
        case .shipmentsXML: return "shipment confirmations XML (urn:edidrop:shipments:1)"
        }
    }
}

/// An opened document, ready to be read record by record.
public enum OpenedDocument {
    case orders(DocumentFormat, any OrderDraftReader)
    case stock(DocumentFormat, any RecordReader<StockLineDraft>)
    case shipments(DocumentFormat, any RecordReader<ShipmentDraft>)

    public var format: DocumentFormat {
        switch self {
        case .orders(let f, _), .stock(let f, _), .shipments(let f, _): return f
        }
    }
}

/// Tells formats apart by content (XML root and namespace, CSV header), never by the
/// file's name, and opens the matching reader.
public enum DocumentOpener {
    public static func open(path: String, identity: FileIdentity, channel: Channel,
                            schemas: CompiledSchemas, configuration: SpoolConfiguration) -> Result<OpenedDocument, Diagnostic> {
        let head = identity.head
        if looksLikeXML(head, encoding: identity.encoding) {
            return openXML(path: path, channel: channel, schemas: schemas)
        }
        if identity.encoding.encoding != .utf16LE, identity.encoding.encoding != .utf16BE,
           let nul = head.firstIndex(of: 0) {
            let line = head[..<nul].filter { $0 == 0x0A }.count + 1
            return .failure(Diagnostic(.unknownFormat, line: line,
                                       message: "the file holds binary data (a NUL byte at line \(line)), not CSV or XML text"))
        }
        return openCSV(path: path, identity: identity, channel: channel)
    }

    /// The first thing after a BOM and white space is `<`.
    static func looksLikeXML(_ head: [UInt8], encoding: EncodingDetection) -> Bool {
        var bytes = head.dropFirst(encoding.bomLength)
        switch encoding.encoding {
        case .utf16LE:
            bytes = bytes.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)[...]
        case .utf16BE:
            bytes = bytes.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)[...]
        default:
            break
        }
        let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        return first == UInt8(ascii: "<")
    }

    static func openXML(path: String, channel: Channel, schemas: CompiledSchemas) -> Result<OpenedDocument, Diagnostic> {
        // First a schema-less look at the root element, to choose the schema.
        guard let probeSource = try? FileSource(path: path) else {
            return .failure(Diagnostic(.unreadable, message: "the file could not be opened"))
        }
        let probe = XMLStreamReader(documentName: path, schema: nil) { try probeSource.read(into: $0) }
        var root: XMLStart?
        while let event = probe.next() {
            if case .start(let s) = event { root = s; break }
        }
        guard let root else {
            let problem = probe.problems.first.map(Diagnostic.init(xml:))
                ?? Diagnostic(.malformed, message: "the XML document has no root element")
            return .failure(problem)
        }
        func reader(_ schema: XMLSchema) -> XMLStreamReader? {
            guard let source = try? FileSource(path: path) else { return nil }
            return XMLStreamReader(documentName: path, schema: schema) { try source.read(into: $0) }
        }
        let unopenable = Diagnostic(.unreadable, message: "the file could not be opened")
        switch (channel, root.namespaceURI, root.localName) {
        case (.orders, Schemas.ordersNamespace?, "orders"):
            guard let r = reader(schemas.orders) else { return .failure(unopenable) }
            return .success(.orders(.ordersXML, OrdersXMLReader(reader: r)))
        case (.warehouse, Schemas.stockNamespace?, "stock"):
            guard let r = reader(schemas.stock) else { return .failure(unopenable) }
            return .success(.stock(.stockXML, XMLRecordReader(reader: r, namespace: Schemas.stockNamespace, element: "item",
                                                              map: WarehouseLayouts.stockItem)))
        case (.warehouse, Schemas.shipmentsNamespace?, "shipments"):
            guard let r = reader(schemas.shipments) else { return .failure(unopenable) }
            return .success(.shipments(.shipmentsXML, XMLRecordReader(reader: r, namespace: Schemas.shipmentsNamespace, element: "shipment",
                                                                      map: WarehouseLayouts.shipmentElement)))
        default:
            let ns = root.namespaceURI.map { " in namespace \($0)" } ?? " without a namespace"
            let expected = channel == .orders
                ? "<orders xmlns=\"urn:edidrop:orders:1\">"
                : "a stock report or shipment confirmation"
            return .failure(Diagnostic(.unknownFormat, line: root.line,
                                       message: "the root element is <\(root.localName)>\(ns); expected \(expected)"))
        }
    }

    static func openCSV(path: String, identity: FileIdentity, channel: Channel) -> Result<OpenedDocument, Diagnostic> {
        guard let source = try? FileSource(path: path) else {
            return .failure(Diagnostic(.unreadable, message: "the file could not be opened"))
        }
        // Read the header once to recognise the layout, then start again from the top
        // with the right reader.
        var probe = CSVReader(source: TranscodingSource(base: source, detection: identity.encoding))
        let header: CSVRecord?
        do {
            header = try probe.next()
        } catch let e as CSVError {
            return .failure(Diagnostic(e.kind == .encoding ? .encoding : .malformed, line: e.line, column: e.column, message: e.message))
        } catch {
            return .failure(Diagnostic(.unreadable, message: "the file could not be read: \(error)"))
        }
        guard let header else {
            return .failure(Diagnostic(.emptyFile, line: 1, message: "the file holds no text but a byte order mark or blank lines"))
        }
        let names = CSVColumns(header: header).names
        func fresh() -> CSVReader<TranscodingSource<FileSource>>? {
            guard let source = try? FileSource(path: path) else { return nil }
            return CSVReader(source: TranscodingSource(base: source, detection: identity.encoding), delimiter: probe.delimiter)
        }
        let unopenable = Diagnostic(.unreadable, message: "the file could not be opened")
        switch channel {
        case .orders where names.contains("order_id"):
            guard let csv = fresh() else { return .failure(unopenable) }
            return .success(.orders(.ordersCSV, OrdersCSVReader(csv: csv)))
        case .warehouse where names.contains("tracking_number") || (names.contains("order_id") && names.contains("shipped_at")):
            guard let csv = fresh() else { return .failure(unopenable) }
            return .success(.shipments(.shipmentsCSV, CSVRecordReader(csv: csv, required: WarehouseLayouts.shipmentRequired,
                                                                      layout: WarehouseLayouts.shipmentColumns, map: WarehouseLayouts.shipment)))
        case .warehouse where names.contains("sku") && (names.contains("available") || names.contains("as_of")):
            guard let csv = fresh() else { return .failure(unopenable) }
            return .success(.stock(.stockCSV, CSVRecordReader(csv: csv, required: WarehouseLayouts.stockRequired,
                                                              layout: WarehouseLayouts.stockColumns, map: WarehouseLayouts.stockLine)))
        default:
            break
        }
        let shown = header.fields.prefix(8).map(\.value).joined(separator: ", ")
        let expected = channel == .orders
            ? "an orders CSV needs the columns " + OrdersCSVReader<FileSource>.columns.joined(separator: ";")
            : "a stock report needs the columns " + WarehouseLayouts.stockColumns.joined(separator: ";")
                + ", a shipment confirmation " + WarehouseLayouts.shipmentColumns.joined(separator: ";")
        return .failure(Diagnostic(.unknownFormat, line: header.line,
                                   message: "the header (\(shown)) matches no known layout; \(expected)"))
    }
}
