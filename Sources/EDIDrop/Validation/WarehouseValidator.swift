/// A checked stock line.
public struct StockLine: Sendable, Equatable {
    public var sku: String
    public var ean: String?
    public var available: Int
    public var reserved: Int?
    /// The time the warehouse counted, as written (normalised), and in seconds since 1970.
    public var asOf: String
    public var asOfEpoch: Int64
}

/// A checked shipment confirmation.
public struct Shipment: Sendable, Equatable {
    public var orderID: String
    public var shippedAt: String?
    public var carrier: String?
    public var tracking: String
}

/// The rules for the warehouse's documents. Pure, like `OrderValidator`.
public struct WarehouseValidator: Sendable {
    /// Used when a stock line has no time of its own: the file's modification time.
    public var fileTime: DateValue
    /// Offset assumed for times written without one (the machine's local offset).
    public var localOffsetSeconds: Int

    public init(fileTime: DateValue, localOffsetSeconds: Int) {
        self.fileTime = fileTime
        self.localOffsetSeconds = localOffsetSeconds
    }

    public func validate(_ d: StockLineDraft) -> (StockLine?, [Diagnostic]) {
        var findings: [Diagnostic] = []
        let sku = required(d.sku, "sku", line: d.line, &findings)
        let available = count(d.available, "available", required: true, line: d.line, &findings)
        let reserved = count(d.reserved, "reserved", required: false, line: d.line, &findings)
        let ean = gtin(d.ean, &findings)
        var asOf = fileTime
        if let v = d.asOf, !v.value.trimmingSpaces.isEmpty {
            switch DateValue.parse(v.value.trimmingSpaces) {
            case .success(let date): asOf = date
            case .failure(let p): findings.append(Diagnostic(.invalidDate, line: v.line, column: v.column, field: "as_of", value: v.value, message: p.message, hint: p.hint))
            }
        }
        guard findings.isEmpty, let sku, let available, let epoch = asOf.utcEpochSeconds(assumingOffsetSeconds: localOffsetSeconds) else {
            return (nil, findings)
        }
        return (StockLine(sku: sku, ean: ean, available: available, reserved: reserved, asOf: asOf.iso, asOfEpoch: epoch), [])
    }

    public func validate(_ d: ShipmentDraft) -> (Shipment?, [Diagnostic]) {
        var findings: [Diagnostic] = []
        let orderID = required(d.orderID, "order_id", line: d.line, &findings)
        let tracking = required(d.tracking, "tracking_number", line: d.line, &findings)
        var shippedAt: String?
        if let v = d.shippedAt, !v.value.trimmingSpaces.isEmpty {
            switch DateValue.parse(v.value.trimmingSpaces) {
            case .success(let date): shippedAt = date.iso
            case .failure(let p): findings.append(Diagnostic(.invalidDate, line: v.line, column: v.column, field: "shipped_at", value: v.value, message: p.message, orderID: orderID, hint: p.hint))
            }
        }
        let carrier = d.carrier.map(\.value).flatMap { $0.trimmingSpaces.isEmpty ? nil : $0 }
        for i in findings.indices { findings[i].orderID = findings[i].orderID ?? orderID }
        guard findings.isEmpty, let orderID, let tracking else { return (nil, findings) }
        return (Shipment(orderID: orderID, shippedAt: shippedAt, carrier: carrier, tracking: tracking), [])
    }

    private func required(_ v: Located?, _ field: String, line: Int, _ findings: inout [Diagnostic]) -> String? {
        guard let v, !v.value.trimmingSpaces.isEmpty else {
            findings.append(Diagnostic(.missingField, line: v?.line ?? line, column: v?.column, field: field, message: "\(field) is required"))
            return nil
        }
        if v.value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            findings.append(Diagnostic(.invalidValue, line: v.line, column: v.column, field: field, value: v.value, message: "\(field) contains a control character"))
            return nil
        }
        return v.value
    }

    /// A whole number ≥ 0 (stock counts).
    private func count(_ v: Located?, _ field: String, required: Bool, line: Int, _ findings: inout [Diagnostic]) -> Int? {
        guard let v, !v.value.trimmingSpaces.isEmpty else {
            if required { findings.append(Diagnostic(.missingField, line: v?.line ?? line, column: v?.column, field: field, message: "\(field) is required")) }
            return nil
        }
        let t = v.value.trimmingSpaces
        guard !t.isEmpty, t.count <= 9, t.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(t) else {
            findings.append(Diagnostic(.invalidQuantity, line: v.line, column: v.column, field: field, value: v.value,
                                       message: "\(field) must be a whole number of 0 or more"))
            return nil
        }
        return n
    }

    private func gtin(_ v: Located?, _ findings: inout [Diagnostic]) -> String? {
        guard let v, !v.value.trimmingSpaces.isEmpty else { return nil }
        let t = v.value.trimmingSpaces
        switch GTIN.check(t) {
        case .valid: return t
        case .wrongCheckDigit(let expected):
            findings.append(Diagnostic(.invalidEAN, line: v.line, column: v.column, field: "ean", value: v.value,
                                       message: "ean check digit is wrong", hint: "EAN check digit should be \(expected)"))
        default:
            findings.append(Diagnostic(.invalidEAN, line: v.line, column: v.column, field: "ean", value: v.value,
                                       message: "ean must be a GTIN-8, -12, -13 or -14"))
        }
        return nil
    }
}
