// libFuzzer entry for the XML orders path: XMLStreamReader (libxml2's SAX2 push parser with
// the shipped orders schema plugged in) -> OrdersXMLReader -> OrderValidator.
// Built and run by `scripts/fuzz xml [seconds]`.
import XMLSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOrdersXML(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzXML.run(bytes)
    return 0
}

enum FuzzXML {
    /// Compiled once per process, as `edidrop run` does.
    static let schemas: CompiledSchemas = {
        do { return try CompiledSchemas() } catch { fatalError("the shipped schema does not compile: \(error)") }
    }()

    static func run(_ bytes: [UInt8]) {
        // DocumentOpener's first, schema-less look at the root element, read in one piece
        // and in small pieces. Whether a document is refused must not depend on how its
        // bytes arrive. (Which problem is named first may: libxml2 parses ahead, so with
        // big reads a later syntax error can be seen before the byte-order-mark check
        // that runs at the first node. Hence kinds are not compared.)
        let probe = events(bytes, schema: nil, chunked: false)
        let probeChunked = events(bytes, schema: nil, chunked: true)
        fuzzCheck(probe.failed == probeChunked.failed,
                  "XML outcome depends on read sizes:\n  whole:   \(probe.kinds)\n  chunked: \(probeChunked.kinds)")
        if !probe.failed {
            fuzzCheck(probe.events == probeChunked.events,
                      "XML events depend on read sizes:\n  whole:   \(probe.events)\n  chunked: \(probeChunked.events)")
        }

        // Parsing on a thread of its own (as for files of 1 MiB and more) must change
        // nothing at all: the same events and the same problems, in the same order.
        let inline = events(bytes, schema: schemas.orders, chunked: true)
        let concurrent = events(bytes, schema: schemas.orders, chunked: true, concurrent: true)
        fuzzCheck(inline.failed == concurrent.failed && inline.problems == concurrent.problems,
                  "XML problems differ when parsed concurrently:\n  inline:     \(inline.problems)\n  concurrent: \(concurrent.problems)")
        fuzzCheck(inline.events == concurrent.events,
                  "XML events differ when parsed concurrently:\n  inline:     \(inline.events)\n  concurrent: \(concurrent.events)")

        var source = ChunkedSource(bytes)
        let reader = XMLStreamReader(documentName: "fuzz.xml", schema: schemas.orders) { try source.read(into: $0) }
        var orders = OrdersXMLReader(reader: reader)
        let validator = OrderValidator()
        while let draft = orders.next() {
            checkValidated(draft, validator.validate(draft))
        }
        let findings = orders.findings
        if reader.failed {
            fuzzCheck(!findings.isEmpty, "the XML reader failed without saying why")
        }
        for f in findings {
            fuzzCheck(f.line.map { $0 >= 1 } ?? true, "a finding on line \(f.line!)")
        }
    }

    struct Outcome {
        var failed: Bool
        var kinds: [XMLProblem.Kind]
        var problems: [XMLProblem]
        var events: [String]
    }

    static func events(_ bytes: [UInt8], schema: XMLSchema?, chunked: Bool, concurrent: Bool = false) -> Outcome {
        var whole = BytesSource(bytes)
        var pieces = ChunkedSource(bytes)
        let reader = XMLStreamReader(documentName: "fuzz.xml", schema: schema, concurrent: concurrent) { buffer in
            chunked ? try pieces.read(into: buffer) : try whole.read(into: buffer)
        }
        var list: [String] = []
        var depth = 0
        while let event = reader.next() {
            switch event {
            case .start(let s):
                fuzzCheck(s.depth == depth, "start at depth \(s.depth), expected \(depth)")
                fuzzCheck(s.line >= 1, "start on line \(s.line)")
                depth += 1
                list.append("<\(s.namespaceURI ?? ""):\(s.localName) \(s.attributes.map { "\($0.localName)=\($0.value)" })")
            case .end(let name, let ns, let d):
                depth -= 1
                fuzzCheck(d == depth, "end at depth \(d), expected \(depth)")
                list.append("</\(ns ?? ""):\(name)")
            case .text(let text, _):
                fuzzCheck(!text.isEmpty, "empty text event")
                list.append("#\(text)")
            }
        }
        if !reader.failed {
            fuzzCheck(depth == 0, "the document ended with \(depth) elements open but no problem")
        }
        return Outcome(failed: reader.failed, kinds: reader.problems.map(\.kind), problems: reader.problems, events: list)
    }
}
