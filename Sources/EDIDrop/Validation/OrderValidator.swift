/// Turns an order draft into a normalised `Order`, or into every finding about it.
/// Pure: no I/O, no ledger; the same rules for every input format.
public struct OrderValidator: Sendable {
    public var decimalSeparator: DecimalSeparator
    public var dateFormats: [DateFormat]

    public init(decimalSeparator: DecimalSeparator = .auto, dateFormats: [DateFormat] = DateFormat.defaults) {
        self.decimalSeparator = decimalSeparator
        self.dateFormats = dateFormats
    }

    /// Field names as they appear in reports: the canonical CSV column names.
    public enum Field {
        static let orderID = "order_id", orderDate = "order_date", customerName = "customer_name"
        static let email = "email", phone = "phone", street = "street", city = "city"
        static let postcode = "postcode", country = "country", carrier = "carrier"
        static let pickupPoint = "pickup_point", cod = "cod_amount", currency = "currency"
        static let sku = "sku", ean = "ean", quantity = "quantity", unitPrice = "unit_price"
        static let productName = "product_name", notes = "notes"
    }

    public func validate(_ draft: OrderDraft) -> (order: Order?, findings: [Diagnostic]) {
        var findings = draft.findings
        let orderID = draft.id?.value
        func report(_ code: ErrorCode, _ field: String, _ v: Located?, line: Int? = nil, _ message: String, hint: String? = nil) {
            findings.append(Diagnostic(code, line: v?.line ?? line ?? draft.line, column: v?.column, field: field,
                                       value: v?.value, message: message, orderID: orderID, hint: hint))
        }
        /// A required text: present, not blank, no control characters.
        func required(_ v: Located?, _ field: String, line: Int? = nil) -> String? {
            guard let v, !v.value.trimmingSpaces.isEmpty else {
                // Point at the empty cell when the row has one.
                findings.append(Diagnostic(.missingField, line: v?.line ?? line ?? draft.line, column: v?.column,
                                           field: field, message: "\(field) is required", orderID: orderID))
                return nil
            }
            return text(v, field)
        }
        /// An optional text: nil when absent or blank.
        func optional(_ v: Located?, _ field: String) -> String? {
            guard let v, !v.value.trimmingSpaces.isEmpty else { return nil }
            return text(v, field)
        }
        func text(_ v: Located, _ field: String) -> String? {
            if v.value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" || $0.value == 0x7F }) {
                report(.invalidValue, field, v, "\(field) contains a control character")
                return nil
            }
            // U+FFFE and U+FFFF are valid UTF-8, so a CSV can carry them, but no XML
            // document may: an order holding one could never be written for the warehouse.
            if let odd = v.value.unicodeScalars.first(where: { $0.value == 0xFFFE || $0.value == 0xFFFF }) {
                report(.invalidValue, field, v, "\(field) contains U+\(String(odd.value, radix: 16, uppercase: true)), which is not a character")
                return nil
            }
            return v.value
        }

        let id = required(draft.id, Field.orderID)
        if let raw = draft.id?.value, raw.utf8.count > 1000 {
            report(.invalidValue, Field.orderID, draft.id, "order_id is longer than 1000 characters")
        }
        let customerName = required(draft.customerName, Field.customerName)
        let street = required(draft.street, Field.street)
        let city = required(draft.city, Field.city)
        let postcodeText = required(draft.postcode, Field.postcode)
        let countryText = required(draft.country, Field.country)

        var country: String?
        if let c = countryText {
            let trimmed = c.trimmingSpaces
            if CountryCode.isValid(trimmed) {
                country = trimmed
            } else {
                let hint = CountryCode.suggestion(for: trimmed).map { "did you mean \($0)?" }
                report(.invalidCountry, Field.country, draft.country,
                       "country must be an ISO 3166-1 alpha-2 code such as PL or DE", hint: hint)
            }
        }
        var postcode: String?
        if let p = postcodeText {
            let trimmed = p.trimmingSpaces
            if let country {
                switch Postcode.check(trimmed, country: country) {
                case .valid:
                    postcode = trimmed
                case .invalid(let expected, let suggestion):
                    report(.invalidPostcode, Field.postcode, draft.postcode,
                           "a \(country) postcode must be \(expected)",
                           hint: suggestion.map { "write it as \($0)" })
                }
            } else {
                postcode = trimmed
            }
        }

        var date: DateValue?
        if let v = draft.date, !v.value.trimmingSpaces.isEmpty {
            switch DateValue.parse(v.value.trimmingSpaces, formats: dateFormats) {
            case .success(let d): date = d
            case .failure(let p): report(.invalidDate, Field.orderDate, v, p.message, hint: p.hint)
            }
        }

        let email = optional(draft.email, Field.email)
        if let email, !ContactCheck.isPlausibleEmail(email.trimmingSpaces) {
            report(.invalidValue, Field.email, draft.email, "email is not a valid e-mail address")
        }
        let phone = optional(draft.phone, Field.phone)
        let carrier = optional(draft.carrier, Field.carrier)
        let pickupPoint = optional(draft.pickupPoint, Field.pickupPoint)
        let notes = optional(draft.notes, Field.notes)

        var cod: Money?
        if let v = draft.cod, !v.value.trimmingSpaces.isEmpty {
            switch Money.parse(v.value, separator: decimalSeparator) {
            case .success(let m) where m.minorUnits < 0:
                report(.invalidValue, Field.cod, v, "cod_amount must be 0 or more")
            case .success(let m): cod = m
            case .failure(let p): report(.invalidValue, Field.cod, v, "cod_amount: \(p.message)", hint: p.hint)
            }
        }

        var currency = "PLN"
        if let v = draft.currency, !v.value.trimmingSpaces.isEmpty {
            let c = v.value.trimmingSpaces
            if CurrencyCode.isUsableForOrders(c) {
                currency = c
            } else {
                let hint = CurrencyCode.suggestion(for: c).map { "did you mean \($0)?" }
                report(.invalidCurrency, Field.currency, v, "currency must be an ISO 4217 code such as PLN or EUR", hint: hint)
            }
        }

        var lines: [Order.Line] = []
        if draft.lines.isEmpty {
            report(.missingField, "line", nil, "an order needs at least one line")
        }
        for l in draft.lines {
            let sku = required(l.sku, Field.sku, line: l.line)
            var quantity: Int?
            if let q = l.quantity, !q.value.trimmingSpaces.isEmpty {
                switch Quantity.parse(q.value) {
                case .success(let n): quantity = n
                case .failure(let p): report(.invalidQuantity, Field.quantity, q, p.message, hint: p.hint)
                }
            } else {
                report(.missingField, Field.quantity, nil, line: l.line, "quantity is required")
            }
            var ean: String?
            if let e = l.ean, !e.value.trimmingSpaces.isEmpty {
                let trimmed = e.value.trimmingSpaces
                switch GTIN.check(trimmed) {
                case .valid:
                    ean = trimmed
                case .notDigits:
                    report(.invalidEAN, Field.ean, e, "ean must contain digits only (GTIN-8, -12, -13 or -14)")
                case .wrongLength(let n):
                    report(.invalidEAN, Field.ean, e, "ean has \(n) digits; a GTIN has 8, 12, 13 or 14")
                case .wrongCheckDigit(let expected):
                    report(.invalidEAN, Field.ean, e, "ean check digit is wrong",
                           hint: "EAN check digit should be \(expected)")
                }
            }
            var unitPrice: Money?
            if let v = l.unitPrice, !v.value.trimmingSpaces.isEmpty {
                switch Money.parse(v.value, separator: decimalSeparator) {
                case .success(let m) where m.minorUnits < 0:
                    report(.invalidValue, Field.unitPrice, v, "unit_price must be 0 or more")
                case .success(let m): unitPrice = m
                case .failure(let p): report(.invalidValue, Field.unitPrice, v, "unit_price: \(p.message)", hint: p.hint)
                }
            }
            let name = optional(l.name, Field.productName)
            if let sku, let quantity {
                lines.append(Order.Line(sku: sku, ean: ean, quantity: quantity, unitPrice: unitPrice, name: name))
            }
        }

        guard findings.isEmpty, let id, let customerName, let street, let city, let postcode, let country else {
            if findings.isEmpty {
                // Unreachable by construction, but never let an order through half-checked.
                report(.invalidValue, Field.orderID, draft.id, "the order could not be validated")
            }
            return (nil, findings)
        }
        let order = Order(id: id, date: date,
                          customer: .init(name: customerName, email: email, phone: phone),
                          shipTo: .init(street: street, city: city, postcode: postcode, country: country),
                          carrier: carrier, pickupPoint: pickupPoint, cod: cod, currency: currency,
                          notes: notes, lines: lines)
        return (order, [])
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks (no Foundation needed).
    var trimmingSpaces: String {
        // Most values have nothing to trim: when neither end byte can belong to a space,
        // neither end Character is one (each space below is a single scalar).
        let bytes = utf8
        if let first = bytes.first, let last = bytes.last,
           first != 0x20, first != 0x09, first != 0x0A, first != 0x0D, first != 0xC2,
           last != 0x20, last != 0x09, last != 0x0A, last != 0x0D, last != 0xA0 {
            return self
        }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{A0}" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}

extension String {
    /// `lowercased()`, with a byte-wise path for ASCII text (header names, once per
    /// column per file; the Unicode path is many times slower).
    var asciiFastLowercased: String {
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return lowercased() }
        if !utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return self }
        return String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
