import Foundation
import GRDB

/// What became of a file. Stored as text in `files.state`.
public enum FileState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// Committed; its messages go out; the original goes to archive/.
    case accepted
    /// Committed as rejected (invalid, duplicate, unreadable); the original goes to rejected/.
    case rejected
}

/// The life of an outgoing message. Stored as text in `outbox.state`.
public enum DeliveryState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// Recorded, not yet in its folder (its temp file may or may not exist).
    case pending
    /// The temp file is complete and fsynced; the rename may or may not have happened.
    case delivering
    /// Renamed into place and the folder fsynced.
    case delivered
    /// After a restore: it cannot be known whether this went out after the backup was
    /// taken, so it waits for a person (`edidrop release`) instead of risking a resend.
    case held
}

/// Where an order is on its journey. Stored as text in `orders.status`.
public enum OrderStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case received
    case sent
    case shipped
}

/// One row of `files`.
public struct FileRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "files"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var channel: Channel
    /// The name as received.
    public var name: String
    /// The name inside work/<channel>/ while in flight.
    public var workName: String
    /// Set when the claim copied across file systems: the original to remove after commit.
    public var sourcePath: String?
    public var size: Int64
    /// nil when the content was never read (a link, a FIFO, an unreadable file).
    public var sha256: String?
    public var format: String?
    public var encoding: String?
    public var state: FileState
    /// Where the original goes, relative to the spool (archive/YYYY-MM-DD or rejected).
    public var destDir: String
    /// Its name there (the received name, or with ~ID when taken).
    public var storedName: String
    public var duplicateOf: Int64?
    public var documents: Int
    public var errorCount: Int
    public var receivedAt: String
    public var processedAt: String
    public var archivedAt: String?
    /// Set by `retry`: the file was handed back for another attempt and no longer
    /// counts for duplicate detection.
    public var superseded: Bool

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One row of `outbox`: a message and its delivery.
public struct OutboxMessage: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "outbox"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var fileId: Int64
    public var orderRef: Int64?
    public var target: DeliveryTarget
    public var name: String
    public var content: Data
    public var state: DeliveryState
    public var attempts: Int
    public var lastError: String?
    public var nextAttemptAt: String?
    public var createdAt: String
    public var deliveredAt: String?

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One row of `orders`.
public struct OrderRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "orders"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var orderId: String
    public var fileId: Int64
    public var line: Int
    public var status: OrderStatus
    /// The normalised order as JSON.
    public var data: String
    public var receivedAt: String
    public var sentAt: String?
    public var shippedAt: String?

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One row of `file_events`: a file's history.
public struct FileEvent: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "file_events"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var fileId: Int64
    public var at: String
    public var event: String
    public var detail: String?
}

extension Channel: DatabaseValueConvertible {}
extension DeliveryTarget: DatabaseValueConvertible {}

extension Diagnostic {
    /// Row values for `diagnostics`.
    func insert(_ db: Database, fileID: Int64, seq: Int) throws {
        try db.execute(sql: """
            INSERT INTO diagnostics (file_id, seq, code, line, col, field, value, message, order_id, hint)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [fileID, seq, code.rawValue, line, column, field, value, message, orderID, hint])
    }

    static func fetchAll(_ db: Database, fileID: Int64) throws -> [Diagnostic] {
        try Row.fetchAll(db, sql: "SELECT * FROM diagnostics WHERE file_id = ? ORDER BY seq", arguments: [fileID]).map { row in
            Diagnostic(ErrorCode(rawValue: row["code"]) ?? .invalidValue,
                       line: row["line"], column: row["col"], field: row["field"], value: row["value"],
                       message: row["message"], orderID: row["order_id"], hint: row["hint"])
        }
    }
}
