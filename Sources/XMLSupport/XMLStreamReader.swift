import CLibXML2

/// Reads an XML document as a stream of events with libxml2's xmlTextReader, optionally
/// validating it against an `XMLSchema` on the way.
///
/// Memory stays flat whatever the document size: the reader frees each node once it has
/// moved past it (nothing here ever asks it to keep or expand the tree).
///
/// Fatal problems (not well-formed, bad encoding, a DOCTYPE with entities, too deep, input
/// that cannot be read) stop the stream: `next()` returns nil from then on, `failed` is
/// true and the last entry of `problems` says why. Schema validity errors are not fatal:
/// reading goes on so that every one of them in the document is collected.
///
/// Problems may be found before the events that precede them in the document have been
/// handed out, because libxml2 parses a little ahead of the node the reader is on.
public final class XMLStreamReader {
    public let documentName: String
    private let schema: XMLSchema?
    private let maxDepth: Int
    /// Shared with the C callbacks; a separate object so that they never touch `self`,
    /// not even while it is being deinitialised.
    private let sink: ProblemSink

    private var reader: xmlTextReaderPtr?
    private var validation: xmlSchemaValidCtxtPtr?
    private var started = false
    private var finished = false
    private var sawRoot = false
    private var checkedByteOrderMark = false

    private var ready: [XMLEvent] = []
    private var readyIndex = 0
    private var pendingText: String?
    private var pendingTextLine = 0
    private var lastStartLine = 1
    private var textLineFloor = 0

    /// `read` fills the buffer from its start and returns the number of bytes (0 = end of input).
    /// It is first called from the first `next()`, never from `init`.
    ///
    /// `maxDepth` counts nesting levels: the root is level 1, so an element at depth
    /// `maxDepth` (0-based) is too deep. libxml2 itself refuses more than 257 levels
    /// (without XML_PARSE_HUGE, which stays off), so larger values act as 257.
    public init(documentName: String, schema: XMLSchema?, maxDepth: Int = 256, maxProblems: Int = 1000,
                read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.documentName = documentName
        self.schema = schema
        self.maxDepth = max(1, maxDepth)
        self.sink = ProblemSink(maxProblems: maxProblems, read: read)
    }

    deinit {
        // The reader refers to the validation context (it does not own it, because it was
        // handed one), so it goes first.
        sink.reader = nil
        if let reader { xmlFreeTextReader(reader) }
        if let validation { xmlSchemaFreeValidCtxt(validation) }
    }

    /// In document order, at most `maxProblems` of them; when the cap is reached a fatal
    /// problem still replaces the last entry so the reason for stopping is never lost.
    public var problems: [XMLProblem] { sink.problems }
    /// How many more were found past the cap.
    public var problemsDropped: Int { sink.dropped }
    /// A fatal problem stopped reading.
    public var failed: Bool { sink.fatal }
    /// The error thrown by the `read` closure, if one was (the problem only says
    /// "could not read input").
    public var readError: (any Error)? { sink.readError }
    /// The encoding libxml2 decodes the document with (e.g. "UTF-8", "UTF-16",
    /// "ISO-8859-1"); nil before the first `next()`. libxml2 only names an encoding that
    /// was declared; otherwise the byte order mark decides, and without either it is
    /// UTF-8, as XML prescribes and libxml2 does.
    public var encodingName: String? {
        guard let reader else { return nil }
        if let declared = xmlTextReaderConstEncoding(reader) { return String(cString: declared) }
        return sink.byteOrderMarkEncoding ?? "UTF-8"
    }

    /// The next event, or nil at the end of the document or after a fatal problem.
    public func next() -> XMLEvent? {
        while true {
            if sink.fatal {
                ready.removeAll()
                readyIndex = 0
                return nil
            }
            if readyIndex < ready.count {
                let event = ready[readyIndex]
                readyIndex += 1
                if readyIndex == ready.count {
                    ready.removeAll(keepingCapacity: true)
                    readyIndex = 0
                }
                return event
            }
            if finished { return nil }
            advance()
        }
    }

    private func advance() {
        if !started {
            started = true
            start()
            if sink.fatal { return }
        }
        guard let reader else {
            finished = true
            return
        }
        let status = xmlTextReaderRead(reader)
        if status == 1 {
            if !checkedByteOrderMark {
                checkedByteOrderMark = true
                checkByteOrderMark(reader)
                if sink.fatal { return }
            }
            handleCurrentNode(reader)
            return
        }
        finished = true
        flushText()
        if sink.fatal { return }
        if status < 0 {
            // Every libxml2 failure should have come through the error handler; this is
            // the net for one that did not.
            sink.record(.make(.malformed, line: parserLine(reader), text: "the XML reader stopped with an error"),
                        fatal: true)
        } else if !sawRoot {
            let text = sink.bytesRead == 0 ? "the document is empty" : "the document has no root element"
            sink.record(.make(.malformed, line: nil, text: text), fatal: true)
        }
    }

    private func start() {
        LibXML2Setup.prepare()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        guard let created = xmlReaderForIO(readInput, nil, context, documentName, nil,
                                           LibXML2Setup.parserOptions) else {
            sink.record(.make(.malformed, line: nil, text: "could not start the XML reader"), fatal: true)
            return
        }
        reader = created
        sink.reader = created
        xmlTextReaderSetStructuredErrorHandler(created, reportLibXML2Error, context)

        guard let schema else { return }
        guard let validation = xmlSchemaNewValidCtxt(schema.pointer) else {
            sink.record(.make(.schema, line: nil, text: "could not create a validation context for schema \(schema.name)"),
                        fatal: true)
            return
        }
        self.validation = validation
        guard xmlTextReaderSchemaValidateCtxt(created, validation, 0) == 0 else {
            sink.record(.make(.schema, line: nil, text: "could not attach schema \(schema.name) to the reader"),
                        fatal: true)
            return
        }
        // Attaching installs a relay through the reader's handler; pointing the context at
        // ours directly keeps validity errors independent of that relay.
        xmlSchemaSetValidStructuredErrors(validation, reportLibXML2Error, context)
    }

    /// libxml2 2.9 lets an encoding declaration override a UTF-8 byte order mark, so
    /// UTF-8 text declared as ISO-8859-1 would arrive silently garbled ("é" as "Ã©").
    /// The XML declaration has been read by the time the first node exists, so one look
    /// then is enough.
    private func checkByteOrderMark(_ reader: xmlTextReaderPtr) {
        guard sink.byteOrderMarkEncoding == "UTF-8", let declared = xmlTextReaderConstEncoding(reader) else { return }
        let name = String(cString: declared)
        let normalized = name.uppercased().filter { $0 != "-" && $0 != "_" }
        guard normalized != "UTF8" else { return }
        sink.record(.make(.encoding, line: 1, column: 1,
                          text: "the document starts with a UTF-8 byte order mark but declares encoding \(name)"),
                    fatal: true)
    }

    private func handleCurrentNode(_ reader: xmlTextReaderPtr) {
        guard let node = xmlTextReaderCurrentNode(reader) else { return }
        switch xmlTextReaderNodeType(reader) {
        case Int32(XML_READER_TYPE_ELEMENT.rawValue):
            startElement(node, reader)
        case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
            flushText()
            ready.append(.end(localName: localName(node), namespaceURI: namespaceURI(node),
                              depth: Int(xmlTextReaderDepth(reader))))
        case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
             Int32(XML_READER_TYPE_WHITESPACE.rawValue), Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
            appendText(node, reader)
        case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
            let dtd = UnsafeMutableRawPointer(node).assumingMemoryBound(to: xmlDtd.self)
            if let reason = dtdForbiddenReason(dtd) {
                sink.record(.make(.forbiddenDTD, line: nil, text: reason), fatal: true)
            }
        case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue):
            // Only a DOCTYPE can declare an entity and those are refused when the reader
            // reaches them; an unexpanded reference must never pass as if it were text.
            sink.record(.make(.forbiddenDTD, line: textLine(node), text: forbiddenDTDMessage), fatal: true)
        default:
            // Comments and processing instructions carry no data; skipping them also lets
            // text around a comment arrive as one piece.
            break
        }
    }

    private func startElement(_ node: xmlNodePtr, _ reader: xmlTextReaderPtr) {
        let depth = Int(xmlTextReaderDepth(reader))
        let line = startLine(node)
        if depth >= maxDepth {
            sink.record(.make(.tooDeep, line: line, text: "elements are nested more than \(maxDepth) levels deep"),
                        fatal: true)
            return
        }
        sawRoot = true
        flushText()
        let name = localName(node)
        let uri = namespaceURI(node)
        let empty = xmlTextReaderIsEmptyElement(reader) == 1
        ready.append(.start(XMLStart(localName: name, namespaceURI: uri, attributes: attributes(of: node),
                                     line: line, depth: depth, isEmptyElement: empty)))
        if empty {
            ready.append(.end(localName: name, namespaceURI: uri, depth: depth))
        }
    }

    private func attributes(of node: xmlNodePtr) -> [XMLAttribute] {
        var result: [XMLAttribute] = []
        var current = node.pointee.properties
        while let attribute = current {
            let a = attribute.pointee
            let name = a.name.map { String(cString: $0) } ?? ""
            let uri = a.ns?.pointee.href.map { String(cString: $0) }
            result.append(XMLAttribute(localName: name, namespaceURI: uri, value: attributeValue(a)))
            current = a.next
        }
        return result
    }

    private func attributeValue(_ attribute: xmlAttr) -> String {
        guard let first = attribute.children else { return "" }
        // The usual case, one text child, is read in place; anything else is left to
        // libxml2 to flatten.
        if first.pointee.next == nil, first.pointee.type == XML_TEXT_NODE {
            return first.pointee.content.map { String(cString: $0) } ?? ""
        }
        guard let flat = xmlNodeListGetString(attribute.doc, first, 1) else { return "" }
        defer { xmlFree(flat) }
        return String(cString: flat)
    }

    private func appendText(_ node: xmlNodePtr, _ reader: xmlTextReaderPtr) {
        guard let value = xmlTextReaderConstValue(reader) else { return }
        let text = String(cString: value)
        let end = textLine(node)
        let floor = max(lastStartLine, textLineFloor)
        if let end { textLineFloor = max(textLineFloor, end) }
        if pendingText == nil {
            pendingText = text
            // libxml2 dates a text node at the end of its first piece; counting back over
            // the line breaks gives where the text begins (too far back at worst when the
            // node was built from several pieces, hence the floor).
            if let end {
                let breaks = text.utf8.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
                pendingTextLine = max(floor, end - breaks)
            } else {
                pendingTextLine = floor
            }
        } else {
            pendingText! += text
        }
    }

    private func flushText() {
        guard let text = pendingText else { return }
        pendingText = nil
        let whitespaceOnly = text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        if !whitespaceOnly {
            ready.append(.text(text, line: pendingTextLine))
        }
    }

    /// libxml2 stores element lines in 16 bits and gives up at 65535, while text nodes keep
    /// the full number (XML_PARSE_BIG_LINES). A text node's line is where its text ends,
    /// which for the whitespace between tags is the line the next tag starts on; so past
    /// 65535 the latest text line seen (or the previous start line, if later) stands in.
    /// Exact for indented documents, never backwards, never ahead of the true line.
    private func startLine(_ node: xmlNodePtr) -> Int {
        let recorded = Int(node.pointee.line)
        var line = max(lastStartLine, textLineFloor)
        if recorded > 0 && recorded < 65535 {
            line = recorded
        } else if recorded == 65535 {
            line = max(line, 65535)
        }
        lastStartLine = line
        return line
    }

    private func textLine(_ node: xmlNodePtr) -> Int? {
        let recorded = Int(node.pointee.line)
        if recorded > 0 && recorded < 65535 { return recorded }
        if recorded == 65535, node.pointee.type == XML_TEXT_NODE, let big = node.pointee.psvi {
            return Int(bitPattern: big)
        }
        return nil
    }

    private func parserLine(_ reader: xmlTextReaderPtr) -> Int? {
        let line = Int(xmlTextReaderGetParserLineNumber(reader))
        return line > 0 ? line : nil
    }

    private func localName(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    private func namespaceURI(_ node: xmlNodePtr) -> String? {
        node.pointee.ns?.pointee.href.map { String(cString: $0) }
    }
}

let forbiddenDTDMessage = "document type declarations with entities are not allowed"

/// Entities (general or parameter, internal or external) and external DTD references are
/// what make XXE, billion laughs and quadratic blow-up possible; a bare `<!DOCTYPE x>` or one
/// with only element and attribute declarations carries none of that.
func dtdIsForbidden(_ dtd: UnsafeMutablePointer<xmlDtd>?) -> Bool {
    dtdForbiddenReason(dtd) != nil
}

/// Why a DOCTYPE is refused, or nil when it is a bare `<!DOCTYPE name>`.
func dtdForbiddenReason(_ dtd: UnsafeMutablePointer<xmlDtd>?) -> String? {
    guard let d = dtd?.pointee else { return nil }
    if d.ExternalID != nil || d.SystemID != nil { return forbiddenDTDMessage }
    for table in [d.entities, d.pentities] {
        if let table, xmlHashSize(OpaquePointer(table)) > 0 { return forbiddenDTDMessage }
    }
    // Attribute defaults and element declarations are refused too: a defaulted attribute
    // is seen by schema validation but not by the reader, so the two would disagree
    // about the same document.
    if d.attributes != nil || d.elements != nil {
        return "document type declarations with attribute or element declarations are not allowed"
    }
    return nil
}

/// State the C callbacks write to. Owned by one `XMLStreamReader`, used on its thread only.
final class ProblemSink {
    let maxProblems: Int
    let read: (UnsafeMutableRawBufferPointer) throws -> Int
    var problems: [XMLProblem] = []
    var dropped = 0
    var fatal = false
    var readError: (any Error)?
    var bytesRead = 0
    /// Set once the reader exists; only read from inside libxml2's callbacks.
    var reader: xmlTextReaderPtr?
    /// The first bytes of the input, enough to recognise a byte order mark.
    private var head: [UInt8] = []

    init(maxProblems: Int, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.maxProblems = maxProblems
        self.read = read
    }

    /// After the first fatal problem libxml2 often reports follow-on errors (premature end,
    /// extra content) that only restate it; they are ignored.
    func record(_ problem: XMLProblem, fatal isFatal: Bool) {
        guard !fatal else { return }
        if isFatal { fatal = true }
        if problems.count < maxProblems {
            problems.append(problem)
        } else {
            dropped += 1
            if isFatal && !problems.isEmpty {
                problems[problems.count - 1] = problem
            }
        }
    }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int32 {
        if fatal { return -1 }
        do {
            let count = try read(buffer)
            guard count >= 0 && count <= buffer.count else {
                record(.make(.malformed, line: nil, text: "could not read input"), fatal: true)
                return -1
            }
            if head.count < 3 && count > 0 {
                head += buffer.prefix(min(count, 3 - head.count))
            }
            bytesRead += count
            return Int32(count)
        } catch {
            readError = error
            record(.make(.malformed, line: nil, text: "could not read input"), fatal: true)
            return -1
        }
    }

    var byteOrderMarkEncoding: String? {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return "UTF-8" }
        if head.starts(with: [0xFF, 0xFE]) { return "UTF-16LE" }
        if head.starts(with: [0xFE, 0xFF]) { return "UTF-16BE" }
        return nil
    }

    func libxml2Reported(_ error: xmlError) {
        let domain = UInt32(bitPattern: error.domain)
        let code = Int(error.code)
        let level = error.level.rawValue
        let line = error.line > 0 ? Int(error.line) : nil
        let column = error.int2 > 0 ? Int(error.int2) : nil
        let text = error.message.map { String(cString: $0) } ?? "libxml2 error \(code)"

        if domain == XML_FROM_SCHEMASV.rawValue || domain == XML_FROM_SCHEMASP.rawValue
            || domain == XML_FROM_DATATYPE.rawValue {
            guard level >= XML_ERR_ERROR.rawValue else { return }
            // Validity errors carry no column. Validation runs inside the parser's
            // callbacks, so the parser's position is the very point the line refers to:
            // just after the start or end tag being checked.
            var column = column
            if column == nil, let reader {
                let parserColumn = Int(xmlTextReaderGetParserColumnNumber(reader))
                if parserColumn > 0 { column = parserColumn }
            }
            record(.make(.schema, line: line, column: column, text: text),
                   fatal: code == Int(XML_SCHEMAV_INTERNAL.rawValue))
            return
        }

        // libxml2 parses ahead of the node the reader is on, so errors caused by the
        // entities (loops, amplification, undefined references, and whatever else follows)
        // can arrive before the DOCTYPE node does. Whatever the error, a document whose
        // DOCTYPE declares entities is reported for that, so the outcome does not depend
        // on where libxml2's input chunks happen to end.
        let fromParser = domain == XML_FROM_PARSER.rawValue || domain == XML_FROM_NAMESPACE.rawValue
        if fromParser, let parser = error.ctxt?.assumingMemoryBound(to: xmlParserCtxt.self),
           let doc = parser.pointee.myDoc,
           dtdIsForbidden(doc.pointee.intSubset) || dtdIsForbidden(doc.pointee.extSubset) {
            if level >= XML_ERR_ERROR.rawValue || Self.isEntityCode(code) {
                record(.make(.forbiddenDTD, line: line, column: column,
                             text: "\(forbiddenDTDMessage) (\(XMLProblem.cleanMessage(text)))"),
                       fatal: true)
            }
            return
        }

        // Warnings (non-absolute namespace URIs and the like) do not make a document wrong.
        guard level >= XML_ERR_ERROR.rawValue else { return }
        if code == Int(XML_ERR_INTERNAL_ERROR.rawValue) && text.contains("Excessive depth") {
            record(.make(.tooDeep, line: line, column: column, text: "elements are nested too deeply"), fatal: true)
        } else if code == Int(XML_ERR_DOCUMENT_EMPTY.rawValue) || (bytesRead == 0 && fromParser) {
            record(.make(.malformed, line: nil, text: "the document is empty"), fatal: true)
        } else if code == Int(XML_ERR_DOCUMENT_END.rawValue), fromParser,
                  let parser = error.ctxt?.assumingMemoryBound(to: xmlParserCtxt.self) {
            // The push parser that xmlTextReader drives reports every kind of early end as
            // "Extra content at the end of the document"; say what actually happened.
            let p = parser.pointee
            if p.nameNr > 0, let open = p.name {
                record(.make(.malformed, line: line, column: column,
                             text: "the document ends before element '\(String(cString: open))' is closed"),
                       fatal: true)
            } else if p.myDoc.flatMap({ xmlDocGetRootElement($0) }) == nil {
                record(.make(.malformed, line: line, column: column, text: "the document has no root element"),
                       fatal: true)
            } else {
                record(.make(.malformed, line: line, column: column, text: text), fatal: true)
            }
        } else if domain == XML_FROM_I18N.rawValue || Self.isEncodingCode(code) {
            record(.make(.encoding, line: line, column: column, text: text), fatal: true)
        } else {
            // Namespace errors (an undeclared prefix) are not fatal to libxml2, but such a
            // document is not namespace-well-formed and its names cannot be trusted.
            record(.make(.malformed, line: line, column: column, text: text), fatal: true)
        }
    }

    static func isEncodingCode(_ code: Int) -> Bool {
        [XML_ERR_INVALID_CHAR, XML_ERR_UNKNOWN_ENCODING, XML_ERR_UNSUPPORTED_ENCODING,
         XML_ERR_ENCODING_NAME, XML_ERR_INVALID_ENCODING, XML_IO_ENCODER]
            .contains { Int($0.rawValue) == code }
    }

    static func isEntityCode(_ code: Int) -> Bool {
        [XML_ERR_UNDECLARED_ENTITY, XML_WAR_UNDECLARED_ENTITY, XML_ERR_UNPARSED_ENTITY,
         XML_ERR_ENTITY_IS_EXTERNAL, XML_ERR_ENTITY_IS_PARAMETER, XML_ERR_ENTITY_LOOP,
         XML_ERR_ENTITY_BOUNDARY, XML_ERR_ENTITY_PE_INTERNAL, XML_ERR_ENTITY_CHAR_ERROR,
         XML_ERR_ENTITY_PROCESSING, XML_ERR_ENTITY_NOT_STARTED, XML_ERR_ENTITY_NOT_FINISHED,
         XML_ERR_EXT_ENTITY_STANDALONE, XML_WAR_ENTITY_REDEFINED]
            .contains { Int($0.rawValue) == code }
    }
}

private func readInput(_ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                       _ length: Int32) -> Int32 {
    guard let context, let buffer, length > 0 else { return 0 }
    let sink = Unmanaged<ProblemSink>.fromOpaque(context).takeUnretainedValue()
    return sink.fill(UnsafeMutableRawBufferPointer(start: buffer, count: Int(length)))
}

private func reportLibXML2Error(_ userData: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
    guard let userData, let error else { return }
    Unmanaged<ProblemSink>.fromOpaque(userData).takeUnretainedValue().libxml2Reported(error.pointee)
}
