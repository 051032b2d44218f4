import Foundation
import GRDB
import Logging

/// `edidrop doctor`: checks the ledger against the folders, and with `--repair` fixes
/// what is safe to fix. Safe means: it can never send anything twice. A file the ledger
/// does not know is adopted (recorded with everything it caused marked as delivered);
/// a delivery whose outcome cannot be known is held for a person to decide.
public struct Doctor {
    public struct Finding: Sendable, Equatable {
        /// A stable code for scripts.
        public var code: String
        public var message: String
        public var repaired: Bool

        public func json() -> JSONValue {
            var o = JSONObject()
            o.add("code", .string(code))
            o.add("message", .string(message))
            o.add("repaired", .bool(repaired))
            return .object(o)
        }
    }

    let spool: Spool
    let ledger: Ledger
    let schemas: CompiledSchemas
    let clock: any Clock
    let logger: Logger

    public init(spool: Spool, ledger: Ledger, schemas: CompiledSchemas, clock: any Clock = SystemClock(), logger: Logger) {
        self.spool = spool
        self.ledger = ledger
        self.schemas = schemas
        self.clock = clock
        self.logger = logger
    }

    public func examine(repair: Bool) throws -> [Finding] {
        var findings: [Finding] = []
        func add(_ code: String, _ message: String, repaired: Bool = false) {
            findings.append(Finding(code: code, message: message, repaired: repaired))
        }

        let integrity = try ledger.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        if integrity != ["ok"] {
            add("LEDGER_CORRUPT", "SQLite integrity check: \(integrity.prefix(5).joined(separator: "; ")); restore a backup (README: Restoring a backup)")
            return findings
        }

        let archiver = Archiver(spool: spool, ledger: ledger, clock: clock, crash: .disarmed, logger: logger)
        let deliverer = Deliverer(spool: spool, ledger: ledger, clock: clock, crash: .disarmed, logger: logger)
        // A page of files at a time: a ledger of a million files is never held in memory
        // (it took 1.4 GB), and what is on disk is looked up through the ledger's indexes.
        var knownWork = Set<String>()
        var lastID: Int64 = 0
        while true {
            let page = try ledger.read { db in
                try FileRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM files WHERE id > ? ORDER BY id LIMIT 1000"),
                                        arguments: [lastID])
            }
            guard let last = page.last?.id else { break }
            lastID = last
            for file in page {
                let dest = spool.resolve(relative: file.destDir)
                if file.archivedAt == nil {
                    knownWork.insert("\(file.channel.rawValue)/\(file.workName)")
                    var fixed = false
                    if repair {
                        do { try archiver.archive(file); fixed = true } catch {
                            add("ARCHIVE_FAILED", "file \(file.id!) (\(file.name)) could not be archived: \(error)")
                        }
                    }
                    add("IN_FLIGHT", "file \(file.id!) (\(file.name)) is committed but not yet in \(file.destDir)/", repaired: fixed)
                    continue
                }
                if file.superseded { continue }
                let original = FileSystem.join(dest, file.storedName)
                if try FileSystem.status(original) == nil {
                    add("ORIGINAL_MISSING", "file \(file.id!) (\(file.name)): its original is no longer at \(file.destDir)/\(file.storedName)")
                    continue
                }
                if file.state == .rejected {
                    let reports = RejectionReport.fileSuffixes.map { FileSystem.join(dest, file.storedName + $0) }
                    if reports.contains(where: { !FileSystem.exists($0) }) {
                        var fixed = false
                        if repair {
                            let report = try RejectionReport.load(file, ledger: ledger, original: original)
                            let l = spool.configuration.reportLanguage
                            try FileSystem.writeDurably(Array(report.json().utf8), to: reports[0])
                            try FileSystem.writeDurably(Array(report.text(language: l).utf8), to: reports[1])
                            try FileSystem.writeDurably(Array(report.html(language: l).utf8), to: reports[2])
                            fixed = true
                        }
                        add("REPORT_MISSING", "file \(file.id!) (\(file.name)): its report is missing from \(file.destDir)/", repaired: fixed)
                    }
                }
            }
        }

        // Deliveries interrupted with no run to finish them.
        let undelivered = try ledger.read { db in
            try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox WHERE state != 'delivered' AND state IN ('pending', 'delivering') ORDER BY id")
        }
        for m in undelivered where m.state == .delivering {
            var fixed = false
            if repair {
                do { try deliverer.deliver(m); fixed = true } catch {
                    add("DELIVERY_FAILED", "\(m.name): \(error)")
                }
            }
            add("DELIVERY_INTERRUPTED", "\(m.target.rawValue)/\(m.name) was being delivered when edidrop stopped", repaired: fixed)
        }
        let held = try ledger.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state != 'delivered' AND state = 'held'") ?? 0 }
        if held > 0 {
            add("HELD_DELIVERIES", "\(held) message(s) held after a restore: check with the warehouse, then `edidrop release`")
        }

        // Temp files that belong to no delivery in progress.
        let inProgress = Set(undelivered.map { "\($0.target.rawValue)/\(Deliverer.tempName($0.name))" })
        for target in DeliveryTarget.allCases {
            let folder = spool.folder(for: target)
            for name in (try? FileSystem.list(folder)) ?? [] where name.hasPrefix(".") && name.hasSuffix(".tmp") {
                if inProgress.contains("\(target.rawValue)/\(name)") { continue }
                var fixed = false
                if repair { try FileSystem.removeFile(FileSystem.join(folder, name)); fixed = true }
                add("STRAY_TEMP_FILE", "\(spool.relative(folder))/\(name) belongs to no delivery", repaired: fixed)
            }
        }

        // Claims never committed: the next run processes them.
        for channel in Channel.allCases {
            for name in (try? FileSystem.list(spool.workFolder(for: channel))) ?? [] where !knownWork.contains("\(channel.rawValue)/\(name)") {
                add("UNCOMMITTED_CLAIM", "work/\(channel.rawValue)/\(name) was claimed but not committed; the next run processes it")
            }
        }

        // Originals the ledger does not know: an older ledger was restored, or files were
        // copied in by hand. Adopting them records their orders as sent, so the same order
        // arriving again is a DUPLICATE_ORDER and nothing is delivered twice.
        try forEachArchivedOriginal { path in
            guard try !ledgerKnows(original: path) else { return }
            var fixed = false
            if repair {
                do { try adopt(path, channel: channel(of: path)); fixed = true } catch {
                    add("ADOPT_FAILED", "\(spool.relative(path)): \(error)")
                }
            }
            add("UNKNOWN_ORIGINAL", "\(spool.relative(path)) is not in the ledger", repaired: fixed)
        }

        // Files in the outbox that no message accounts for (one indexed lookup each).
        for target in DeliveryTarget.allCases {
            let folder = spool.folder(for: target)
            let unknown = try ledger.read { db in
                try ((try? FileSystem.list(folder)) ?? []).filter { name in
                    try !name.hasPrefix(".") && !Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE target = ? AND name = ?)"),
                                                                arguments: [target.rawValue, name])!
                }
            }
            for name in unknown {
                add("UNKNOWN_DELIVERED_FILE", "\(spool.relative(folder))/\(name) was not delivered by this ledger (older ledger restored?)")
            }
        }
        return findings
    }

    /// Whether a file under archive/ or rejected/ is one the ledger put there (the unique
    /// index on destination and stored name).
    private func ledgerKnows(original path: String) throws -> Bool {
        let destDir = spool.relative(FileSystem.parentPath(of: path)), name = FileSystem.fileName(of: path)
        return try ledger.read { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM files WHERE dest_dir = ? AND stored_name = ?)"),
                              arguments: [destDir, name])!
        }
    }

    /// Every original under archive/ and rejected/ (reports and hidden files left out), a
    /// folder at a time.
    private func forEachArchivedOriginal(_ body: (String) throws -> Void) throws {
        let reportSuffixes = RejectionReport.fileSuffixes + [".rejects.csv", ".rejects.xml"]
        func visit(_ folder: String) throws {
            for name in ((try? FileSystem.list(folder)) ?? []).sorted() {
                let path = FileSystem.join(folder, name)
                guard let st = try? FileSystem.status(path) else { continue }
                if st.kind == .directory { try visit(path); continue }
                if name.hasPrefix(".") || reportSuffixes.contains(where: name.hasSuffix) { continue }
                try body(path)
            }
        }
        try visit(spool.archive)
        try visit(spool.rejected)
    }

    /// Orders or warehouse? Decided by content, as for any input; read only for the files
    /// the ledger does not know.
    private func channel(of path: String) -> Channel {
        guard let identity = try? FileIdentity.read(path: path, fallbackEncoding: spool.configuration.intake.fallbackEncoding),
              case .success = DocumentOpener.open(path: path, identity: identity, channel: .orders, schemas: schemas, configuration: spool.configuration)
        else { return .warehouse }
        return .orders
    }

    private func adopt(_ path: String, channel: Channel) throws {
        guard let status = try FileSystem.status(path) else { return }
        var processor = Processor(spool: spool, ledger: ledger, schemas: schemas, clock: clock, crash: .disarmed, logger: logger)
        let name = FileSystem.fileName(of: path)
        processor.adoption = .init(destDir: spool.relative(FileSystem.parentPath(of: path)), storedName: name)
        let claimed = ClaimedFile(channel: channel, name: Self.receivedName(name), workName: name, workPath: path, sourcePath: nil, status: status)
        _ = try processor.process(claimed, receivedAt: Date(timeIntervalSince1970: Double(status.modified) / 1e9))
    }

    /// `orders~17.csv` was received as `orders.csv`.
    static func receivedName(_ stored: String) -> String {
        guard let tilde = stored.range(of: "~", options: .backwards) else { return stored }
        let rest = stored[tilde.upperBound...]
        let digits = rest.prefix { $0.isNumber }
        guard !digits.isEmpty else { return stored }
        return String(stored[..<tilde.lowerBound]) + rest.dropFirst(digits.count)
    }
}
