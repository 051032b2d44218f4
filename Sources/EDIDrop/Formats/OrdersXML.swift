import XMLSupport

/// The canonical orders XML (`urn:edidrop:orders:1`), streamed: one `order` element
/// at a time becomes a draft, while libxml2 checks the shipped schema as it reads.
public struct OrdersXMLReader: OrderDraftReader {
    private let reader: XMLStreamReader
    private var finished = false
    private var sawRoot = false

    public init(reader: XMLStreamReader) {
        self.reader = reader
    }

    public var findings: [Diagnostic] {
        var out = reader.problems.map(Diagnostic.init(xml:))
        if reader.problemsDropped > 0 {
            out.append(Diagnostic(.schema, message: "\(reader.problemsDropped) more problems were found and not listed"))
        }
        return out
    }

    public mutating func next() -> OrderDraft? {
        guard !finished else { return nil }
        var draft: OrderDraft?
        var notes: (text: String, line: Int)?
        var inNotes = false
        while let event = reader.next() {
            switch event {
            case .start(let e):
                guard e.namespaceURI == Schemas.ordersNamespace else { continue }
                if e.depth == 0 { sawRoot = true; continue }
                if e.depth == 1 && e.localName == "order" {
                    var d = OrderDraft(line: e.line)
                    d.id = e.located("id")
                    d.date = e.located("date")
                    draft = d
                    continue
                }
                guard draft != nil, e.depth == 2 else { continue }
                switch e.localName {
                case "customer":
                    draft!.customerName = e.located("name")
                    draft!.email = e.located("email")
                    draft!.phone = e.located("phone")
                case "shipTo":
                    draft!.street = e.located("street")
                    draft!.city = e.located("city")
                    draft!.postcode = e.located("postcode")
                    draft!.country = e.located("country")
                case "delivery":
                    draft!.carrier = e.located("carrier")
                    draft!.pickupPoint = e.located("pickupPoint")
                case "payment":
                    draft!.cod = e.located("cod")
                    draft!.currency = e.located("currency")
                case "notes":
                    inNotes = true
                    notes = ("", e.line)
                case "line":
                    var line = OrderDraft.Line(line: e.line)
                    line.sku = e.located("sku")
                    line.ean = e.located("ean")
                    line.quantity = e.located("quantity")
                    line.unitPrice = e.located("unitPrice")
                    line.name = e.located("name")
                    draft!.lines.append(line)
                default:
                    break
                }
            case .text(let text, _):
                if inNotes { notes?.text += text }
            case .end(let name, let ns, let depth):
                guard ns == Schemas.ordersNamespace else { continue }
                if depth == 2 && name == "notes" {
                    inNotes = false
                    if let n = notes { draft?.notes = Located(n.text, line: n.line) }
                }
                if depth == 1 && name == "order", let d = draft {
                    return d
                }
            }
        }
        finished = true
        return nil
    }
}

extension XMLStart {
    func located(_ attribute: String) -> Located? {
        self.attribute(attribute).map { Located($0, line: line) }
    }
}

extension Diagnostic {
    init(xml problem: XMLProblem) {
        let code: ErrorCode
        switch problem.kind {
        case .malformed, .tooDeep: code = .malformed
        case .schema: code = .schema
        case .forbiddenDTD: code = .forbiddenDTD
        case .encoding: code = .encoding
        }
        self.init(code, line: problem.line, column: problem.column, message: problem.message)
    }
}
