import GRDB

/// The stock table: one row per SKU, the newest count the warehouse reported.
enum StockLedger {
    enum Outcome: Equatable {
        /// Recorded; `changed` when the shop needs to hear of it (new SKU, other count or EAN).
        case applied(changed: Bool)
        /// Older than what is recorded for the SKU: a late file never overwrites newer stock.
        case stale
    }

    static func apply(_ line: StockLine, sourceLine: Int, fileID: Int64, db: Database, now: String) throws -> Outcome {
        let current = try Row.fetchOne(db, sql: "SELECT available, ean, as_of, as_of_epoch FROM stock WHERE sku = ?", arguments: [line.sku])
        if let current {
            let recordedEpoch: Int64 = current["as_of_epoch"]
            if line.asOfEpoch < recordedEpoch {
                try db.execute(sql: """
                    INSERT INTO stale_stock_lines (file_id, line, sku, as_of, recorded_as_of) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [fileID, sourceLine, line.sku, line.asOf, current["as_of"] as String])
                return .stale
            }
        }
        let changed = current.map { ($0["available"] as Int) != line.available || ($0["ean"] as String?) != line.ean } ?? true
        try db.execute(sql: """
            INSERT INTO stock (sku, ean, available, reserved, as_of, as_of_epoch, file_id, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(sku) DO UPDATE SET ean = excluded.ean, available = excluded.available,
                reserved = excluded.reserved, as_of = excluded.as_of, as_of_epoch = excluded.as_of_epoch,
                file_id = excluded.file_id, updated_at = excluded.updated_at
            """, arguments: [line.sku, line.ean, line.available, line.reserved, line.asOf, line.asOfEpoch, fileID, now])
        return .applied(changed: changed)
    }
}

/// Shipment confirmations: each (order, tracking number) once; the order becomes shipped.
enum ShipmentLedger {
    enum Outcome {
        case recorded
        case alreadyRecorded
        case unknownOrder(Diagnostic)
    }

    static func record(_ s: Shipment, sourceLine: Int, fileID: Int64, db: Database, now: String) throws -> Outcome {
        guard let order = try Row.fetchOne(db, sql: "SELECT id, status FROM orders WHERE order_id = ?", arguments: [s.orderID]),
              (order["status"] as String) != OrderStatus.received.rawValue else {
            return .unknownOrder(Diagnostic(.unknownOrder, line: sourceLine, field: "order_id", value: s.orderID,
                                            message: "order \(s.orderID) was never sent to the warehouse", orderID: s.orderID))
        }
        let orderRef: Int64 = order["id"]
        if try Int.fetchOne(db, sql: "SELECT 1 FROM shipments WHERE order_ref = ? AND tracking = ?", arguments: [orderRef, s.tracking]) != nil {
            return .alreadyRecorded
        }
        try db.execute(sql: """
            INSERT INTO shipments (order_ref, tracking, carrier, shipped_at, file_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [orderRef, s.tracking, s.carrier, s.shippedAt, fileID, now])
        try db.execute(sql: "UPDATE orders SET status = 'shipped', shipped_at = COALESCE(shipped_at, ?) WHERE id = ?",
                       arguments: [s.shippedAt ?? now, orderRef])
        return .recorded
    }
}
