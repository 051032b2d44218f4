import XMLSupport

/// The formats edidrop reads. The raw value is stored in the ledger and shown to users.
public enum DocumentFormat: String, Codable, Sendable, CaseIterable {
    case ordersCSV = "orders-csv"
    case ordersXML = "orders-xml"
    case customOrdersCSV = "custom-orders-csv"
    case shopifyOrdersCSV = "shopify-orders-csv"
    case ublOrder = "ubl-order"
    case stockCSV = "stock-csv"
    case stockXML = "stock-xml"
    case ublInventoryReport = "ubl-inventory-report"
    case shipmentsCSV = "shipments-csv"
    case shipmentsXML = "shipments-xml"
    case ublDespatchAdvice = "ubl-despatch-advice"

    public var title: String {
        switch self {
        case .ordersCSV: return "canonical orders CSV"
        case .ordersXML: return "canonical orders XML (urn:edidrop:orders:1)"
        case .customOrdersCSV: return "the shop's own orders CSV ([formats.orders_csv.columns])"
        case .shopifyOrdersCSV: return "Shopify orders export CSV"
        case .ublOrder: return "UBL 2.1 Order XML"
        case .stockCSV: return "stock report CSV"
        case .stockXML: return "stock report XML (urn:edidrop:stock:1)"
        case .ublInventoryReport: return "UBL 2.1 InventoryReport XML"
        case .shipmentsCSV: return "shipment confirmations CSV"
        case .shipmentsXML: return "shipment confirmations XML (urn:edidrop:shipments:1)"
        case .ublDespatchAdvice: return "UBL 2.1 DespatchAdvice XML"
        }
    }
}

/// An opened document, ready to be read record by record.
public struct OpenedDocument {
    public enum Content {
        case orders(any OrderDraftReader)
        case stock(any RecordReader<StockLineDraft>)
        case shipments(any RecordReader<ShipmentDraft>)
    }

    public var format: DocumentFormat
    /// How the text is decoded when that is not what the byte sniffer said: an XML
    /// document is decoded by libxml2 from its own declaration (e.g. "ISO-8859-2 (declared
    /// in the XML declaration)"). Nil: the sniffer's description holds.
    public var encoding: String?
    public var content: Content

    public init(format: DocumentFormat, encoding: String? = nil, content: Content) {
        self.format = format
        self.encoding = encoding
        self.content = content
    }
}

/// Tells formats apart by content (XML root and namespace, CSV header), never by the
/// file's name, and opens the matching reader.
public enum DocumentOpener {
    /// From this size on, an XML file is parsed and validated on a thread of its own while
    /// the caller's thread builds events and records from it (about 40% less time for a
    /// 20 MB file on two cores); below it, a thread would cost more than it saves.
    static let concurrentXMLParsing: Int64 = 1 << 20

    public static func open(path: String, identity: FileIdentity, channel: Channel,
                            schemas: CompiledSchemas, configuration: SpoolConfiguration,
                            meter: ReadMeter? = nil) -> Result<OpenedDocument, Diagnostic> {
        let head = identity.head
        if looksLikeXML(head, encoding: identity.encoding) {
            return openXML(path: path, channel: channel, schemas: schemas, identity: identity, meter: meter)
        }
        if identity.encoding.encoding != .utf16LE, identity.encoding.encoding != .utf16BE,
           let nul = head.firstIndex(of: 0) {
            let line = head[..<nul].filter { $0 == 0x0A }.count + 1
            return .failure(Diagnostic(.unknownFormat, line: line,
                                       message: "the file holds binary data (a NUL byte at line \(line)), not CSV or XML text"))
        }
        return openCSV(path: path, identity: identity, channel: channel, configuration: configuration, meter: meter)
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

    static func openXML(path: String, channel: Channel, schemas: CompiledSchemas,
                        identity: FileIdentity, meter: ReadMeter? = nil) -> Result<OpenedDocument, Diagnostic> {
        let sniffed = identity.encoding
        // First a schema-less look at the root element, to choose the schema.
        guard let probeSource = try? FileSource(path: path, identity: identity) else {
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
        if let mislabelled = declaredSingleByteButUTF8(probe.encodingName, sniffed: sniffed, path: path, head: identity.head) {
            return .failure(mislabelled)
        }
        let encoding = xmlEncodingDescription(probe.encodingName, sniffed: sniffed)
        func reader(_ schema: XMLSchema?) -> XMLStreamReader? {
            guard let source = try? FileSource(path: path, identity: identity, meter: meter) else { return nil }
            return XMLStreamReader(documentName: path, schema: schema,
                                   concurrent: identity.size >= Self.concurrentXMLParsing) { try source.read(into: $0) }
        }
        func opened(_ format: DocumentFormat, _ content: Content) -> Result<OpenedDocument, Diagnostic> {
            .success(OpenedDocument(format: format, encoding: encoding, content: content))
        }
        typealias Content = OpenedDocument.Content
        let unopenable = Diagnostic(.unreadable, message: "the file could not be opened")
        switch (channel, root.namespaceURI, root.localName) {
        case (.orders, Schemas.ordersNamespace?, "orders"):
            guard let r = reader(schemas.orders) else { return .failure(unopenable) }
            return opened(.ordersXML, .orders(OrdersXMLReader(reader: r)))
        case (.orders, UBL.orderNamespace?, "Order"):
            // UBL documents are read without their (large, multi-file) schema: the fields
            // edidrop uses are checked by the same rules as every other order.
            guard let r = reader(nil) else { return .failure(unopenable) }
            return opened(.ublOrder, .orders(UBLOrderReader(reader: r)))
        case (.warehouse, Schemas.stockNamespace?, "stock"):
            guard let r = reader(schemas.stock) else { return .failure(unopenable) }
            return opened(.stockXML, .stock(XMLRecordReader(reader: r, namespace: Schemas.stockNamespace, element: "item",
                                                             map: WarehouseLayouts.stockItem)))
        case (.warehouse, UBL.inventoryReportNamespace?, "InventoryReport"):
            guard let r = reader(nil) else { return .failure(unopenable) }
            return opened(.ublInventoryReport, .stock(UBLInventoryReportReader(reader: r)))
        case (.warehouse, Schemas.shipmentsNamespace?, "shipments"):
            guard let r = reader(schemas.shipments) else { return .failure(unopenable) }
            return opened(.shipmentsXML, .shipments(XMLRecordReader(reader: r, namespace: Schemas.shipmentsNamespace, element: "shipment",
                                                                     map: WarehouseLayouts.shipmentElement)))
        case (.warehouse, UBL.despatchAdviceNamespace?, "DespatchAdvice"):
            guard let r = reader(nil) else { return .failure(unopenable) }
            return opened(.ublDespatchAdvice, .shipments(UBLDespatchAdviceReader(reader: r)))
        default:
            let ns = root.namespaceURI.map { " in namespace \($0)" } ?? " without a namespace"
            let expected = channel == .orders
                ? "<orders xmlns=\"urn:edidrop:orders:1\"> or a UBL 2.1 <Order xmlns=\"\(UBL.orderNamespace)\">"
                : "a stock report (<stock xmlns=\"urn:edidrop:stock:1\"> or UBL 2.1 InventoryReport) or a shipment confirmation"
                    + " (<shipments xmlns=\"urn:edidrop:shipments:1\"> or UBL 2.1 DespatchAdvice)"
            return .failure(Diagnostic(.unknownFormat, line: root.line,
                                       message: "the root element is <\(root.localName)>\(ns); expected \(expected)"))
        }
    }

    /// libxml2 decodes an XML document by its byte order mark or its declaration, not by
    /// the configured fallback, so when the two differ the ledger should say what libxml2
    /// used. Nil when the sniffer's description already holds.
    static func xmlEncodingDescription(_ name: String?, sniffed: EncodingDetection) -> String? {
        guard let name else { return nil }
        let known = TextEncoding(configName: name)
        if known == sniffed.encoding && !sniffed.fallbackUsed { return nil }
        if known == .utf8 {
            return "UTF-8 (the XML default; the bytes are not all valid UTF-8)"
        }
        return "\(known?.rawValue ?? name.uppercased()) (declared in the XML document)"
    }

    /// A document that declares a single-byte encoding (ISO-8859-1, windows-1250, …) while
    /// its bytes are UTF-8 with letters beyond ASCII: read as declared, "Łódź" would reach
    /// the warehouse as "Å\u{81}Ã³dÅº". Exporters that write UTF-8 under a copied
    /// declaration do this; UTF-8 multi-byte sequences almost never occur in real
    /// single-byte text, so the contradiction is refused rather than guessed away.
    static func declaredSingleByteButUTF8(_ declared: String?, sniffed: EncodingDetection, path: String,
                                          head: [UInt8]) -> Diagnostic? {
        guard let declared, sniffed.encoding == .utf8, sniffed.bomLength == 0, !sniffed.fallbackUsed else { return nil }
        let key = declared.uppercased().filter { $0 != "-" && $0 != "_" }
        guard !key.hasPrefix("UTF"), !key.hasPrefix("UCS"), key != "USASCII", key != "ASCII" else { return nil }
        guard head.contains(where: { $0 >= 0x80 }) || fileHasNonASCII(path) else { return nil }
        return Diagnostic(.encoding, line: 1,
                          message: "the document declares encoding=\"\(declared)\" but its bytes are UTF-8: read as \(declared), every letter beyond ASCII would reach the warehouse garbled",
                          hint: "declare encoding=\"UTF-8\" (or save the file in \(declared))")
    }

    private static func fileHasNonASCII(_ path: String) -> Bool {
        guard let source = try? FileSource(path: path) else { return false }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        while let n = try? source.read(into: buffer), n > 0 {
            if buffer[0..<n].contains(where: { $0 >= 0x80 }) { return true }
        }
        return false
    }

    static func openCSV(path: String, identity: FileIdentity, channel: Channel,
                        configuration: SpoolConfiguration, meter: ReadMeter? = nil) -> Result<OpenedDocument, Diagnostic> {
        guard let source = try? FileSource(path: path, identity: identity) else {
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
        // Spaces and tabs alone are no header a person wrote: an empty file, not an unknown
        // layout. (A header of delimiters only, ";;;", is a layout, just an unknown one.)
        if header.fields.count == 1, header.fields[0].value.trimmingSpaces.isEmpty {
            var blank = true
            while blank {
                do {
                    guard let record = try probe.next() else { break }
                    blank = record.fields.allSatisfy { $0.value.trimmingSpaces.isEmpty }
                } catch {
                    blank = false // a broken file is reported by the reader that follows
                }
            }
            if blank {
                return .failure(Diagnostic(.emptyFile, line: 1, message: "the file holds nothing but spaces, tabs and line breaks"))
            }
        }
        func fresh() -> CSVReader<TranscodingSource<FileSource>>? {
            guard let source = try? FileSource(path: path, identity: identity, meter: meter) else { return nil }
            return CSVReader(source: TranscodingSource(base: source, detection: identity.encoding), delimiter: probe.delimiter)
        }
        func opened(_ format: DocumentFormat, _ content: (CSVReader<TranscodingSource<FileSource>>) -> OpenedDocument.Content)
            -> Result<OpenedDocument, Diagnostic> {
            guard let csv = fresh() else { return .failure(Diagnostic(.unreadable, message: "the file could not be opened")) }
            return .success(OpenedDocument(format: format, content: content(csv)))
        }
        let layout = configuration.formats.ordersCSV
        // The canonical orders header, exactly, needs no table of names (see
        // `OrdersCSVLayout.isCanonical`); a shop's own layout is looked for first.
        if channel == .orders && layout.columns.isEmpty && OrdersCSVLayout.isCanonical(header) {
            // Read on from the look at the header, unless the reading is metered (a big
            // file's progress counts its bytes from the top, through a fresh source).
            if meter != nil { return opened(.ordersCSV) { .orders(OrdersCSVReader(csv: $0)) } }
            return .success(OpenedDocument(format: .ordersCSV,
                                           content: .orders(OrdersCSVReader(continuing: probe, afterCanonicalHeader: header))))
        }
        // Looked up by name (a Set of the names is built only for the Shopify check).
        let columns = CSVColumns(header: header)
        switch channel {
        case .orders where !layout.columns.isEmpty && columns.has(CSVColumns.normalized(layout.header(for: "order_id"))):
            // The shop's own layout wins over the canonical one: a mapping that renames only
            // some columns still keeps `order_id` and must be read with the mapping.
            return opened(.customOrdersCSV) { .orders(OrdersCSVReader(csv: $0, columns: layout.columns)) }
        case .orders where columns.has("order_id"):
            return opened(.ordersCSV) { .orders(OrdersCSVReader(csv: $0)) }
        case .orders where ShopifyOrdersReader<FileSource>.matches(columns.names):
            return opened(.shopifyOrdersCSV) { .orders(ShopifyOrdersReader(csv: $0)) }
        case .warehouse where columns.has("tracking_number") || (columns.has("order_id") && columns.has("shipped_at")):
            return opened(.shipmentsCSV) {
                .shipments(CSVRecordReader(csv: $0, required: WarehouseLayouts.shipmentRequired,
                                           layout: WarehouseLayouts.shipmentColumns, map: WarehouseLayouts.shipment))
            }
        case .warehouse where columns.has("sku") && (columns.has("available") || columns.has("as_of")):
            return opened(.stockCSV) {
                .stock(CSVRecordReader(csv: $0, required: WarehouseLayouts.stockRequired,
                                       layout: WarehouseLayouts.stockColumns, map: WarehouseLayouts.stockLine))
            }
        default:
            break
        }
        let shown = header.fields.prefix(8).map(\.value).joined(separator: ", ")
        var expected: String
        if channel == .orders {
            expected = "an orders CSV needs the columns " + OrdersCSVReader<FileSource>.columns.joined(separator: ";")
                + "; a Shopify orders export has Name, Lineitem quantity and Lineitem sku"
            if !layout.columns.isEmpty {
                expected += "; the shop's own layout ([formats.orders_csv.columns]) has \"\(layout.header(for: "order_id"))\""
            }
        } else {
            expected = "a stock report needs the columns " + WarehouseLayouts.stockColumns.joined(separator: ";")
                + ", a shipment confirmation " + WarehouseLayouts.shipmentColumns.joined(separator: ";")
        }
        return .failure(Diagnostic(.unknownFormat, line: header.line,
                                   message: "the header (\(shown)) matches no known layout; \(expected)"))
    }

    /// Reads a file as processing does (encoding, format, schema, records) but applies no
    /// rules and records nothing: `edidrop parse`, which measures parsing alone.
    public static func parseOnly(path: String, identity: FileIdentity, channel: Channel,
                                 schemas: CompiledSchemas, configuration: SpoolConfiguration) -> (format: DocumentFormat?, records: Int, findings: Int) {
        switch open(path: path, identity: identity, channel: channel, schemas: schemas, configuration: configuration) {
        case .failure:
            return (nil, 0, 1)
        case .success(let document):
            var records = 0
            var findings = 0
            switch document.content {
            case .orders(var reader):
                while let draft = reader.next() { records += 1; findings += draft.findings.count }
                findings += reader.findings.count
            case .stock(var reader):
                while reader.next() != nil { records += 1 }
                findings += reader.findings.count
            case .shipments(var reader):
                while reader.next() != nil { records += 1 }
                findings += reader.findings.count
            }
            return (document.format, records, findings)
        }
    }

    /// Orders a document holds that are not for the warehouse (a Shopify order with
    /// nothing to ship), for `edidrop validate`, which sees only the dry run's record.
    /// Reads the document once more; nothing else is done with it.
    public static func skippedOrders(path: String, identity: FileIdentity, channel: Channel,
                                     schemas: CompiledSchemas, configuration: SpoolConfiguration) -> [SkippedOrder] {
        guard case .success(let document) = open(path: path, identity: identity, channel: channel,
                                                 schemas: schemas, configuration: configuration),
              case .orders(var reader) = document.content else { return [] }
        while reader.next() != nil {}
        return reader.skipped
    }
}
