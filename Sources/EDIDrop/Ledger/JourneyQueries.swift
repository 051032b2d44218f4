import Foundation
import GRDB

/// One order's journey: when it arrived and in which file, when it went to the warehouse,
/// when it shipped and with which parcels.
public struct OrderJourney: Sendable {
    public struct Parcel: Sendable {
        public var tracking: String
        public var carrier: String?
        public var shippedAt: String?
        public var fileID: Int64
        public var recordedAt: String
    }

    public var orderID: String
    public var status: String
    public var fileID: Int64
    public var fileName: String
    public var line: Int
    public var receivedAt: String
    public var sentAt: String?
    public var shippedAt: String?
    public var warehouseFile: String?
    public var parcels: [Parcel]
    public var order: Order?

    public func json() -> JSONValue {
        var o = JSONObject()
        o.add("orderId", .string(orderID))
        o.add("status", .string(status))
        o.add("fileId", .int(Int(fileID)))
        o.add("file", .string(fileName))
        o.add("line", .int(line))
        o.add("receivedAt", .string(receivedAt))
        o.add("sentAt", .optional(sentAt))
        o.add("shippedAt", .optional(shippedAt))
        o.add("warehouseFile", .optional(warehouseFile))
        o.add("parcels", .array(parcels.map { p in
            var x = JSONObject()
            x.add("tracking", .string(p.tracking))
            x.add("carrier", .optional(p.carrier))
            x.add("shippedAt", .optional(p.shippedAt))
            x.add("fileId", .int(Int(p.fileID)))
            x.add("recordedAt", .string(p.recordedAt))
            return .object(x)
        }))
        if let order {
            o.add("lines", .int(order.lines.count))
            o.add("customer", .string(order.customer.name))
            o.add("city", .string(order.shipTo.city))
        }
        return .object(o)
    }
}

/// One SKU's current stock.
public struct StockEntry: Sendable {
    public var sku: String
    public var ean: String?
    public var available: Int
    public var reserved: Int?
    public var asOf: String
    public var fileID: Int64
    public var fileName: String

    public func json() -> JSONValue {
        var o = JSONObject()
        o.add("sku", .string(sku))
        o.add("ean", .optional(ean))
        o.add("available", .int(available))
        o.add("reserved", .optional(reserved))
        o.add("asOf", .string(asOf))
        o.add("fileId", .int(Int(fileID)))
        o.add("file", .string(fileName))
        return .object(o)
    }
}

/// Something expected from the warehouse that has not come.
public struct Overdue: Sendable, Equatable {
    public enum Kind: String, Sendable { case stockReport = "stock-report", shipmentConfirmation = "shipment-confirmation" }
    public var kind: Kind
    public var message: String
    /// Order ids waiting for a confirmation (at most 50 listed).
    public var orders: [String]

    public func json() -> JSONValue {
        var o = JSONObject()
        o.add("kind", .string(kind.rawValue))
        o.add("message", .string(message))
        o.add("orders", .array(orders.map(JSONValue.string)))
        return .object(o)
    }
}

extension Ledger {
    public func orders(status: OrderStatus? = nil, limit: Int = 1000) throws -> [OrderJourney] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.*, f.name AS file_name FROM orders o JOIN files f ON f.id = o.file_id
                WHERE (? IS NULL OR o.status = ?) ORDER BY o.id DESC LIMIT ?
                """, arguments: [status?.rawValue, status?.rawValue, limit]).map { row in
                OrderJourney(orderID: row["order_id"], status: row["status"], fileID: row["file_id"], fileName: row["file_name"],
                             line: row["line"], receivedAt: row["received_at"], sentAt: row["sent_at"], shippedAt: row["shipped_at"],
                             warehouseFile: nil, parcels: [], order: nil)
            }
        }
    }

    public func journey(orderID: String) throws -> OrderJourney? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT o.*, f.name AS file_name FROM orders o JOIN files f ON f.id = o.file_id WHERE o.order_id = ?
                """, arguments: [orderID]) else { return nil }
            let ref: Int64 = row["id"]
            let parcels = try Row.fetchAll(db, sql: "SELECT * FROM shipments WHERE order_ref = ? ORDER BY id", arguments: [ref]).map {
                OrderJourney.Parcel(tracking: $0["tracking"], carrier: $0["carrier"], shippedAt: $0["shipped_at"],
                                    fileID: $0["file_id"], recordedAt: $0["recorded_at"])
            }
            let file = try Row.fetchOne(db, sql: "SELECT target, name, state FROM outbox WHERE order_ref = ?", arguments: [ref])
            let data: String = row["data"]
            return OrderJourney(orderID: row["order_id"], status: row["status"], fileID: row["file_id"], fileName: row["file_name"],
                                line: row["line"], receivedAt: row["received_at"], sentAt: row["sent_at"], shippedAt: row["shipped_at"],
                                warehouseFile: file.map { "\($0["name"] as String) (\($0["state"] as String))" }, parcels: parcels,
                                order: try? JSONDecoder().decode(Order.self, from: Data(data.utf8)))
        }
    }

    public func stock(limit: Int = 100_000) throws -> [StockEntry] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.*, f.name AS file_name FROM stock s JOIN files f ON f.id = s.file_id ORDER BY s.sku LIMIT ?
                """, arguments: [limit]).map {
                StockEntry(sku: $0["sku"], ean: $0["ean"], available: $0["available"], reserved: $0["reserved"],
                           asOf: $0["as_of"], fileID: $0["file_id"], fileName: $0["file_name"])
            }
        }
    }

    /// Stale stock lines of one file, for `show`.
    public func staleStockLines(fileID: Int64) throws -> [(line: Int, sku: String, asOf: String, recordedAsOf: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM stale_stock_lines WHERE file_id = ? ORDER BY line", arguments: [fileID]).map {
                (line: $0["line"] as Int, sku: $0["sku"] as String, asOf: $0["as_of"] as String, recordedAsOf: $0["recorded_as_of"] as String)
            }
        }
    }

    /// What the warehouse owes us, against the configured expectations, at `now`.
    public func overdue(_ expectations: SpoolConfiguration.Expectations, now: Date) throws -> [Overdue] {
        try read { db in
            var out: [Overdue] = []
            if let every = expectations.stockReportEvery {
                let last = try String.fetchOne(db, sql: """
                    SELECT MAX(processed_at) FROM files WHERE \(Self.isStockReportSQL) AND +state = 'accepted'
                    """)
                let since = try last ?? String.fetchOne(db, sql: "SELECT MIN(received_at) FROM files")
                if let since, let sinceDate = Timestamp.parse(since), now.timeIntervalSince(sinceDate) > every {
                    let message = last == nil
                        ? "no stock report received yet (expected every \(Self.describe(every)))"
                        : "the last stock report came \(Self.describe(now.timeIntervalSince(sinceDate))) ago (expected every \(Self.describe(every)))"
                    out.append(Overdue(kind: .stockReport, message: message, orders: []))
                }
            }
            if let within = expectations.shipmentWithin {
                let cutoff = Timestamp.iso(now.addingTimeInterval(-within))
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders WHERE status = 'sent' AND sent_at < ?", arguments: [cutoff]) ?? 0
                if count > 0 {
                    let ids = try String.fetchAll(db, sql: "SELECT order_id FROM orders WHERE status = 'sent' AND sent_at < ? ORDER BY sent_at LIMIT 50", arguments: [cutoff])
                    out.append(Overdue(kind: .shipmentConfirmation,
                                       message: "\(count) order\(count == 1 ? "" : "s") sent more than \(Self.describe(within)) ago without a shipment confirmation",
                                       orders: ids))
                }
            }
            return out
        }
    }

    static func describe(_ seconds: Double) -> String {
        if seconds >= 86_400 && seconds.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(seconds / 86_400))d" }
        if seconds >= 3600 { return String(format: seconds.truncatingRemainder(dividingBy: 3600) == 0 ? "%.0fh" : "%.1fh", seconds / 3600) }
        if seconds >= 60 { return "\(Int(seconds / 60))m" }
        return "\(Int(seconds))s"
    }
}

extension Timestamp {
    /// Reads back what `iso` wrote.
    public static func parse(_ text: String) -> Date? {
        guard case .success(let d) = DateValue.parse(text), let epoch = d.utcEpochSeconds() else { return nil }
        var seconds = Double(epoch)
        if let dot = text.firstIndex(of: "."), let frac = Double("0" + text[dot...].prefix { $0 != "Z" && $0 != "+" }) {
            seconds += frac
        }
        return Date(timeIntervalSince1970: seconds)
    }
}
