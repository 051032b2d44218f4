import Crypto
import Foundation

/// The file the warehouse receives for one order, in the format `[outbox] format` names:
/// `ORDER_<id>.xml` in the canonical orders XML with exactly one `order` (the default),
/// `ORDER_<id>.xml` as a UBL 2.1 Order, or `ORDER_<id>.csv` with the canonical columns.
public enum WarehouseOrderFile {
    /// The file name for an order id. The id comes from a shop's file, so it never
    /// chooses a path: anything outside [A-Za-z0-9._-] is replaced, long ids are cut, and
    /// whenever the id was changed a short hash of it keeps different ids apart.
    public static func fileName(forOrderID id: String, format: SpoolConfiguration.OutboxFormat = .edidropXML) -> String {
        "ORDER_" + safeName(id) + (format == .csv ? ".csv" : ".xml")
    }

    /// The file's content in the given format. `receivedOn` (YYYY-MM-DD) stands in for the
    /// order's date where a format requires one and the shop sent none.
    public static func content(for order: Order, format: SpoolConfiguration.OutboxFormat, receivedOn: String) -> String {
        switch format {
        case .edidropXML: return xml(for: order)
        case .ubl: return ubl(for: order, receivedOn: receivedOn)
        case .csv: return csv(for: order)
        }
    }

    /// `content(for:format:receivedOn:)` as the bytes the outbox keeps; the default format
    /// is rendered straight into them.
    public static func contentData(for order: Order, format: SpoolConfiguration.OutboxFormat, receivedOn: String) -> Data {
        switch format {
        case .edidropXML: return xmlText(for: order).output.data
        case .ubl, .csv: return Data(content(for: order, format: format, receivedOn: receivedOn).utf8)
        }
    }

    static func safeName(_ id: String) -> String {
        var safe = ""
        var changed = false
        for scalar in id.unicodeScalars {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-":
                safe.unicodeScalars.append(scalar)
            default:
                safe.append("_")
                changed = true
            }
        }
        // A name of 255 bytes is the usual limit; leave room for the prefix, hash and suffix.
        if safe.utf8.count > 120 {
            safe = String(safe.prefix(120))
            changed = true
        }
        if safe.isEmpty { changed = true }
        // An id that already looks like a made-safe name ("a_b-1f2e3d4c5b", as "a/b"
        // becomes) gets a hash of its own too; otherwise the two would share a file name.
        if looksHashed(safe) { changed = true }
        guard changed else { return safe }
        let digest = SHA256.hash(data: Array(id.utf8))
        let hex = digest.prefix(5).map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
        return safe + "-" + hex
    }

    /// Ends with "-" and the 10 lowercase hex digits `safeName` appends.
    static func looksHashed(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars.suffix(11))
        guard scalars.count == 11, scalars[0] == "-" else { return false }
        return scalars.dropFirst().allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    /// The canonical XML of one order: UTF-8, values escaped, dates ISO 8601, money with
    /// two decimals, quantities whole numbers.
    public static func xml(for order: Order) -> String {
        xmlText(for: order).output.string
    }

    private static func xmlText(for order: Order) -> XMLText {
        // Attributes are appended one by one (no dictionary per element): this runs once
        // per order, a million times for a big file.
        var x = XMLText(capacity: 640)
        x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        x.raw("<orders xmlns=\"urn:edidrop:orders:1\">\n")
        x.raw("  <order")
        x.attribute("id", order.id)
        x.attribute("date", order.date?.iso)
        x.raw(">\n    <customer")
        x.attribute("name", order.customer.name)
        x.attribute("email", order.customer.email)
        x.attribute("phone", order.customer.phone)
        x.raw("/>\n    <shipTo")
        x.attribute("street", order.shipTo.street)
        x.attribute("city", order.shipTo.city)
        x.attribute("postcode", order.shipTo.postcode)
        x.attribute("country", order.shipTo.country)
        x.raw("/>\n")
        if order.carrier != nil || order.pickupPoint != nil {
            x.raw("    <delivery")
            x.attribute("carrier", order.carrier)
            x.attribute("pickupPoint", order.pickupPoint)
            x.raw("/>\n")
        }
        x.raw("    <payment")
        x.attribute("cod", order.cod?.formatted)
        x.attribute("currency", order.currency)
        x.raw("/>\n")
        if let notes = order.notes {
            x.raw("    <notes>")
            x.text(notes)
            x.raw("</notes>\n")
        }
        for line in order.lines {
            x.raw("    <line")
            x.attribute("sku", line.sku)
            x.attribute("ean", line.ean)
            x.attribute("quantity", String(line.quantity))
            x.attribute("unitPrice", line.unitPrice?.formatted)
            x.attribute("name", line.name)
            x.raw("/>\n")
        }
        x.raw("  </order>\n</orders>\n")
        return x
    }
}

extension WarehouseOrderFile {
    /// One UBL 2.1 Order document. Elements appear in the order the UBL schema requires
    /// (checked in the tests against `Schemas.ublOrderOutputXSD`); only what edidrop knows
    /// is written. Mapping, for warehouses reading it:
    /// - the address is `cac:Delivery/cac:DeliveryLocation/cac:Address` with the whole
    ///   street in `cbc:StreetName` (edidrop keeps street and number as one value), a
    ///   pickup point is `cac:DeliveryLocation/cbc:ID`, the carrier `cac:CarrierParty`;
    /// - cash on delivery is `cac:PaymentMeans/cbc:PaymentMeansCode` 10 (cash) with the
    ///   amount to collect in `cac:AnticipatedMonetaryTotal/cbc:PayableAmount`;
    /// - SKU is `cac:SellersItemIdentification/cbc:ID`, EAN `cac:StandardItemIdentification/cbc:ID`
    ///   (schemeID 0160, GTIN).
    /// `cac:SellerSupplierParty` is required by UBL; edidrop does not know the shop's legal
    /// details, so it is written empty. `cbc:IssueDate` is required too: an order that came
    /// without a date gets the day edidrop received it (`receivedOn`).
    public static func ubl(for order: Order, receivedOn: String) -> String {
        var x = XMLText(capacity: 2048)
        func element(_ indent: Int, _ name: String, _ value: String?, _ attributes: [(String, String)] = []) {
            guard let value else { return }
            x.raw(String(repeating: "  ", count: indent) + "<" + name)
            for (k, v) in attributes {
                x.raw(" \(k)=\"")
                x.attributeValue(v)
                x.raw("\"")
            }
            x.raw(">")
            x.text(value)
            x.raw("</" + name + ">\n")
        }
        func open(_ indent: Int, _ name: String) { x.raw(String(repeating: "  ", count: indent) + "<\(name)>\n") }
        func close(_ indent: Int, _ name: String) { x.raw(String(repeating: "  ", count: indent) + "</\(name)>\n") }

        x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        x.raw("<Order xmlns=\"\(UBL.orderNamespace)\"\n       xmlns:cac=\"\(UBL.cacNamespace)\"\n       xmlns:cbc=\"\(UBL.cbcNamespace)\">\n")
        element(1, "cbc:UBLVersionID", "2.1")
        element(1, "cbc:ID", order.id)
        let date = order.date.map { splitDateTime($0.iso) }
        element(1, "cbc:IssueDate", date?.date ?? receivedOn)
        element(1, "cbc:IssueTime", date?.time)
        if let notes = order.notes { element(1, "cbc:Note", notes) }
        element(1, "cbc:DocumentCurrencyCode", order.currency)

        open(1, "cac:BuyerCustomerParty")
        open(2, "cac:Party")
        open(3, "cac:PartyName")
        element(4, "cbc:Name", order.customer.name)
        close(3, "cac:PartyName")
        if order.customer.phone != nil || order.customer.email != nil {
            open(3, "cac:Contact")
            element(4, "cbc:Telephone", order.customer.phone)
            element(4, "cbc:ElectronicMail", order.customer.email)
            close(3, "cac:Contact")
        }
        close(2, "cac:Party")
        close(1, "cac:BuyerCustomerParty")
        x.raw("  <cac:SellerSupplierParty/>\n")

        open(1, "cac:Delivery")
        open(2, "cac:DeliveryLocation")
        element(3, "cbc:ID", order.pickupPoint)
        open(3, "cac:Address")
        element(4, "cbc:StreetName", order.shipTo.street)
        element(4, "cbc:CityName", order.shipTo.city)
        element(4, "cbc:PostalZone", order.shipTo.postcode)
        open(4, "cac:Country")
        element(5, "cbc:IdentificationCode", order.shipTo.country)
        close(4, "cac:Country")
        close(3, "cac:Address")
        close(2, "cac:DeliveryLocation")
        if let carrier = order.carrier {
            open(2, "cac:CarrierParty")
            open(3, "cac:PartyName")
            element(4, "cbc:Name", carrier)
            close(3, "cac:PartyName")
            close(2, "cac:CarrierParty")
        }
        close(1, "cac:Delivery")

        if let cod = order.cod {
            open(1, "cac:PaymentMeans")
            element(2, "cbc:PaymentMeansCode", "10")
            close(1, "cac:PaymentMeans")
            open(1, "cac:AnticipatedMonetaryTotal")
            element(2, "cbc:PayableAmount", cod.formatted, [("currencyID", order.currency)])
            close(1, "cac:AnticipatedMonetaryTotal")
        }

        for (i, line) in order.lines.enumerated() {
            open(1, "cac:OrderLine")
            open(2, "cac:LineItem")
            element(3, "cbc:ID", String(i + 1))
            element(3, "cbc:Quantity", String(line.quantity), [("unitCode", "C62")])
            if let price = line.unitPrice {
                open(3, "cac:Price")
                element(4, "cbc:PriceAmount", price.formatted, [("currencyID", order.currency)])
                close(3, "cac:Price")
            }
            open(3, "cac:Item")
            element(4, "cbc:Name", line.name)
            open(4, "cac:SellersItemIdentification")
            element(5, "cbc:ID", line.sku)
            close(4, "cac:SellersItemIdentification")
            if let ean = line.ean {
                open(4, "cac:StandardItemIdentification")
                element(5, "cbc:ID", ean, [("schemeID", "0160")])
                close(4, "cac:StandardItemIdentification")
            }
            close(3, "cac:Item")
            close(2, "cac:LineItem")
            close(1, "cac:OrderLine")
        }
        x.raw("</Order>\n")
        return x.output.string
    }

    /// "2026-11-27T10:15:00+01:00" -> ("2026-11-27", "10:15:00+01:00"), as UBL's separate
    /// date and time elements want it.
    static func splitDateTime(_ iso: String) -> (date: String, time: String?) {
        guard let t = iso.firstIndex(of: "T") else { return (iso, nil) }
        return (String(iso[..<t]), String(iso[iso.index(after: t)...]))
    }

    /// The canonical order columns, one row per line, `;`-separated, UTF-8, CRLF, the
    /// order's fields repeated on every row (a warehouse importing rows one by one needs
    /// them there). Text a spreadsheet would run as a formula is defused as in the shop
    /// feeds, since warehouse staff open these files too.
    public static func csv(for order: Order) -> String {
        var out = ShopCSV.row(OrdersCSVReader<BytesSource>.columns)
        for line in order.lines {
            out += ShopCSV.row([
                order.id, order.date?.iso ?? "", order.customer.name, order.customer.email ?? "", order.customer.phone ?? "",
                order.shipTo.street, order.shipTo.city, order.shipTo.postcode, order.shipTo.country,
                order.carrier ?? "", order.pickupPoint ?? "", order.cod?.formatted ?? "", order.currency,
                line.sku, line.ean ?? "", String(line.quantity), line.unitPrice?.formatted ?? "", line.name ?? "",
                order.notes ?? "",
            ])
        }
        return out
    }
}

/// Builds XML text with correct escaping. Tab, line feed and carriage return in
/// attributes are written as character references, since a parser would otherwise
/// normalise them to spaces and change the value.
struct XMLText {
    var output: UTF8Output

    init(capacity: Int) {
        output = UTF8Output(capacity: capacity)
    }

    mutating func raw(_ s: String) { output.append(s) }

    /// ` name="value"`, or nothing when the value is absent.
    mutating func attribute(_ name: String, _ value: String?) {
        guard let value else { return }
        output.append(" ")
        output.append(name)
        output.append("=\"")
        escape(value, attribute: true)
        output.append("\"")
    }

    mutating func text(_ s: String) { escape(s, attribute: false) }

    mutating func attributeValue(_ s: String) { escape(s, attribute: true) }

    private mutating func escape(_ s: String, attribute: Bool) {
        // Most values have nothing to escape: copy them whole.
        if !s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            output.append(s)
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": output.append("&amp;")
            case "<": output.append("&lt;")
            case ">": output.append("&gt;")
            case "\"" where attribute: output.append("&quot;")
            case "\t" where attribute: output.append("&#9;")
            case "\n" where attribute: output.append("&#10;")
            case "\r": output.append("&#13;")
            default: output.append(scalar)
            }
        }
    }
}
