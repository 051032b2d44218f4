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

// Each record reads and writes its row by hand: GRDB's Codable bridge converts every
// column name to snake case on every row, which was a tenth of the time of a small file.

/// One row of `files`.
public struct FileRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "files"

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

    public var fileId: Int64
    public var at: String
    public var event: String
    public var detail: String?
}

extension Ledger {
    /// Inserts a file's row in the writing transaction and takes note of it in the
    /// duplicate check (`ContentIndex.noteInserted`), which then need not read it back at
    /// the next file's lookup. The only way a files row is written: the duplicate check
    /// counts on it (`insertRow` is private to this file, no other SQL inserts there, and
    /// GRDB's record `insert` is not used for files; debug builds check every skipped read).
    func insert(_ record: inout FileRecord, _ db: Database) throws {
        try record.insertRow(db)
        if let id = record.id { contentIndex.noteInserted(id: id, sha256: record.sha256) }
    }
}

extension FileRecord {
    /// Inserts the row with a cached statement (GRDB's record insert builds its SQL anew
    /// each time) and takes its id. Through `Ledger.insert` only.
    fileprivate mutating func insertRow(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO files (channel, name, work_name, source_path, size, sha256, format, encoding, state, dest_dir,
                               stored_name, duplicate_of, documents, error_count, received_at, processed_at, archived_at, superseded)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [channel, name, workName, sourcePath, size, sha256, format, encoding, state, destDir,
                                     storedName, duplicateOf, documents, errorCount, receivedAt, processedAt, archivedAt, superseded])
        id = db.lastInsertedRowID
    }

    /// Writes what a commit settles last (the outcome and where the original goes).
    /// `inserted`: the state, folder and name the row was inserted with. Columns that kept
    /// their value stay out of the SET: SQLite deletes and re-inserts the index entries of
    /// every column named there, changed or not (seven times the cost of the row alone).
    func updateOutcome(_ db: Database, inserted: (state: FileState, destDir: String, storedName: String)) throws {
        if state == inserted.state && destDir == inserted.destDir && storedName == inserted.storedName {
            try db.cachedStatement(sql: "UPDATE files SET documents = ?, error_count = ? WHERE id = ?")
                .execute(arguments: [documents, errorCount, id])
        } else if state == inserted.state && destDir == inserted.destDir {
            try db.cachedStatement(sql: "UPDATE files SET stored_name = ?, documents = ?, error_count = ? WHERE id = ?")
                .execute(arguments: [storedName, documents, errorCount, id])
        } else {
            try db.cachedStatement(sql: "UPDATE files SET state = ?, dest_dir = ?, stored_name = ?, documents = ?, error_count = ? WHERE id = ?")
                .execute(arguments: [state, destDir, storedName, documents, errorCount, id])
        }
    }

    public init(row: Row) throws {
        id = row["id"]; channel = row["channel"]; name = row["name"]; workName = row["work_name"]
        sourcePath = row["source_path"]; size = row["size"]; sha256 = row["sha256"]; format = row["format"]
        encoding = row["encoding"]; state = row["state"]; destDir = row["dest_dir"]; storedName = row["stored_name"]
        duplicateOf = row["duplicate_of"]; documents = row["documents"]; errorCount = row["error_count"]
        receivedAt = row["received_at"]; processedAt = row["processed_at"]; archivedAt = row["archived_at"]
        superseded = row["superseded"]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id; container["channel"] = channel; container["name"] = name; container["work_name"] = workName
        container["source_path"] = sourcePath; container["size"] = size; container["sha256"] = sha256; container["format"] = format
        container["encoding"] = encoding; container["state"] = state; container["dest_dir"] = destDir; container["stored_name"] = storedName
        container["duplicate_of"] = duplicateOf; container["documents"] = documents; container["error_count"] = errorCount
        container["received_at"] = receivedAt; container["processed_at"] = processedAt; container["archived_at"] = archivedAt
        container["superseded"] = superseded
    }
}

extension OutboxMessage {
    public init(row: Row) throws {
        id = row["id"]; fileId = row["file_id"]; orderRef = row["order_ref"]; target = row["target"]; name = row["name"]
        content = row["content"]; state = row["state"]; attempts = row["attempts"]; lastError = row["last_error"]
        nextAttemptAt = row["next_attempt_at"]; createdAt = row["created_at"]; deliveredAt = row["delivered_at"]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id; container["file_id"] = fileId; container["order_ref"] = orderRef; container["target"] = target
        container["name"] = name; container["content"] = content; container["state"] = state; container["attempts"] = attempts
        container["last_error"] = lastError; container["next_attempt_at"] = nextAttemptAt; container["created_at"] = createdAt
        container["delivered_at"] = deliveredAt
    }
}

extension OrderRecord {
    public init(row: Row) throws {
        id = row["id"]; orderId = row["order_id"]; fileId = row["file_id"]; line = row["line"]; status = row["status"]
        data = row["data"]; receivedAt = row["received_at"]; sentAt = row["sent_at"]; shippedAt = row["shipped_at"]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id; container["order_id"] = orderId; container["file_id"] = fileId; container["line"] = line
        container["status"] = status; container["data"] = data; container["received_at"] = receivedAt
        container["sent_at"] = sentAt; container["shipped_at"] = shippedAt
    }
}

extension FileEvent {
    /// Appends the event with a cached statement (several events a file, on the hot path).
    func write(_ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO file_events (file_id, at, event, detail) VALUES (?, ?, ?, ?)")
            .execute(arguments: [fileId, at, event, detail])
    }

    /// Two events in one statement, in this order (a commit's "received" and its outcome):
    /// one statement less per file on the committing thread.
    static func write(_ first: FileEvent, then second: FileEvent, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO file_events (file_id, at, event, detail) VALUES (?, ?, ?, ?), (?, ?, ?, ?)")
            .execute(arguments: [first.fileId, first.at, first.event, first.detail, second.fileId, second.at, second.event, second.detail])
    }

    public init(row: Row) throws {
        fileId = row["file_id"]; at = row["at"]; event = row["event"]; detail = row["detail"]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["file_id"] = fileId; container["at"] = at; container["event"] = event; container["detail"] = detail
    }
}

extension Channel: DatabaseValueConvertible {}
extension DeliveryTarget: DatabaseValueConvertible {}

extension Diagnostic {
    /// Row values for `diagnostics`.
    func insert(_ db: Database, fileID: Int64, seq: Int) throws {
        try db.cachedStatement(sql: """
            INSERT INTO diagnostics (file_id, seq, code, line, col, field, value, message, order_id, hint)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [fileID, seq, code.rawValue, line, column, field, value, message, orderID, hint])
    }

    static func fetchAll(_ db: Database, fileID: Int64) throws -> [Diagnostic] {
        try Row.fetchAll(db, sql: "SELECT * FROM diagnostics WHERE file_id = ? ORDER BY seq", arguments: [fileID]).map { row in
            Diagnostic(ErrorCode(rawValue: row["code"]) ?? .invalidValue,
                       line: row["line"], column: row["col"], field: row["field"], value: row["value"],
                       message: row["message"], orderID: row["order_id"], hint: row["hint"])
        }
    }
}
