import Foundation
import GRDB
import Logging

/// `edidrop restore BACKUP`: puts a backup of the ledger in place without breaking the
/// exactly-once promise. The backup is older than the folders: files processed after it
/// was taken are in archive/ and rejected/, and their orders may already be at the
/// warehouse. So, after the copy:
/// - every original the backup does not know is adopted (recorded as processed, its
///   orders as sent, its messages as delivered): a re-sent order is then DUPLICATE_ORDER;
/// - every message the backup still had pending is held, unless its file is visibly in
///   the target folder (then it is marked delivered): whether it left after the backup
///   cannot be known, and a person decides with `edidrop release`.
public struct Restore {
    let spool: Spool
    let schemas: CompiledSchemas
    let clock: any Clock
    let logger: Logger

    public init(spool: Spool, schemas: CompiledSchemas, clock: any Clock = SystemClock(), logger: Logger) {
        self.spool = spool
        self.schemas = schemas
        self.clock = clock
        self.logger = logger
    }

    public struct Outcome: Sendable {
        public var replacedLedger: String?
        public var held: [String]
        public var markedDelivered: [String]
        public var findings: [Doctor.Finding]
    }

    /// The caller holds the spool lock (no run may work meanwhile).
    public func restore(from backup: String) throws -> Outcome {
        guard try FileSystem.status(backup)?.kind == .regular else {
            throw SystemError("restore", backup, errno: ENOENT)
        }
        // Check that it is a ledger before anything is moved.
        let probe = NSTemporaryDirectory() + "edidrop-restore-\(UUID().uuidString).sqlite"
        try FileSystem.copyDurably(from: backup, to: probe)
        defer { try? FileSystem.removeFile(probe) }
        _ = try Ledger(path: probe).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files") }

        var replaced: String?
        if FileSystem.exists(spool.ledgerPath) {
            var aside = spool.ledgerPath + ".replaced-" + Timestamp.compact(clock.now())
            var n = 1
            while FileSystem.exists(aside) {
                n += 1
                aside = spool.ledgerPath + ".replaced-" + Timestamp.compact(clock.now()) + "-\(n)"
            }
            for suffix in ["", "-wal", "-shm"] where FileSystem.exists(spool.ledgerPath + suffix) {
                try FileSystem.renameNoReplace(from: spool.ledgerPath + suffix, to: aside + suffix)
            }
            replaced = aside
        }
        let incoming = FileSystem.join(spool.root, ".ledger-restore.tmp")
        try FileSystem.removeFile(incoming)
        try FileSystem.copyDurably(from: backup, to: incoming)
        try FileSystem.renameNoReplace(from: incoming, to: spool.ledgerPath)
        try FileSystem.syncDirectory(spool.root)

        let ledger = try Ledger(path: spool.ledgerPath)
        var held: [String] = []
        var delivered: [String] = []
        let now = Timestamp.iso(clock.now())
        try ledger.write { db in
            let open = try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox WHERE state != 'delivered' AND state IN ('pending', 'delivering') ORDER BY id")
            for m in open {
                let label = "\(m.target.rawValue)/\(m.name)"
                if FileSystem.exists(FileSystem.join(spool.folder(for: m.target), m.name)) {
                    try db.execute(sql: "UPDATE outbox SET state = 'delivered', delivered_at = ?, last_error = 'found in its folder after a restore' WHERE id = ?", arguments: [now, m.id])
                    if let order = m.orderRef {
                        try db.execute(sql: "UPDATE orders SET status = 'sent', sent_at = ? WHERE id = ? AND status = 'received'", arguments: [now, order])
                    }
                    delivered.append(label)
                } else {
                    try db.execute(sql: "UPDATE outbox SET state = 'held', last_error = 'held after a restore: it may have been delivered after the backup was taken' WHERE id = ?", arguments: [m.id])
                    held.append(label)
                }
            }
        }
        let findings = try Doctor(spool: spool, ledger: ledger, schemas: schemas, clock: clock, logger: logger).examine(repair: true)
        return Outcome(replacedLedger: replaced, held: held, markedDelivered: delivered, findings: findings)
    }
}

/// `edidrop release`: a person decides about held messages.
public struct Release {
    let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    /// Held messages (all when `ids` is empty) become pending (sent by the next run) or,
    /// with `asDelivered`, are recorded as delivered without sending. Returns their names.
    public func release(ids: [Int64], asDelivered: Bool, now: Date = Date()) throws -> [String] {
        try ledger.write { db in
            let held = try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox WHERE state != 'delivered' AND state = 'held' ORDER BY id")
                .filter { ids.isEmpty || ids.contains($0.id!) }
            for m in held {
                if asDelivered {
                    try db.execute(sql: "UPDATE outbox SET state = 'delivered', delivered_at = ?, last_error = 'released as delivered by a person' WHERE id = ?",
                                   arguments: [Timestamp.iso(now), m.id])
                    if let order = m.orderRef {
                        try db.execute(sql: "UPDATE orders SET status = 'sent', sent_at = ? WHERE id = ? AND status = 'received'", arguments: [Timestamp.iso(now), order])
                    }
                } else {
                    try db.execute(sql: "UPDATE outbox SET state = 'pending', last_error = NULL, next_attempt_at = NULL WHERE id = ?", arguments: [m.id])
                }
            }
            return held.map { "\($0.target.rawValue)/\($0.name) (message \($0.id!))" }
        }
    }
}
