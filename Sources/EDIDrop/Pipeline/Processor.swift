import Foundation
import GRDB
import Logging
import XMLSupport

/// Steps 2 and 3 of the protocol for one claimed file: identify it (SHA-256), read and
/// check it, and record everything it causes in one ledger transaction.
public struct Processor {
    let spool: Spool
    let ledger: Ledger
    let schemas: CompiledSchemas
    let clock: any Clock
    let crash: CrashSwitch
    let logger: Logger

    /// At most this many findings are stored per file; the count covers them all.
    static let maxStoredFindings = 1000

    /// Reads and commits a claimed file; returns its ledger record.
    public func process(_ claimed: ClaimedFile, receivedAt: Date) throws -> FileRecord {
        let received = Timestamp.iso(receivedAt)
        var record = FileRecord(
            id: nil, channel: claimed.channel, name: claimed.name, workName: claimed.workName,
            sourcePath: claimed.sourcePath, size: claimed.status.size, sha256: nil, format: nil, encoding: nil,
            state: .rejected, destDir: spool.relative(spool.rejected), storedName: claimed.name,
            duplicateOf: nil, documents: 0, errorCount: 0, receivedAt: received,
            processedAt: received, archivedAt: nil, superseded: false)

        guard claimed.status.kind == .regular else {
            let what = claimed.status.kind == .symlink ? "a symbolic link" : "not a regular file (a FIFO, socket or device)"
            return try commitRejected(&record, [Diagnostic(.unreadable, message: "\(claimed.name) is \(what); edidrop never follows or opens such entries: drop the file itself")])
        }
        let identity: FileIdentity
        do {
            identity = try FileIdentity.read(path: claimed.workPath, fallbackEncoding: spool.configuration.intake.fallbackEncoding)
        } catch {
            return try commitRejected(&record, [Diagnostic(.unreadable, message: "the file could not be read: \(error)")])
        }
        crash.reached(.afterHash)
        record.sha256 = identity.sha256
        record.size = identity.size

        if let earlier = try ledger.read({ db in
            try Row.fetchOne(db, sql: "SELECT id, name FROM files WHERE sha256 = ? AND superseded = 0 ORDER BY id LIMIT 1",
                             arguments: [identity.sha256])
        }) {
            let id: Int64 = earlier["id"]
            let name: String = earlier["name"]
            record.duplicateOf = id
            return try commitRejected(&record, [Diagnostic(.duplicateFile, message: "the same content was already received as file \(id) (\(name)); it is not processed again")])
        }
        if identity.size == 0 {
            return try commitRejected(&record, [Diagnostic(.emptyFile, message: "the file is empty")])
        }
        if identity.size > spool.configuration.intake.maxFileSize {
            return try commitRejected(&record, [Diagnostic(.tooLarge, message: "the file has \(identity.size) bytes; the limit (max_file_size) is \(spool.configuration.intake.maxFileSize)")])
        }
        record.encoding = identity.encoding.encoding.rawValue

        let opened = DocumentOpener.open(path: claimed.workPath, identity: identity, channel: claimed.channel,
                                         schemas: schemas, configuration: spool.configuration)
        switch opened {
        case .failure(let finding):
            return try commitRejected(&record, [finding])
        case .success(let document):
            record.format = document.format.rawValue
            switch document {
            case .orders(_, var reader):
                let validator = OrderValidator()
                return try commitDocument(&record, noun: ("order", "orders")) { db, fileID, now, tally in
                    while let draft = reader.next() {
                        let (order, problems) = validator.validate(draft)
                        tally.note(problems)
                        guard let order else { continue }
                        if let problem = try store(order, line: draft.line, fileID: fileID, db: db, now: now) {
                            tally.note([problem])
                        } else {
                            tally.documents += 1
                        }
                    }
                    return reader.findings
                }
            case .stock(_, var reader):
                let validator = warehouseValidator(claimed)
                var feed = StockFeed()
                return try commitDocument(&record, noun: ("stock line", "stock lines")) { db, fileID, now, tally in
                    while let draft = reader.next() {
                        let (line, problems) = validator.validate(draft)
                        tally.note(problems)
                        guard let line else { continue }
                        switch try StockLedger.apply(line, sourceLine: draft.line, fileID: fileID, db: db, now: now) {
                        case .applied(let changed):
                            tally.documents += 1
                            if changed { feed.add(line) }
                        case .stale:
                            tally.skipped += 1
                        }
                    }
                    if reader.findings.isEmpty && tally.count == 0, let content = feed.csv() {
                        try queueToShop(prefix: "stock", content: content, fileID: fileID, db: db, now: now)
                    }
                    return reader.findings
                }
            case .shipments(_, var reader):
                let validator = warehouseValidator(claimed)
                var feed = TrackingFeed()
                return try commitDocument(&record, noun: ("shipment", "shipments")) { db, fileID, now, tally in
                    while let draft = reader.next() {
                        let (shipment, problems) = validator.validate(draft)
                        tally.note(problems)
                        guard let shipment else { continue }
                        switch try ShipmentLedger.record(shipment, sourceLine: draft.line, fileID: fileID, db: db, now: now) {
                        case .recorded:
                            tally.documents += 1
                            feed.add(shipment)
                        case .alreadyRecorded:
                            tally.skipped += 1
                        case .unknownOrder(let finding):
                            tally.note([finding])
                        }
                    }
                    if reader.findings.isEmpty && tally.count == 0, let content = feed.csv() {
                        try queueToShop(prefix: "tracking", content: content, fileID: fileID, db: db, now: now)
                    }
                    return reader.findings
                }
            }
        }
    }

    /// Counts what a document did while it is read; findings are capped, their count is not.
    struct Tally {
        var findings: [Diagnostic] = []
        var count = 0
        /// Records that took effect (orders stored, stock lines applied, shipments recorded).
        var documents = 0
        /// Records that were fine but changed nothing (stale stock, known shipments).
        var skipped = 0

        mutating func note(_ f: [Diagnostic]) {
            count += f.count
            for d in f where findings.count < Processor.maxStoredFindings { findings.append(d) }
        }
    }

    /// One transaction for one file: the file, everything it causes and its outgoing
    /// messages, or, when any finding comes up, the file as rejected with every finding
    /// and nothing else (a savepoint rolls the effects back).
    private func commitDocument(_ record: inout FileRecord, noun: (String, String),
                                _ apply: (Database, Int64, String, inout Tally) throws -> [Diagnostic]) throws -> FileRecord {
        let now = Timestamp.iso(clock.now())
        record.processedAt = now
        return try ledger.write { db in
            record.state = .accepted
            record.destDir = spool.relative(FileSystem.join(spool.archive, Timestamp.localDay(clock.now())))
            record.storedName = Self.placeholderName()
            try record.insert(db)
            let fileID = record.id!
            var tally = Tally()
            var findings: [Diagnostic] = []
            var findingCount = 0
            try db.inSavepoint {
                let fileFindings = try apply(db, fileID, now, &tally)
                // A schema error already says what is wrong on its line; rule findings on the
                // same line would only repeat it in other words.
                let schemaLines = Set(fileFindings.filter { $0.code == .schema }.compactMap(\.line))
                let kept = tally.findings.filter { $0.line.map { !schemaLines.contains($0) } ?? true }
                findingCount = tally.count - (tally.findings.count - kept.count) + fileFindings.count
                findings = Array((fileFindings + kept).prefix(Self.maxStoredFindings))
                if tally.documents == 0 && tally.skipped == 0 && findingCount == 0 {
                    findings = [Diagnostic(.emptyFile, line: 2, message: "the file holds no \(noun.1)")]
                    findingCount = 1
                }
                return findingCount == 0 ? .commit : .rollback
            }
            if findingCount > 0 {
                record.state = .rejected
                record.destDir = spool.relative(spool.rejected)
                findings.sort { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) }
            }
            record.documents = findingCount == 0 ? tally.documents : 0
            record.errorCount = findingCount
            record.storedName = try freeName(record.name, id: fileID, in: record.destDir, db: db, withReports: record.state == .rejected)
            try record.update(db)
            for (i, f) in findings.enumerated() { try f.insert(db, fileID: fileID, seq: i) }
            try FileEvent(fileId: fileID, at: record.receivedAt, event: "received", detail: "\(spool.relative(spool.inputFolder(for: record.channel)))/\(record.name)").insert(db)
            var detail: String
            if record.state == .accepted {
                detail = "\(tally.documents) \(tally.documents == 1 ? noun.0 : noun.1)"
                if tally.skipped > 0 {
                    detail += noun.0 == "stock line" ? ", \(tally.skipped) stale (older than recorded)" : ", \(tally.skipped) already recorded"
                }
            } else {
                detail = "\(findingCount) error\(findingCount == 1 ? "" : "s")"
            }
            try FileEvent(fileId: fileID, at: now, event: record.state.rawValue, detail: detail).insert(db)
            return record
        }
    }

    private func warehouseValidator(_ claimed: ClaimedFile) -> WarehouseValidator {
        let mtime = Date(timeIntervalSince1970: Double(claimed.status.modified) / 1e9)
        let fileTime = DateValue(iso: Timestamp.isoSeconds(mtime), hasTime: true)
        return WarehouseValidator(fileTime: fileTime, localOffsetSeconds: TimeZone.current.secondsFromGMT(for: clock.now()))
    }

    /// Queues a feed file for the shop: `PREFIX-<UTC time>-<N>.csv`, N the message's id,
    /// which keeps names unique and in order.
    private func queueToShop(prefix: String, content: String, fileID: Int64, db: Database, now: String) throws {
        var message = OutboxMessage(id: nil, fileId: fileID, orderRef: nil, target: .toShop, name: Self.placeholderName(),
                                    content: Data(content.utf8), state: .pending, attempts: 0, lastError: nil,
                                    nextAttemptAt: nil, createdAt: now, deliveredAt: nil)
        try message.insert(db)
        let name = "\(prefix)-\(Timestamp.compact(clock.now()))-\(message.id!).csv"
        try db.execute(sql: "UPDATE outbox SET name = ? WHERE id = ?", arguments: [name, message.id])
    }

    /// Records one valid order and its warehouse file, or says why it cannot be.
    private func store(_ order: Order, line: Int, fileID: Int64, db: Database, now: String) throws -> Diagnostic? {
        if let existing = try OrderRecord.fetchOne(db, sql: "SELECT * FROM orders WHERE order_id = ?", arguments: [order.id]) {
            if existing.fileId == fileID {
                return try merge(order, into: existing, line: line, db: db)
            }
            let earlier = try String.fetchOne(db, sql: "SELECT name FROM files WHERE id = ?", arguments: [existing.fileId]) ?? "?"
            return Diagnostic(.duplicateOrder, line: line, field: "order_id", value: order.id,
                              message: "order \(order.id) was already received in file \(existing.fileId) (\(earlier)) and is \(existing.status.rawValue); it is never sent twice",
                              orderID: order.id)
        }
        var record = OrderRecord(id: nil, orderId: order.id, fileId: fileID, line: line, status: .received,
                                 data: try Self.encode(order), receivedAt: now, sentAt: nil, shippedAt: nil)
        try record.insert(db)
        var message = OutboxMessage(id: nil, fileId: fileID, orderRef: record.id, target: .outbox,
                                    name: WarehouseOrderFile.fileName(forOrderID: order.id),
                                    content: Data(WarehouseOrderFile.xml(for: order).utf8), state: .pending,
                                    attempts: 0, lastError: nil, nextAttemptAt: nil, createdAt: now, deliveredAt: nil)
        try message.insert(db)
        return nil
    }

    /// Rows of one order that are not next to each other in a file still form one order:
    /// the later part must agree on the order's fields and adds its lines.
    private func merge(_ part: Order, into existing: OrderRecord, line: Int, db: Database) throws -> Diagnostic? {
        var order = try JSONDecoder().decode(Order.self, from: Data(existing.data.utf8))
        var differing: [String] = []
        if part.customer != order.customer { differing.append("customer") }
        if part.shipTo != order.shipTo { differing.append("address") }
        if part.date != nil && part.date != order.date { differing.append("order_date") }
        if part.cod != nil && part.cod != order.cod { differing.append("cod_amount") }
        if part.carrier != nil && part.carrier != order.carrier { differing.append("carrier") }
        if !differing.isEmpty {
            return Diagnostic(.inconsistentOrder, line: line, field: differing[0], value: order.id,
                              message: "rows of order \(order.id) disagree (\(differing.joined(separator: ", "))) with line \(existing.line)",
                              orderID: order.id)
        }
        order.lines += part.lines
        try db.execute(sql: "UPDATE orders SET data = ? WHERE id = ?", arguments: [try Self.encode(order), existing.id])
        try db.execute(sql: "UPDATE outbox SET content = ? WHERE order_ref = ?",
                       arguments: [Data(WarehouseOrderFile.xml(for: order).utf8), existing.id])
        return nil
    }

    static func encode(_ order: Order) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(order), as: UTF8.self)
    }

    /// Records a file rejected before (or instead of) reading its documents.
    private func commitRejected(_ record: inout FileRecord, _ findings: [Diagnostic]) throws -> FileRecord {
        let now = Timestamp.iso(clock.now())
        record.processedAt = now
        record.state = .rejected
        record.destDir = spool.relative(spool.rejected)
        record.errorCount = findings.count
        return try ledger.write { db in
            record.storedName = Self.placeholderName()
            try record.insert(db)
            let id = record.id!
            record.storedName = try freeName(record.name, id: id, in: record.destDir, db: db, withReports: true)
            try record.update(db)
            for (i, f) in findings.enumerated() { try f.insert(db, fileID: id, seq: i) }
            try FileEvent(fileId: id, at: record.receivedAt, event: "received", detail: "\(spool.relative(spool.inputFolder(for: record.channel)))/\(record.name)").insert(db)
            try FileEvent(fileId: id, at: now, event: "rejected", detail: findings.first.map { "\($0.code.rawValue): \($0.message)" }).insert(db)
            return record
        }
    }

    /// The name the original keeps in its destination folder: as received, or with `~ID`
    /// before its last extension when that name is taken (on disk or by a file in flight).
    func freeName(_ name: String, id: Int64, in destDir: String, db: Database, withReports: Bool) throws -> String {
        let folder = spool.resolve(relative: destDir)
        func taken(_ candidate: String) throws -> Bool {
            if try Int.fetchOne(db, sql: "SELECT 1 FROM files WHERE dest_dir = ? AND stored_name = ? AND id != ?",
                                arguments: [destDir, candidate, id]) != nil { return true }
            if FileSystem.exists(FileSystem.join(folder, candidate)) { return true }
            if withReports && (FileSystem.exists(FileSystem.join(folder, candidate + ".report.json"))
                               || FileSystem.exists(FileSystem.join(folder, candidate + ".report.txt"))) { return true }
            return false
        }
        if try !taken(name) { return name }
        return Self.numberedName(name, id: id)
    }

    /// Held by a new row until its real name is chosen (which needs the row's id); it can
    /// never be a file's name, so the unique destination index never trips over it.
    static func placeholderName() -> String { "\u{0}pending-\(UUID().uuidString)" }

    static func numberedName(_ name: String, id: Int64) -> String {
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot])~\(id)\(name[dot...])"
        }
        return "\(name)~\(id)"
    }
}
