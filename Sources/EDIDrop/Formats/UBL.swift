import XMLSupport

/// OASIS UBL 2.1 documents edidrop reads: Order (from the shop), DespatchAdvice and
/// InventoryReport (from the warehouse). Elements are found by namespace and path, never
/// by prefix, since every sender picks its own prefixes.
public enum UBL {
    public static let orderNamespace = "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
    public static let despatchAdviceNamespace = "urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"
    public static let inventoryReportNamespace = "urn:oasis:names:specification:ubl:schema:xsd:InventoryReport-2"
    public static let cacNamespace = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    public static let cbcNamespace = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

    /// UBL writes quantities as decimals ("2.000"); a whole number written so is that
    /// number, anything else is left for the quantity rules to refuse.
    static func wholeDecimal(_ v: Located) -> Located {
        let t = v.value.trimmingSpaces
        guard let dot = t.firstIndex(of: "."), dot != t.startIndex else { return v }
        let whole = t[..<dot], fraction = t[t.index(after: dot)...]
        guard whole.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0 == "0" }) else { return v }
        return Located(String(whole), line: v.line, column: v.column)
    }

    /// A date and, when given, its time as one ISO 8601 value ("2026-11-27T10:15:00").
    static func dateTime(_ date: Located?, _ time: Located?) -> Located? {
        guard let date else { return nil }
        guard let time, !time.value.isEmpty else { return date }
        return Located(date.value + "T" + time.value, line: date.line, column: date.column)
    }
}

/// A UBL document as a stream of element paths below the root, written with the UBL
/// prefixes whatever the document uses ("cac:Delivery/cac:DeliveryLocation/cbc:ID"), so
/// that readers match plain strings. An element's text comes with its end, and only for
/// elements without child elements (UBL has no mixed content).
struct UBLWalker {
    enum Event {
        case start(path: String, element: XMLStart)
        /// `value`: the trimmed text, located at the element's start tag.
        case end(path: String, value: Located?)
    }

    let reader: XMLStreamReader
    private(set) var root: XMLStart?
    private var stack: [Open] = []

    private struct Open {
        var name: String
        var line: Int
        var text = ""
        var hasChildren = false
    }

    init(reader: XMLStreamReader) {
        self.reader = reader
    }

    var failed: Bool { reader.failed }

    var findings: [Diagnostic] {
        var out = reader.problems.map(Diagnostic.init(xml:))
        if reader.problemsDropped > 0 {
            out.append(Diagnostic(.malformed, message: "\(reader.problemsDropped) more problems were found and not listed"))
        }
        return out
    }

    private var path: String { stack.map(\.name).joined(separator: "/") }

    private static func name(_ localName: String, _ namespace: String?) -> String {
        switch namespace {
        case UBL.cbcNamespace?: return "cbc:" + localName
        case UBL.cacNamespace?: return "cac:" + localName
        // Extensions and foreign elements get a name no reader asks for.
        default: return "{\(namespace ?? "")}" + localName
        }
    }

    mutating func next() -> Event? {
        while let event = reader.next() {
            switch event {
            case .start(let e):
                if e.depth == 0 {
                    root = e
                    continue
                }
                if !stack.isEmpty {
                    stack[stack.count - 1].hasChildren = true
                    stack[stack.count - 1].text = ""
                }
                stack.append(Open(name: Self.name(e.localName, e.namespaceURI), line: e.line))
                return .start(path: path, element: e)
            case .text(let text, _):
                if !stack.isEmpty && !stack[stack.count - 1].hasChildren {
                    stack[stack.count - 1].text += text
                }
            case .end(_, _, let depth):
                if depth == 0 || stack.isEmpty { continue }
                let path = self.path
                let top = stack.removeLast()
                return .end(path: path, value: top.hasChildren ? nil : Located(top.text.trimmingSpaces, line: top.line))
            }
        }
        return nil
    }
}

/// One UBL 2.1 `Order` document: one order. Buyer, delivery address and lines are mapped
/// onto the same draft as every other format, so the same rules judge it.
public struct UBLOrderReader: OrderDraftReader {
    private var walker: UBLWalker
    private var done = false
    private var extra: [Diagnostic] = []

    public init(reader: XMLStreamReader) {
        walker = UBLWalker(reader: reader)
    }

    public var findings: [Diagnostic] { walker.findings + extra }

    /// Reports name the element a field came from.
    static let elementNames: [String: String] = [
        "order_id": "cbc:ID", "order_date": "cbc:IssueDate", "currency": "cbc:DocumentCurrencyCode",
        "customer_name": "cac:BuyerCustomerParty/cac:Party", "email": "cbc:ElectronicMail", "phone": "cbc:Telephone",
        "street": "cbc:StreetName", "city": "cbc:CityName", "postcode": "cbc:PostalZone",
        "country": "cac:Country/cbc:IdentificationCode", "carrier": "cac:CarrierParty",
        "pickup_point": "cac:DeliveryLocation/cbc:ID", "cod_amount": "cbc:PayableAmount", "notes": "cbc:Note",
        "sku": "cac:SellersItemIdentification/cbc:ID", "ean": "cac:StandardItemIdentification/cbc:ID",
        "quantity": "cbc:Quantity", "unit_price": "cbc:PriceAmount", "product_name": "cac:Item/cbc:Name",
    ]

    public func columnName(for field: String) -> String? { Self.elementNames[field] }

    /// Cash (UN/ECE 4461 code 10): the courier collects the order's payable amount.
    static let cashPaymentMeansCodes: Set<String> = ["10"]

    public mutating func next() -> OrderDraft? {
        guard !done else { return nil }
        done = true
        var draft = OrderDraft(line: 1)
        var issueDate: Located?, issueTime: Located?
        var partyName: Located?, contactName: Located?, deliveryPartyName: Located?
        var firstName: Located?, middleName: Located?, familyName: Located?
        var streetName: Located?, additionalStreet: Located?, building: Located?, addressLine: Located?
        var cash: Located?, payable: Located?
        var notes: [Located] = []
        var deliveries = 0
        let buyer = "cac:BuyerCustomerParty/cac:Party/"
        let itemPrefix = "cac:OrderLine/cac:LineItem/"

        func first(_ slot: inout Located?, _ v: Located?) {
            if slot == nil, let v, !v.value.isEmpty { slot = v }
        }
        func set(_ path: WritableKeyPath<OrderDraft, Located?>, _ v: Located?) {
            if draft[keyPath: path] == nil, let v, !v.value.isEmpty { draft[keyPath: path] = v }
        }

        while let event = walker.next() {
            switch event {
            case .start(let path, let e):
                if path == "cac:OrderLine" {
                    draft.lines.append(OrderDraft.Line(line: e.line))
                } else if path == "cac:Delivery" {
                    deliveries += 1
                }
            case .end(let path, let value):
                guard let value else { continue }
                if path.hasPrefix(itemPrefix), !draft.lines.isEmpty {
                    let i = draft.lines.count - 1
                    func line(_ field: WritableKeyPath<OrderDraft.Line, Located?>, _ v: Located) {
                        if draft.lines[i][keyPath: field] == nil { draft.lines[i][keyPath: field] = v }
                    }
                    switch path.dropFirst(itemPrefix.count) {
                    case "cbc:Quantity": line(\.quantity, UBL.wholeDecimal(value))
                    case "cac:Price/cbc:PriceAmount": line(\.unitPrice, value)
                    case "cac:Item/cbc:Name": line(\.name, value)
                    case "cac:Item/cac:SellersItemIdentification/cbc:ID": line(\.sku, value)
                    case "cac:Item/cac:StandardItemIdentification/cbc:ID": line(\.ean, value)
                    default: break
                    }
                    continue
                }
                // Only the first Delivery: an order has one address for the warehouse.
                if path.hasPrefix("cac:Delivery/") && deliveries == 1 {
                    var address = String(path.dropFirst("cac:Delivery/".count))
                    for prefix in ["cac:DeliveryLocation/cac:Address/", "cac:DeliveryAddress/"] where address.hasPrefix(prefix) {
                        address = "address:" + address.dropFirst(prefix.count)
                    }
                    switch address {
                    case "address:cbc:StreetName": first(&streetName, value)
                    case "address:cbc:AdditionalStreetName": first(&additionalStreet, value)
                    case "address:cbc:BuildingNumber": first(&building, value)
                    case "address:cac:AddressLine/cbc:Line": first(&addressLine, value)
                    case "address:cbc:CityName": set(\.city, value)
                    case "address:cbc:PostalZone": set(\.postcode, value)
                    case "address:cac:Country/cbc:IdentificationCode": set(\.country, value)
                    case "cac:DeliveryLocation/cbc:ID": set(\.pickupPoint, value)
                    case "cac:CarrierParty/cac:PartyName/cbc:Name": set(\.carrier, value)
                    case "cac:DeliveryParty/cac:PartyName/cbc:Name": first(&deliveryPartyName, value)
                    default: break
                    }
                    continue
                }
                switch path {
                case "cbc:ID": set(\.id, value)
                case "cbc:IssueDate": first(&issueDate, value)
                case "cbc:IssueTime": first(&issueTime, value)
                case "cbc:Note": if !value.value.isEmpty { notes.append(value) }
                case "cbc:DocumentCurrencyCode": set(\.currency, value)
                case buyer + "cac:PartyName/cbc:Name": first(&partyName, value)
                case buyer + "cac:Person/cbc:FirstName": first(&firstName, value)
                case buyer + "cac:Person/cbc:MiddleName": first(&middleName, value)
                case buyer + "cac:Person/cbc:FamilyName": first(&familyName, value)
                case buyer + "cac:Contact/cbc:Name": first(&contactName, value)
                case buyer + "cac:Contact/cbc:ElectronicMail": set(\.email, value)
                case buyer + "cac:Contact/cbc:Telephone": set(\.phone, value)
                case "cac:PaymentMeans/cbc:PaymentMeansCode":
                    if Self.cashPaymentMeansCodes.contains(value.value) { first(&cash, value) }
                case "cac:AnticipatedMonetaryTotal/cbc:PayableAmount": first(&payable, value)
                default: break
                }
            }
        }
        // A document that broke off is reported as such, not as an order with gaps.
        if walker.failed { return nil }
        draft.line = walker.root?.line ?? 1

        draft.date = UBL.dateTime(issueDate, issueTime)
        let person = [firstName, middleName, familyName].compactMap { $0 }
        let personName = person.first.map { Located(person.map(\.value).joined(separator: " "), line: $0.line) }
        draft.customerName = partyName ?? personName ?? contactName ?? deliveryPartyName
        if let name = streetName ?? building {
            let parts = [streetName, building].compactMap { $0?.value }
            var street = parts.joined(separator: " ")
            if let more = additionalStreet { street += ", " + more.value }
            draft.street = Located(street, line: name.line)
        } else {
            draft.street = addressLine
        }
        if !notes.isEmpty {
            draft.notes = Located(notes.map(\.value).joined(separator: "\n"), line: notes[0].line)
        }
        if let cash {
            if let payable {
                draft.cod = payable
            } else {
                draft.findings.append(Diagnostic(
                    .missingField, line: cash.line, field: "cac:AnticipatedMonetaryTotal/cbc:PayableAmount", value: cash.value,
                    message: "payment means \(cash.value) (cash) needs cac:AnticipatedMonetaryTotal/cbc:PayableAmount: the amount the courier collects",
                    orderID: draft.id?.value))
            }
        }
        return draft
    }
}

/// A UBL 2.1 `DespatchAdvice`: one shipment (its tracking number) for the order or orders
/// it references. Read whole (it is small), then handed out one confirmation per order.
public struct UBLDespatchAdviceReader: RecordReader {
    private var walker: UBLWalker
    private var drafts: [ShipmentDraft]?
    private var position = 0

    public init(reader: XMLStreamReader) {
        walker = UBLWalker(reader: reader)
    }

    public var findings: [Diagnostic] { walker.findings }

    public mutating func next() -> ShipmentDraft? {
        if drafts == nil { drafts = readAll() }
        guard let drafts, position < drafts.count else { return nil }
        position += 1
        return drafts[position - 1]
    }

    private mutating func readAll() -> [ShipmentDraft] {
        var orders: [Located] = [], lineOrders: [Located] = []
        var issueDate: Located?, issueTime: Located?
        var despatchDate: Located?, despatchTime: Located?, deliveryDate: Located?, deliveryTime: Located?
        var shipmentID: Located?, consignmentID: Located?, carrier: Located?, deliveryCarrier: Located?
        func first(_ slot: inout Located?, _ v: Located) {
            if slot == nil, !v.value.isEmpty { slot = v }
        }
        while let event = walker.next() {
            guard case .end(let path, let v?) = event else { continue }
            switch path {
            case "cac:OrderReference/cbc:ID":
                if !orders.contains(where: { $0.value == v.value }) { orders.append(v) }
            case "cac:DespatchLine/cac:OrderLineReference/cac:OrderReference/cbc:ID":
                if !v.value.isEmpty, !lineOrders.contains(where: { $0.value == v.value }) { lineOrders.append(v) }
            case "cbc:IssueDate": first(&issueDate, v)
            case "cbc:IssueTime": first(&issueTime, v)
            case "cac:Shipment/cbc:ID": first(&shipmentID, v)
            case "cac:Shipment/cac:Consignment/cbc:ID": first(&consignmentID, v)
            case "cac:Shipment/cac:Consignment/cac:CarrierParty/cac:PartyName/cbc:Name": first(&carrier, v)
            case "cac:Shipment/cac:Delivery/cac:CarrierParty/cac:PartyName/cbc:Name": first(&deliveryCarrier, v)
            case "cac:Shipment/cac:Delivery/cac:Despatch/cbc:ActualDespatchDate": first(&despatchDate, v)
            case "cac:Shipment/cac:Delivery/cac:Despatch/cbc:ActualDespatchTime": first(&despatchTime, v)
            case "cac:Shipment/cac:Delivery/cbc:ActualDeliveryDate": first(&deliveryDate, v)
            case "cac:Shipment/cac:Delivery/cbc:ActualDeliveryTime": first(&deliveryTime, v)
            default: break
            }
        }
        if walker.failed { return [] }
        let rootLine = walker.root?.line ?? 1
        // The shipment's own despatch time is when it left; the document's issue time is
        // the usual stand-in, the delivery date the last resort.
        let shippedAt = UBL.dateTime(despatchDate, despatchTime) ?? UBL.dateTime(issueDate, issueTime)
            ?? UBL.dateTime(deliveryDate, deliveryTime)
        let tracking = shipmentID ?? consignmentID
        let refs = orders.isEmpty ? lineOrders : orders
        if refs.isEmpty {
            return [ShipmentDraft(line: rootLine, orderID: nil, shippedAt: shippedAt, carrier: carrier ?? deliveryCarrier, tracking: tracking)]
        }
        return refs.map { ShipmentDraft(line: $0.line, orderID: $0, shippedAt: shippedAt, carrier: carrier ?? deliveryCarrier, tracking: tracking) }
    }
}

/// A UBL 2.1 `InventoryReport`: one stock line per `InventoryReportLine`, streamed. The
/// report's time (IssueDate and IssueTime come before the lines in UBL's order) is every
/// line's `as_of`.
public struct UBLInventoryReportReader: RecordReader {
    private var walker: UBLWalker
    private var issueDate: Located?, issueTime: Located?
    private var periodEndDate: Located?, periodEndTime: Located?, periodStartDate: Located?
    private var current: StockLineDraft?

    public init(reader: XMLStreamReader) {
        walker = UBLWalker(reader: reader)
    }

    public var findings: [Diagnostic] { walker.findings }

    private var asOf: Located? {
        UBL.dateTime(issueDate, issueTime) ?? UBL.dateTime(periodEndDate, periodEndTime) ?? periodStartDate
    }

    public mutating func next() -> StockLineDraft? {
        let line = "cac:InventoryReportLine"
        while let event = walker.next() {
            switch event {
            case .start(let path, let e):
                if path == line { current = StockLineDraft(line: e.line) }
            case .end(let path, let value):
                if path == line, var draft = current {
                    current = nil
                    draft.asOf = asOf
                    return draft
                }
                guard let v = value, !v.value.isEmpty else { continue }
                switch path {
                case "cbc:IssueDate": if issueDate == nil { issueDate = v }
                case "cbc:IssueTime": if issueTime == nil { issueTime = v }
                case "cac:InventoryPeriod/cbc:EndDate": if periodEndDate == nil { periodEndDate = v }
                case "cac:InventoryPeriod/cbc:EndTime": if periodEndTime == nil { periodEndTime = v }
                case "cac:InventoryPeriod/cbc:StartDate": if periodStartDate == nil { periodStartDate = v }
                case line + "/cbc:Quantity": if current?.available == nil { current?.available = UBL.wholeDecimal(v) }
                case line + "/cac:Item/cac:SellersItemIdentification/cbc:ID": if current?.sku == nil { current?.sku = v }
                case line + "/cac:Item/cac:StandardItemIdentification/cbc:ID": if current?.ean == nil { current?.ean = v }
                default: break
                }
            }
        }
        return nil
    }
}
