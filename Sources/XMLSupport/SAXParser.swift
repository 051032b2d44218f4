import CLibXML2
#if canImport(Glibc)
import Glibc
#endif

/// One chunk's worth of parsed events in a compact form that costs the parsing thread
/// little to write and the reading thread little to receive: names are numbers in the
/// reader's name table, attribute values and text are ranges of `bytes`.
struct EventBatch {
    enum Record {
        case start(name: Int32, namespace: Int32, line: Int, depth: Int, empty: Bool, attributes: Range<Int>)
        case end(name: Int32, namespace: Int32, depth: Int)
        case text(Range<Int>, line: Int)
    }

    struct Attribute {
        var name: Int32
        var namespace: Int32
        var value: Range<Int>
    }

    var records: [Record] = []
    var attributes: [Attribute] = []
    var bytes = ByteRun()
    /// Names first seen in this chunk, numbered on from the previous batches' names.
    var names: [String] = []
    var problems: [(problem: XMLProblem, fatal: Bool)] = []
    var dropped = 0
    var readError: (any Error)?
    /// Once the parser exists.
    var encodingName: String?
    /// Nothing follows: the document ended or a fatal problem stopped it.
    var isLast = false
}

/// libxml2's SAX2 push parser, with the schema (if any) plugged into its event flow
/// (`xmlSchemaSAXPlug`), turning input into `EventBatch`es one chunk at a time. Used by
/// one thread at a time; all libxml2 objects live and die here, C types stay in this file.
final class SAXParser {
    private let documentName: String
    private let schema: XMLSchema?
    private let state: ParseState
    private var parser: xmlParserCtxtPtr?
    private var validation: xmlSchemaValidCtxtPtr?
    private var plug: xmlSchemaSAXPlugPtr?
    /// The handler and the two cells xmlSchemaSAXPlug rewrites (and xmlSchemaSAXUnplug
    /// writes back to) must live as long as the parser, so they are allocated here rather
    /// than passed as Swift temporaries.
    private let handler: UnsafeMutablePointer<xmlSAXHandler>
    private let handlerCell: UnsafeMutablePointer<xmlSAXHandlerPtr?>
    private let userDataCell: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let chunk: UnsafeMutableRawBufferPointer
    private var started = false
    private var finished = false

    /// Input is read this many bytes at a time; a chunk's events are all a batch holds.
    /// 128 KiB rather than 32: a quarter of the hand-overs between the two threads, and in
    /// alternating runs on a 20 MB file the faster of the two every time (0.25-0.29 s
    /// against 0.26-0.40 s), for about 1 MiB more at the peak.
    static let chunkSize = 128 * 1024

    init(documentName: String, schema: XMLSchema?, maxDepth: Int, maxProblems: Int,
         read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.documentName = documentName
        self.schema = schema
        state = ParseState(maxDepth: maxDepth, maxProblems: maxProblems, read: read)
        handler = .allocate(capacity: 1)
        handler.initialize(to: xmlSAXHandler())
        handlerCell = .allocate(capacity: 1)
        handlerCell.initialize(to: handler)
        userDataCell = .allocate(capacity: 1)
        userDataCell.initialize(to: Unmanaged.passUnretained(state).toOpaque())
        chunk = .allocate(byteCount: Self.chunkSize, alignment: 16)
    }

    deinit {
        // The parser holds its own copy of the (possibly plugged) handler; the plug refers
        // to the validation context and to `handler`, so the order is parser, plug,
        // validation context, then the memory they pointed into.
        state.parser = nil
        if let parser {
            // Even without a tree, libxml2 files a DOCTYPE's entity declarations in a
            // stand-in document "for expat compatibility" (never looked up here: there is
            // no getEntity callback); the parser context does not free it.
            if let document = parser.pointee.myDoc { xmlFreeDoc(document) }
            xmlFreeParserCtxt(parser)
        }
        if let plug { xmlSchemaSAXUnplug(plug) }
        if let validation { xmlSchemaFreeValidCtxt(validation) }
        handler.deinitialize(count: 1)
        handler.deallocate()
        handlerCell.deallocate()
        userDataCell.deallocate()
        chunk.deallocate()
    }

    /// Reads and parses the next chunk (the first call also sets the parser up) and returns
    /// what it produced. After a batch marked `isLast`, only empty last batches follow.
    func nextBatch() -> EventBatch {
        if finished || state.fatal {
            return EventBatch(encodingName: parser.map(state.encodingName), isLast: true)
        }
        if !started {
            started = true
            start()
        } else if let parser {
            parseChunk(parser)
        } else {
            finished = true
        }
        if let parser { state.batch.encodingName = state.encodingName(parser) }
        if finished { state.batch.isLast = true }
        let batch = state.batch
        // Chunks are alike: room for as much as the last one needed saves growing the
        // arrays element by element.
        state.batch = EventBatch()
        state.batch.records.reserveCapacity(batch.records.count)
        state.batch.attributes.reserveCapacity(batch.attributes.count)
        state.batch.bytes.reserve(batch.bytes.count)
        return batch
    }

    private func parseChunk(_ parser: xmlParserCtxtPtr) {
        let count = state.fill(chunk)
        if count < 0 {
            finished = true
            return
        }
        withErrorsRouted {
            if count == 0 {
                _ = xmlParseChunk(parser, nil, 0, 1)
            } else {
                _ = xmlParseChunk(parser, chunk.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(count), 0)
            }
        }
        if count == 0 {
            finished = true
            state.finish(parser)
        }
    }

    private func start() {
        LibXML2Setup.prepare()
        ParseState.install(on: handler)

        if let schema {
            guard let validation = xmlSchemaNewValidCtxt(schema.pointer) else {
                state.record(.make(.schema, line: nil, text: "could not create a validation context for schema \(schema.name)"),
                             fatal: true)
                return
            }
            self.validation = validation
            let context = Unmanaged.passUnretained(state).toOpaque()
            xmlSchemaSetValidStructuredErrors(validation, reportLibXML2Error, context)
            guard let plugged = xmlSchemaSAXPlug(validation, handlerCell, userDataCell) else {
                state.record(.make(.schema, line: nil, text: "could not attach schema \(schema.name) to the parser"),
                             fatal: true)
                return
            }
            plug = plugged
            // Validity errors carry the line the parser is on (SAX gives the validator no
            // nodes to take a line from).
            xmlSchemaValidateSetLocator(validation, locateForSchema, context)
        }

        // libxml2 picks the encoding from the first four bytes when the parser is created
        // (a byte order mark, or "<?xm" in UTF-16 or UCS-4), so they are read first.
        var count = 0
        while count < 4 {
            let n = state.fill(UnsafeMutableRawBufferPointer(rebasing: chunk[count...]))
            if n < 0 { return }
            if n == 0 { break }
            count += n
        }
        let base = chunk.baseAddress!.assumingMemoryBound(to: CChar.self)
        let head = min(count, 4)
        let created: xmlParserCtxtPtr? = withErrorsRouted {
            xmlCreatePushParserCtxt(handlerCell.pointee, userDataCell.pointee, head > 0 ? base : nil,
                                    Int32(head), documentName)
        }
        guard let created else {
            state.record(.make(.malformed, line: nil, text: "could not start the XML parser"), fatal: true)
            return
        }
        parser = created
        state.parser = created
        _ = xmlCtxtUseOptions(created, LibXML2Setup.parserOptions)
        if count > head {
            withErrorsRouted { _ = xmlParseChunk(created, base + head, Int32(count - head), 0) }
        } else if count == 0 {
            withErrorsRouted { _ = xmlParseChunk(created, nil, 0, 1) }
            finished = true
            state.finish(created)
        }
    }

    /// Parser errors go through libxml2's structured handler of the calling thread (the
    /// SAX handler's own `serror` would be handed the schema plug's data instead of ours).
    /// It is set for the duration of each libxml2 call and put back afterwards.
    private func withErrorsRouted<T>(_ body: () -> T) -> T {
        LibXML2Setup.withStructuredErrors(to: reportLibXML2Error, context: Unmanaged.passUnretained(state).toOpaque(), body)
    }
}

let forbiddenDTDMessage = "document type declarations with entities are not allowed"

/// State the C callbacks write to: the batch of the chunk being parsed. Owned by one
/// `SAXParser`, used on the thread that parses.
final class ParseState {
    let maxDepth: Int
    let maxProblems: Int
    let read: (UnsafeMutableRawBufferPointer) throws -> Int
    var batch = EventBatch()
    /// Problems put into batches so far (the reader keeps at most `maxProblems`, plus a fatal one).
    private var problemsSent = 0
    var fatal = false
    var bytesRead = 0
    /// Set once the parser exists; only read from inside libxml2's callbacks.
    var parser: xmlParserCtxtPtr?

    private var depth = 0
    private var sawRoot = false
    private var sawDoctype = false
    private var text = ByteRun()
    private var textHasContent = false
    private var textLine = 0
    private var lastStartLine = 1
    /// Element and attribute names and namespace URIs by the address libxml2 keeps them
    /// at, to their number in the reader's name table. They come from the parser's
    /// dictionary, one address per distinct name for the parser's lifetime, so each is
    /// turned into a String once, not once per element.
    private var nameNumbers: [UnsafePointer<xmlChar>: Int32] = [:]
    private var namesSent: Int32 = 0
    private var recentNames = [(pointer: UnsafePointer<xmlChar>?, number: Int32)](repeating: (nil, -1), count: 256)
    /// The first bytes of the input, enough to recognise a byte order mark.
    private var head: [UInt8] = []

    init(maxDepth: Int, maxProblems: Int, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.maxDepth = maxDepth
        self.maxProblems = maxProblems
        self.read = read
    }

    /// After the first fatal problem libxml2 often reports follow-on errors (premature end,
    /// extra content) that only restate it; they are ignored, and so is every event after it.
    /// Past the cap only a count travels (the reader keeps the fatal one in any case).
    func record(_ problem: XMLProblem, fatal isFatal: Bool) {
        guard !fatal else { return }
        if isFatal {
            fatal = true
            batch.isLast = true
        }
        if problemsSent < maxProblems || isFatal {
            batch.problems.append((problem, isFatal))
            problemsSent += 1
        } else {
            batch.dropped += 1
        }
    }

    /// The number of bytes read, 0 at the end, -1 after a failure (recorded as fatal).
    func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
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
            return count
        } catch {
            batch.readError = error
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

    /// The encoding named in the XML declaration, as libxml2 recorded it.
    func declaredEncoding(_ parser: xmlParserCtxtPtr) -> String? {
        if let name = parser.pointee.encoding { return String(cString: name) }
        if let name = parser.pointee.input?.pointee.encoding { return String(cString: name) }
        return nil
    }

    /// What `XMLStreamReader.encodingName` says once the parser exists.
    func encodingName(_ parser: xmlParserCtxtPtr) -> String {
        declaredEncoding(parser) ?? byteOrderMarkEncoding ?? "UTF-8"
    }

    /// After the last chunk: what libxml2 did not say itself.
    func finish(_ parser: xmlParserCtxtPtr) {
        guard !fatal else { return }
        if !sawRoot {
            let text = bytesRead == 0 ? "the document is empty" : "the document has no root element"
            record(.make(.malformed, line: nil, text: text), fatal: true)
        } else if parser.pointee.wellFormed == 0 {
            // Every libxml2 failure should have come through the error handler; this is
            // the net for one that did not.
            record(.make(.malformed, line: currentLine, text: "the XML parser stopped with an error"), fatal: true)
        }
    }

    private var currentLine: Int? {
        guard let line = parser?.pointee.input?.pointee.line, line > 0 else { return nil }
        return Int(line)
    }

    private var currentColumn: Int? {
        guard let column = parser?.pointee.input?.pointee.col, column > 0 else { return nil }
        return Int(column)
    }

    // MARK: SAX events

    /// The name's number in the reader's table, -1 for none.
    private func name(_ pointer: UnsafePointer<xmlChar>?) -> Int32 {
        guard let pointer else { return -1 }
        // A document uses a handful of names over and over: a direct-mapped cache in front
        // of the dictionary answers nearly every lookup without hashing. Names sit a few
        // bytes apart in libxml2's pool: Fibonacci hashing spreads them over the slots.
        let slot = Int(truncatingIfNeeded: (UInt64(UInt(bitPattern: pointer)) &* 0x9E37_79B9_7F4A_7C15) >> 56)
        if recentNames[slot].pointer == pointer { return recentNames[slot].number }
        if let known = nameNumbers[pointer] {
            recentNames[slot] = (pointer, known)
            return known
        }
        let number = namesSent
        namesSent += 1
        batch.names.append(String(cString: pointer))
        // Only what the dictionary owns is sure to stay put (and unchanged); checked once per name.
        if let dictionary = parser?.pointee.dict, xmlDictOwns(dictionary, pointer) == 1 {
            nameNumbers[pointer] = number
            recentNames[slot] = (pointer, number)
        }
        return number
    }

    /// libxml2 2.9 lets an encoding declaration override a UTF-8 byte order mark, so
    /// UTF-8 text declared as ISO-8859-1 would arrive silently garbled ("é" as "Ã©").
    /// The XML declaration has been read when the document starts.
    func startDocument() {
        guard !fatal, byteOrderMarkEncoding == "UTF-8", let parser, let name = declaredEncoding(parser) else { return }
        let normalized = name.uppercased().filter { $0 != "-" && $0 != "_" }
        guard normalized != "UTF8" else { return }
        record(.make(.encoding, line: 1, column: 1,
                     text: "the document starts with a UTF-8 byte order mark but declares encoding \(name)"),
               fatal: true)
    }

    func startElement(localName: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?, count: Int,
                      attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        guard !fatal else { return }
        let line = max(currentLine ?? lastStartLine, lastStartLine)
        lastStartLine = line
        if depth >= maxDepth {
            record(.make(.tooDeep, line: line, text: "elements are nested more than \(maxDepth) levels deep"),
                   fatal: true)
            return
        }
        // The parser stops at the tag's closing "/>" or ">" when it reports the start. A
        // start tag cut off by the end of the input is reported too, and libxml2 only
        // complains after the schema has already judged the half tag; saying it first keeps
        // the report to the one problem that matters.
        var empty = false
        // Fields are read through the pointer: binding `input.pointee` would copy the whole
        // struct for every element.
        if let input = parser?.pointee.input, let cursor = input.pointee.cur, let end = input.pointee.end, cursor < end,
           cursor[0] == UInt8(ascii: ">") || (end - cursor >= 2 && cursor[0] == UInt8(ascii: "/")
                                              && cursor[1] == UInt8(ascii: ">")) {
            empty = cursor[0] == UInt8(ascii: "/")
        } else {
            let name = localName.map { String(cString: $0) } ?? ""
            record(.make(.malformed, line: line, column: currentColumn, text: "couldn't find end of Start Tag \(name)"),
                   fatal: true)
            return
        }
        sawRoot = true
        flushText()
        let first = batch.attributes.count
        if count > 0, let attributes {
            // Five pointers per attribute: local name, prefix, namespace URI, value start, value end.
            for index in stride(from: 0, to: count * 5, by: 5) {
                let start = batch.bytes.count
                if let from = attributes[index + 3], let to = attributes[index + 4] {
                    Self.appendAttributeValue(UnsafeBufferPointer(start: from, count: to - from), to: &batch.bytes)
                }
                batch.attributes.append(EventBatch.Attribute(name: name(attributes[index]),
                                                             namespace: name(attributes[index + 2]),
                                                             value: start..<batch.bytes.count))
            }
        }
        batch.records.append(.start(name: name(localName), namespace: name(uri), line: line, depth: depth,
                                    empty: empty, attributes: first..<batch.attributes.count))
        depth += 1
    }

    /// Without entity replacement (XML_PARSE_NOENT stays off) libxml2 hands an attribute
    /// value over with every "&" (written `&amp;` or `&#38;`) as the text "&#38;", for the
    /// tree builder to decode; every other reference is already resolved, and an entity
    /// of the document's own cannot occur (its declaration is refused). So "&#38;" is the
    /// one thing to turn back into "&".
    static func appendAttributeValue(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout ByteRun) {
        guard let base = bytes.baseAddress, memchr(base, Int32(UInt8(ascii: "&")), bytes.count) != nil else {
            out.append(bytes)
            return
        }
        let escaped: [UInt8] = Array("&#38;".utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "&"), bytes.count - index >= escaped.count,
               bytes[index..<index + escaped.count].elementsEqual(escaped) {
                out.append(UInt8(ascii: "&"))
                index += escaped.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
    }

    func endElement(localName: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?) {
        guard !fatal else { return }
        flushText()
        depth -= 1
        batch.records.append(.end(name: name(localName), namespace: name(uri), depth: depth))
    }

    /// libxml2 refuses a text node larger than this when it builds a tree
    /// (XML_MAX_TEXT_LENGTH, lifted only by XML_PARSE_HUGE); SAX hands text over in pieces
    /// without that check, so the same limit applies here to what is joined, or one
    /// endless text would grow memory with the file.
    static let maxTextLength = 10_000_000

    func characters(_ bytes: UnsafePointer<xmlChar>?, _ length: Int32) {
        guard !fatal, let bytes, length > 0 else { return }
        let piece = UnsafeBufferPointer(start: bytes, count: Int(length))
        if text.count + piece.count > Self.maxTextLength {
            record(.make(.malformed, line: text.isEmpty ? currentLine : textLine,
                         text: "a text of more than \(Self.maxTextLength) bytes in one piece"), fatal: true)
            return
        }
        if text.isEmpty {
            // The parser has moved past the piece when it reports it; counting back over
            // its line breaks gives the line the text begins on (a character reference
            // such as &#10; would count too, hence the floor of the last start's line).
            let breaks = piece.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
            textLine = max(lastStartLine, (currentLine ?? lastStartLine) - breaks)
        }
        if !textHasContent {
            textHasContent = piece.contains { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        }
        text.append(piece)
    }

    private func flushText() {
        guard !text.isEmpty else { return }
        if textHasContent {
            let start = batch.bytes.count
            batch.bytes.append(text)
            batch.records.append(.text(start..<batch.bytes.count, line: textLine))
        }
        text.removeAll()
        textHasContent = false
    }

    /// Entities (general or parameter, internal or external) and external DTD references
    /// are what make XXE, billion laughs and quadratic blow-up possible; a bare
    /// `<!DOCTYPE x>` carries none of that. Nothing declared is ever stored (there is no
    /// tree), so a refused declaration cannot be used even by what libxml2 parses of the
    /// current chunk after it.
    func doctype(externalID: UnsafePointer<xmlChar>?, systemID: UnsafePointer<xmlChar>?) {
        sawDoctype = true
        if externalID != nil || systemID != nil {
            record(.make(.forbiddenDTD, line: currentLine, text: forbiddenDTDMessage), fatal: true)
        }
    }

    func entityDeclared() {
        record(.make(.forbiddenDTD, line: currentLine, text: forbiddenDTDMessage), fatal: true)
    }

    /// Attribute defaults and element declarations are refused too: a defaulted attribute
    /// would be seen by schema validation and by the events alike, but a document whose
    /// meaning depends on its DOCTYPE is not what a shop sends.
    func declarationRefused() {
        record(.make(.forbiddenDTD, line: currentLine,
                     text: "document type declarations with attribute or element declarations are not allowed"),
               fatal: true)
    }

    /// A reference to an entity the parser could not expand must never pass as if it were text.
    func unexpandedReference() {
        record(.make(.forbiddenDTD, line: currentLine, text: forbiddenDTDMessage), fatal: true)
    }

    // MARK: errors

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
            record(.make(.schema, line: line, column: column ?? currentColumn, text: text),
                   fatal: code == Int(XML_SCHEMAV_INTERNAL.rawValue))
            return
        }

        let fromParser = domain == XML_FROM_PARSER.rawValue || domain == XML_FROM_NAMESPACE.rawValue
        // Inside a DOCTYPE, an entity error (a reference to an undeclared parameter
        // entity, say) is reported for what it is: a DOCTYPE with entities.
        if fromParser, sawDoctype, !sawRoot, Self.isEntityCode(code) {
            record(.make(.forbiddenDTD, line: line, column: column,
                         text: "\(forbiddenDTDMessage) (\(XMLProblem.cleanMessage(text)))"),
                   fatal: true)
            return
        }

        // Warnings (non-absolute namespace URIs and the like) do not make a document wrong.
        guard level >= XML_ERR_ERROR.rawValue else { return }
        if code == Int(XML_ERR_INTERNAL_ERROR.rawValue) && text.contains("Excessive depth") {
            record(.make(.tooDeep, line: line, column: column, text: "elements are nested too deeply"), fatal: true)
        } else if code == Int(XML_ERR_DOCUMENT_EMPTY.rawValue) || (bytesRead == 0 && fromParser) {
            if bytesRead > 0 && !sawRoot {
                record(.make(.malformed, line: line, column: column, text: "the document has no root element"),
                       fatal: true)
            } else {
                record(.make(.malformed, line: nil, text: "the document is empty"), fatal: true)
            }
        } else if code == Int(XML_ERR_DOCUMENT_END.rawValue), fromParser, let parser {
            // The push parser reports every kind of early end as "Extra content at the
            // end of the document"; say what actually happened.
            let p = parser.pointee
            if p.nameNr > 0, let open = p.name {
                record(.make(.malformed, line: line, column: column,
                             text: "the document ends before element '\(String(cString: open))' is closed"),
                       fatal: true)
            } else if !sawRoot {
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

    /// Fills a SAX2 handler with the callbacks below. Only what edidrop reads or refuses is
    /// set: libxml2 skips comments and processing instructions without a callback, and with
    /// no getEntity callback no entity a document declares can ever be looked up.
    static func install(on handler: UnsafeMutablePointer<xmlSAXHandler>) {
        handler.pointee.initialized = XML_SAX2_MAGIC
        handler.pointee.startDocument = { context in withState(context) { $0.startDocument() } }
        handler.pointee.startElementNs = { context, localName, _, uri, _, _, count, _, attributes in
            withState(context) { $0.startElement(localName: localName, uri: uri, count: Int(count), attributes: attributes) }
        }
        handler.pointee.endElementNs = { context, localName, _, uri in
            withState(context) { $0.endElement(localName: localName, uri: uri) }
        }
        handler.pointee.characters = { context, bytes, length in withState(context) { $0.characters(bytes, length) } }
        // Without a DTD nothing is ignorable; set anyway so no text can go missing.
        handler.pointee.ignorableWhitespace = handler.pointee.characters
        handler.pointee.cdataBlock = handler.pointee.characters
        handler.pointee.internalSubset = { context, _, externalID, systemID in
            withState(context) { $0.doctype(externalID: externalID, systemID: systemID) }
        }
        handler.pointee.externalSubset = { context, _, externalID, systemID in
            withState(context) { $0.doctype(externalID: externalID, systemID: systemID) }
        }
        handler.pointee.entityDecl = { context, _, _, _, _, _ in withState(context) { $0.entityDeclared() } }
        handler.pointee.unparsedEntityDecl = { context, _, _, _, _ in withState(context) { $0.entityDeclared() } }
        handler.pointee.elementDecl = { context, _, _, _ in withState(context) { $0.declarationRefused() } }
        handler.pointee.attributeDecl = { context, _, _, _, _, _, tree in
            // The callback owns the enumeration libxml2 built for it.
            if let tree { xmlFreeEnumeration(tree) }
            withState(context) { $0.declarationRefused() }
        }
        handler.pointee.reference = { context, _ in withState(context) { $0.unexpandedReference() } }
    }
}

/// The parse state a callback was given, without a retain and a release around each call
/// (callbacks run for every element and text; the SAXParser that owns the state outlives
/// its parser's callbacks). Nil when libxml2 passed no context.
@discardableResult
private func withState<R>(_ context: UnsafeMutableRawPointer?, _ body: (ParseState) -> R) -> R? {
    guard let context else { return nil }
    return Unmanaged<ParseState>.fromOpaque(context)._withUnsafeGuaranteedRef(body)
}

private func reportLibXML2Error(_ userData: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
    guard let error else { return }
    withState(userData) { $0.libxml2Reported(error.pointee) }
}

private func locateForSchema(_ context: UnsafeMutableRawPointer?, _ file: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                             _ line: UnsafeMutablePointer<UInt>?) -> Int32 {
    guard let parser = withState(context, { $0.parser }) ?? nil, let input = parser.pointee.input else { return -1 }
    file?.pointee = nil
    line?.pointee = UInt(max(0, input.pointee.line))
    return 0
}
