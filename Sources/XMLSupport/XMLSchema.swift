import CLibXML2

/// An XSD compiled once from its text (no file or network access) and reused for many documents.
///
/// libxml2 treats a compiled schema as read-only during validation, each document getting
/// its own validation context, so one instance may serve readers on several threads.
public final class XMLSchema: @unchecked Sendable {
    public let name: String
    let pointer: xmlSchemaPtr

    /// Throws an `XMLProblem` of kind `.schema` (the first error libxml2 reported) when the
    /// XSD is not well-formed or not a valid schema. xs:include and xs:import of other
    /// files are refused like every external load.
    public init(xsd: String, name: String) throws {
        LibXML2Setup.prepare()
        self.name = name
        let collector = SchemaErrorCollector()
        let context = Unmanaged.passUnretained(collector).toOpaque()

        let length = xsd.utf8.count
        let compiled: xmlSchemaPtr? = xsd.withCString { text -> xmlSchemaPtr? in
            guard length > 0, length <= Int(Int32.max),
                  let parserContext = xmlSchemaNewMemParserCtxt(text, Int32(length)) else { return nil }
            defer { xmlSchemaFreeParserCtxt(parserContext) }
            xmlSchemaSetParserStructuredErrors(parserContext, collectSchemaError, context)
            // The XSD's own XML parse runs on an inner parser context that reports to the
            // thread's structured handler, not to the schema context; borrow that handler
            // for the duration so those errors get a line instead of going to stderr.
            return LibXML2Setup.withStructuredErrors(to: collectSchemaError, context: context) {
                xmlSchemaParse(parserContext)
            }
        }

        guard let compiled, collector.firstError == nil else {
            if let compiled { xmlSchemaFree(compiled) }
            let detail = collector.firstError ?? XMLProblem.make(.schema, line: nil, text: xsd.isEmpty
                ? "the schema text is empty" : "the schema could not be compiled")
            throw XMLProblem(kind: .schema, line: detail.line, column: detail.column,
                             message: "schema \(name): \(detail.message)")
        }
        pointer = compiled
    }

    deinit {
        xmlSchemaFree(pointer)
    }
}

private final class SchemaErrorCollector {
    var firstError: XMLProblem?
}

private func collectSchemaError(_ userData: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
    guard let userData, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    let collector = Unmanaged<SchemaErrorCollector>.fromOpaque(userData).takeUnretainedValue()
    guard collector.firstError == nil else { return }
    let e = error.pointee
    let text = e.message.map { String(cString: $0) } ?? "schema error \(e.code)"
    collector.firstError = XMLProblem.make(.schema, line: e.line > 0 ? Int(e.line) : nil,
                                           column: e.int2 > 0 ? Int(e.int2) : nil, text: text)
}
