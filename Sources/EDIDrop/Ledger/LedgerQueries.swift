import Foundation
import GRDB

/// Read-only views of the ledger for the command line (and later the web console).
/// Each returns plain values and knows how to show itself as JSON.
public struct StatusSnapshot: Sendable {
    public var filesByState: [String: Int]
    public var inFlight: Int
    public var pendingDeliveries: Int
    public var failingDeliveries: [(name: String, attempts: Int, error: String, nextAttempt: String?)]
    public var ordersByStatus: [String: Int]
    public var lastActivity: String?
    public var workLeftovers: Int
    public var problems: [String]
    public var notes: [String]
    /// What the warehouse owes against the configured expectations.
    public var overdue: [Overdue] = []
    /// Work that should have finished: files left in flight, deliveries failing.
    public var stuck: [String] = []
    public var runActive = false
    /// Messages held after a restore, waiting for `edidrop release`.
    public var heldDeliveries = 0

    /// `status --check`: something a person should look at.
    public var needsAttention: Bool { !overdue.isEmpty || !stuck.isEmpty || !problems.isEmpty }

    public func json() -> JSONValue {
        var o = JSONObject()
        var files = JSONObject()
        for s in FileState.allCases { files.add(s.rawValue, .int(filesByState[s.rawValue] ?? 0)) }
        o.add("files", .object(files))
        o.add("inFlight", .int(inFlight))
        o.add("pendingDeliveries", .int(pendingDeliveries))
        o.add("heldDeliveries", .int(heldDeliveries))
        o.add("failingDeliveries", .array(failingDeliveries.map { f in
            var x = JSONObject()
            x.add("name", .string(f.name))
            x.add("attempts", .int(f.attempts))
            x.add("error", .string(f.error))
            x.add("nextAttemptAt", .optional(f.nextAttempt))
            return .object(x)
        }))
        var orders = JSONObject()
        for s in OrderStatus.allCases { orders.add(s.rawValue, .int(ordersByStatus[s.rawValue] ?? 0)) }
        o.add("orders", .object(orders))
        o.add("lastActivity", .optional(lastActivity))
        o.add("workLeftovers", .int(workLeftovers))
        o.add("problems", .array(problems.map(JSONValue.string)))
        o.add("notes", .array(notes.map(JSONValue.string)))
        o.add("overdue", .array(overdue.map { $0.json() }))
        o.add("stuck", .array(stuck.map(JSONValue.string)))
        o.add("runActive", .bool(runActive))
        o.add("needsAttention", .bool(needsAttention))
        return .object(o)
    }
}

/// One line of `edidrop files`.
public struct FileSummary: Sendable {
    public var record: FileRecord

    public func json() -> JSONValue {
        let f = record
        var o = JSONObject()
        o.add("id", .int(Int(f.id ?? 0)))
        o.add("name", .string(f.name))
        o.add("channel", .string(f.channel.rawValue))
        o.add("state", .string(f.state.rawValue))
        o.add("archived", .bool(f.archivedAt != nil))
        o.add("format", .optional(f.format))
        o.add("encoding", .optional(f.encoding))
        o.add("sha256", .optional(f.sha256))
        o.add("size", .int(Int(f.size)))
        o.add("documents", .int(f.documents))
        o.add("errors", .int(f.errorCount))
        o.add("receivedAt", .string(f.receivedAt))
        o.add("processedAt", .string(f.processedAt))
        o.add("archivedAt", .optional(f.archivedAt))
        o.add("storedAs", .string("\(f.destDir)/\(f.storedName)"))
        if let d = f.duplicateOf { o.add("duplicateOf", .int(Int(d))) }
        return .object(o)
    }
}

/// Everything `edidrop show ID` tells about one file.
public struct FileDetail: Sendable {
    public var record: FileRecord
    public var events: [FileEvent]
    public var orders: [(orderID: String, status: String, line: Int)]
    public var deliveries: [(id: Int64, name: String, target: String, state: String, attempts: Int, deliveredAt: String?, lastError: String?)]
    public var diagnostics: [Diagnostic]

    public func json() -> JSONValue {
        guard case .object(var o) = FileSummary(record: record).json() else { return .null }
        o.add("history", .array(events.map { e in
            var x = JSONObject()
            x.add("at", .string(e.at))
            x.add("event", .string(e.event))
            x.add("detail", .optional(e.detail))
            return .object(x)
        }))
        o.add("orders", .array(orders.map { r in
            var x = JSONObject()
            x.add("orderId", .string(r.orderID))
            x.add("status", .string(r.status))
            x.add("line", .int(r.line))
            return .object(x)
        }))
        o.add("deliveries", .array(deliveries.map { d in
            var x = JSONObject()
            x.add("id", .int(Int(d.id)))
            x.add("name", .string(d.name))
            x.add("folder", .string(d.target))
            x.add("state", .string(d.state))
            x.add("attempts", .int(d.attempts))
            x.add("deliveredAt", .optional(d.deliveredAt))
            x.add("lastError", .optional(d.lastError))
            return .object(x)
        }))
        o.add("errors", .array(diagnostics.map { d in
            var x = JSONObject()
            x.add("code", .string(d.code.rawValue))
            x.add("line", .optional(d.line))
            x.add("column", .optional(d.column))
            x.add("field", .optional(d.field))
            x.add("value", .optional(d.value))
            x.add("message", .string(d.message))
            if let h = d.hint { x.add("hint", .string(h)) }
            return .object(x)
        }))
        return .object(o)
    }
}

extension Ledger {
    /// The first file still counted (not superseded) whose content has this SHA-256, as
    /// (id, name); inside the ledger's writing transaction (see `ContentIndex`).
    func earliestFile(withContent sha256: String, onDisk: ContentIndex.OnDisk? = nil,
                      _ db: Database) throws -> (id: Int64, name: String)? {
        try contentIndex.earliestFile(withContent: sha256, onDisk: onDisk, db)
    }

    /// Runs `body` in a read transaction, for reading ahead of a commit (the duplicate
    /// check's on-disk lookups, see `ContentIndex.earliestFile`), when the ledger has
    /// concurrent readers; otherwise, or when the transaction cannot start, not at all. Not
    /// on a ledger without them (`validate`'s scratch ledger): there a read waits for the
    /// writing transaction, which may be waiting for this very read. Whether `body` ran.
    func withReadSnapshot(_ body: (Database) -> Void) -> Bool {
        guard writer is DatabasePool else { return false }
        var ran = false
        try? read { db in
            body(db)
            ran = true
        }
        return ran
    }

    /// Starts reading the duplicate check's newest hashes on a thread of its own, so that
    /// the first file's lookup need not (see `ContentIndex.preload`). A read that fails is
    /// left to that lookup, which reads them itself.
    public func preloadContentIndex() {
        Thread.detachNewThread { [self] in
            try? read { db in try contentIndex.preload(db) }
        }
    }

    /// Moves the content hashes kept in memory into the on-disk index, in a transaction of
    /// its own, once enough files wait there; called after a commit.
    func mergeContentIndexIfDue() throws {
        guard contentIndex.isMergeDue else { return }
        try writer.write { db in try contentIndex.merge(db) }
    }

    /// A file that is a stock report, in the words of the `files_stock_reports` partial
    /// index (SQLite uses that index only for this very condition). With `+state`, not
    /// `state`, next to it: otherwise `files_state` looks cheaper to SQLite and nearly
    /// every accepted file would be visited through it.
    static let isStockReportSQL = "format IN ("
        + [DocumentFormat.stockCSV, .stockXML, .ublInventoryReport].map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    static let lastStockReportSQL = "SELECT * FROM files WHERE \(isStockReportSQL) AND +state = 'accepted' ORDER BY id DESC LIMIT 1"

    /// The newest stock report the warehouse sent that was accepted.
    public func lastStockReport() throws -> FileSummary? {
        try read { db in try FileRecord.fetchOne(db, sql: Self.lastStockReportSQL) }.map(FileSummary.init(record:))
    }

    /// Through the `files_state` index alone (a covering scan), not the table.
    static let filesByStateSQL = "SELECT state, COUNT(*) AS n FROM files GROUP BY state"

    public func status(spool: Spool, now: Date = Date()) throws -> StatusSnapshot {
        var snapshot = try read { db -> StatusSnapshot in
            var byState: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: Self.filesByStateSQL) {
                byState[row["state"]] = row["n"]
            }
            var byStatus: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM orders GROUP BY status") {
                byStatus[row["status"]] = row["n"]
            }
            let inFlight = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE archived_at IS NULL") ?? 0
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state != 'delivered' AND state IN ('pending', 'delivering')") ?? 0
            let held = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state != 'delivered' AND state = 'held'") ?? 0
            let failing = try Row.fetchAll(db, sql: """
                SELECT name, attempts, last_error, next_attempt_at FROM outbox
                WHERE state != 'delivered' AND state IN ('pending', 'delivering') AND last_error IS NOT NULL ORDER BY id LIMIT 20
                """).map { (name: $0["name"] as String, attempts: $0["attempts"] as Int,
                            error: $0["last_error"] as String, nextAttempt: $0["next_attempt_at"] as String?) }
            // The newest row, not MAX(at): `at` has no index, and events are appended in time order.
            let last = try String.fetchOne(db, sql: "SELECT at FROM file_events ORDER BY rowid DESC LIMIT 1")
            var snapshot = StatusSnapshot(filesByState: byState, inFlight: inFlight, pendingDeliveries: pending,
                                          failingDeliveries: failing, ordersByStatus: byStatus, lastActivity: last,
                                          workLeftovers: 0, problems: [], notes: [])
            snapshot.heldDeliveries = held
            return snapshot
        }
        for channel in Channel.allCases {
            snapshot.workLeftovers += (try? FileSystem.list(spool.workFolder(for: channel)).count) ?? 0
        }
        for f in snapshot.failingDeliveries {
            snapshot.problems.append("delivery of \(f.name) failing after \(f.attempts) attempt(s): \(f.error)")
        }
        snapshot.runActive = SpoolLock.isHeld(path: spool.lockPath)
        // A file in flight for a moment is normal while a run works; minutes are not, and
        // with no run at all anything in flight waits for the next start.
        let grace = Timestamp.iso(now.addingTimeInterval(-120))
        let stale = try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE archived_at IS NULL AND (? OR processed_at < ?)",
                             arguments: [!snapshot.runActive, grace]) ?? 0
        }
        if stale > 0 { snapshot.stuck.append("\(stale) file(s) committed but not archived") }
        if snapshot.workLeftovers > 0 && !snapshot.runActive {
            snapshot.stuck.append("\(snapshot.workLeftovers) file(s) left in work/ (finished at the next start)")
        }
        if snapshot.heldDeliveries > 0 {
            snapshot.problems.append("\(snapshot.heldDeliveries) message(s) held after a restore: check with the warehouse, then run `edidrop release`")
        }
        if !snapshot.failingDeliveries.isEmpty {
            snapshot.stuck.append("\(snapshot.failingDeliveries.count) delivery(ies) failing")
        }
        snapshot.overdue = try overdue(spool.configuration.expectations, now: now)
        for (label, folder) in [("inbox", spool.inbox), ("outbox", spool.outbox), ("from-warehouse", spool.fromWarehouse),
                                ("to-shop", spool.toShop), ("archive", spool.archive), ("rejected", spool.rejected)] {
            if spool.isRemote(folder) {
                snapshot.notes.append("\(label) folder is on an SFTP server (\(folder)): reached directly, no mount")
                continue
            }
            guard let st = try? FileSystem.status(folder), st.kind == .directory else {
                snapshot.problems.append("\(label) folder \(folder) is missing")
                continue
            }
            if access(folder, W_OK) != 0 {
                snapshot.problems.append("\(label) folder \(folder) is not writable")
            }
            if let fs = FileSystem.networkFileSystemName(folder) {
                snapshot.notes.append("\(label) folder is on a network file system (\(fs)): polled, and settle should allow for its attribute cache")
            }
        }
        return snapshot
    }

    public func files(state: FileState? = nil, channel: Channel? = nil, limit: Int = 1000) throws -> [FileSummary] {
        try read { db in
            var arguments: StatementArguments = []
            if let state { arguments += [state.rawValue] }
            if let channel { arguments += [channel.rawValue] }
            arguments += [limit]
            return try FileRecord.fetchAll(db, sql: Self.filesSQL(byState: state != nil, byChannel: channel != nil), arguments: arguments)
                .map(FileSummary.init(record:))
        }
    }

    /// Newest first. A state is looked up through `files_state` (newest first within it),
    /// so listing the rejected files of a ledger that has few does not read every row.
    static func filesSQL(byState: Bool, byChannel: Bool) -> String {
        let conditions: [String] = (byState ? ["state = ?"] : []) + (byChannel ? ["channel = ?"] : [])
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return "SELECT * FROM files\(filter) ORDER BY id DESC LIMIT ?"
    }

    public func fileRecord(id: Int64) throws -> FileRecord? {
        try read { db in try FileRecord.fetchOne(db, key: id) }
    }

    public func detail(fileID: Int64) throws -> FileDetail? {
        try read { db in
            guard let record = try FileRecord.fetchOne(db, key: fileID) else { return nil }
            let events = try FileEvent.fetchAll(db, sql: "SELECT * FROM file_events WHERE file_id = ? ORDER BY rowid", arguments: [fileID])
            let orders = try Row.fetchAll(db, sql: "SELECT order_id, status, line FROM orders WHERE file_id = ? ORDER BY id", arguments: [fileID])
                .map { (orderID: $0["order_id"] as String, status: $0["status"] as String, line: $0["line"] as Int) }
            let deliveries = try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox WHERE file_id = ? ORDER BY id", arguments: [fileID])
                .map { (id: $0.id ?? 0, name: $0.name, target: $0.target.rawValue, state: $0.state.rawValue, attempts: $0.attempts,
                        deliveredAt: $0.deliveredAt, lastError: $0.lastError) }
            let diagnostics = try Diagnostic.fetchAll(db, fileID: fileID)
            return FileDetail(record: record, events: events, orders: orders, deliveries: deliveries, diagnostics: diagnostics)
        }
    }
}
