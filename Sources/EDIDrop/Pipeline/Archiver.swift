import Foundation
import GRDB
import Logging

/// Step 5 of the protocol: the original leaves work/ for archive/YYYY-MM-DD/ or, with its
/// reports, for rejected/; then the ledger records it. Every step can be repeated, so
/// recovery simply calls it again.
public struct Archiver {
    let spool: Spool
    let ledger: Ledger
    let clock: any Clock
    let crash: CrashSwitch
    let logger: Logger

    public func archive(_ file: FileRecord) throws {
        if let failure = try archive(batch: [file]).first?.error { throw failure }
    }

    /// Archives a batch of committed files with the durability work shared: every move,
    /// then one fsync per folder involved, then one ledger transaction for all of them.
    /// A file that cannot be moved (a full or read-only folder) does not stop the others;
    /// it is returned with its error and stays unarchived in the ledger for a later pass.
    /// A ledger failure throws.
    public func archive(batch files: [FileRecord]) throws -> [(file: FileRecord, error: Error)] {
        try record(move(batch: files))
    }

    /// The part of archiving a batch that touches only folders, for a thread of its own.
    struct Moves: @unchecked Sendable {
        /// Moved and durable in their destination, with the names they got there.
        var moved: [FileRecord] = []
        /// Those of `moved` whose name in the ledger was taken in the folder meanwhile.
        var renamed: Set<Int64> = []
        var failures: [(file: FileRecord, error: Error)] = []
    }

    /// The first half of `archive(batch:)`: every move, then one fsync per folder involved.
    /// Nothing is recorded; what was moved but not recorded (a crash in between) is found
    /// in its destination and recorded by the next pass, as after any crash.
    func move(batch files: [FileRecord]) -> Moves {
        var result = Moves()
        var folders: [String] = []
        var made: Set<String> = []
        for file in files {
            guard file.id != nil, file.archivedAt == nil else { continue }
            do {
                let (placed, touched) = try place(file, made: &made)
                result.moved.append(placed)
                if placed.storedName != file.storedName { result.renamed.insert(placed.id!) }
                for f in touched where !folders.contains(f) { folders.append(f) }
            } catch {
                result.failures.append((file, error))
            }
        }
        do {
            for folder in folders { try FileSystem.syncDirectory(folder) }
        } catch {
            // Not known to be durable: none of them is recorded; a later pass finds each
            // one in its destination and records it then.
            result.failures += result.moved.map { ($0, error) }
            result.moved = []
        }
        return result
    }

    /// The second half: one ledger transaction records every move. Returns the files that
    /// could not be moved, with their errors; a ledger failure throws.
    func record(_ moves: Moves) throws -> [(file: FileRecord, error: Error)] {
        guard !moves.moved.isEmpty else { return moves.failures }
        reachRecording(moves)
        try ledger.write { db in try record(moves, in: db) }
        return recorded(moves)
    }

    /// `record` in three parts, for a caller that records the moves in a transaction it
    /// shares with other steps: before the transaction, in it, after its commit.
    func reachRecording(_ moves: Moves) {
        for _ in moves.moved { crash.reached(.afterArchive) }
    }

    func record(_ moves: Moves, in db: Database) throws {
        let moved = moves.moved
        guard !moved.isEmpty else { return }
        let now = Timestamp.iso(clock.now())
        // Set-based: a few statements for the batch rather than two per file (as in
        // `Deliverer.markDelivered`). The name rarely changes at the move (only when
        // someone dropped a file of that name into the folder meanwhile); naming the
        // column in the SET anyway would have SQLite delete and re-insert the file's
        // entry in the destination index.
        let kept = moved.filter { !moves.renamed.contains($0.id!) }
        if !kept.isEmpty {
            try db.cachedStatement(sql: "UPDATE files SET archived_at = ? WHERE id IN (SELECT value FROM json_each(?))")
                .execute(arguments: [now, Self.idList(kept)])
        }
        for file in moved where moves.renamed.contains(file.id!) {
            try db.cachedStatement(sql: "UPDATE files SET archived_at = ?, stored_name = ? WHERE id = ?")
                .execute(arguments: [now, file.storedName, file.id])
        }
        try db.cachedStatement(sql: """
            INSERT INTO file_events (file_id, at, event, detail)
            SELECT id, ?, 'archived', dest_dir || '/' || stored_name FROM files
            WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id
            """).execute(arguments: [now, Self.idList(moved)])
    }

    /// After the commit: each move logged; the files that could not be moved returned.
    func recorded(_ moves: Moves) -> [(file: FileRecord, error: Error)] {
        for file in moves.moved {
            logger.info("\(file.state == .accepted ? "archived" : "rejected")", metadata: [
                "file.id": "\(file.id!)", "file.name": "\(file.name)", "to": "\(file.destDir)/\(file.storedName)",
            ])
        }
        return moves.failures
    }

    /// The files' ids as a JSON array, for `json_each`.
    static func idList(_ files: [FileRecord]) -> String {
        "[" + files.map { String($0.id!) }.joined(separator: ",") + "]"
    }

    /// Puts one original (and its reports) in its destination; returns the record with the
    /// name it got there, and the folders whose entries changed (to fsync).
    /// `made`: the destination folders this batch has made sure of already (a batch's
    /// files share one or two; looking each up again was a `stat` per file).
    private func place(_ file: FileRecord, made: inout Set<String>) throws -> (FileRecord, [String]) {
        let id = file.id!
        var file = file
        let dest = spool.resolve(relative: file.destDir)
        if !made.contains(dest) {
            try FileSystem.makeDirectories(dest)
            made.insert(dest)
        }
        let workFolder = spool.workFolder(for: file.channel)
        let work = FileSystem.join(workFolder, file.workName)
        let partial = file.state == .accepted && file.errorCount > 0
        // A fully accepted original is simply moved, and a move that finds no original
        // tells that it was moved before (recovery) as well as a `stat` first would; the
        // others need to know first, as their reports are written before the move.
        let looksFirst = partial || file.state == .rejected
        var workPresent = looksFirst ? try FileSystem.status(work) != nil : true
        crash.reached(.beforeArchive)
        if partial {
            // `record` policy: the original is archived; its rejected orders and their
            // report go to rejected/, written before the move so a crash repeats them.
            try writePartialRejects(file, original: workPresent ? work : FileSystem.join(dest, file.storedName))
        }
        var touched: [String] = []
        if workPresent {
            if file.state == .rejected {
                try writeReports(file, original: work)
            }
            do {
                file.storedName = try move(work, into: dest, file: file)
                touched = [dest, workFolder]
            } catch let e as SystemError where e.errno == ENOENT && !looksFirst {
                // Only a missing original means "moved before"; a destination folder
                // removed meanwhile is an error like any other.
                if try FileSystem.status(work) != nil { throw e }
                workPresent = false
            }
        } else if file.state == .rejected {
            // Recovery after the move: make sure the reports are complete.
            try writeReports(file, original: FileSystem.join(dest, file.storedName))
        }
        if !workPresent && !FileSystem.exists(FileSystem.join(dest, file.storedName)) {
            logger.error("original is missing from work/ and from its destination", metadata: ["file.id": "\(id)", "file.name": "\(file.name)"])
        }
        return (file, touched)
    }

    /// Moves the original without replacing anything; a name that was taken meanwhile
    /// (someone dropped a file straight into the archive) gets the `~ID` form instead.
    private func move(_ work: String, into dest: String, file: FileRecord) throws -> String {
        var name = file.storedName
        for attempt in 0..<3 {
            let target = FileSystem.join(dest, name)
            do {
                try FileSystem.renameNoReplace(from: work, to: target)
                return name
            } catch let e as SystemError where e.errno == EEXIST {
                name = attempt == 0 ? Processor.numberedName(file.name, id: file.id!) : Processor.numberedName(file.name, id: file.id!) + "~\(attempt)"
                if file.state == .rejected { try writeReports(withName: name, file, original: work) }
            } catch let e as SystemError where e.errno == EXDEV {
                // The archive is on another file system: copy durably, then drop the work copy.
                let hidden = FileSystem.join(dest, ".\(name).tmp")
                try FileSystem.removeFile(hidden)
                try FileSystem.copyDurably(from: work, to: hidden)
                try FileSystem.renameNoReplace(from: hidden, to: target)
                try FileSystem.syncDirectory(dest)
                try FileSystem.removeFile(work)
                return name
            }
        }
        throw SystemError("rename", "\(work) -> \(dest)", errno: EEXIST)
    }

    /// The base name of a partly accepted file's rejects and reports in rejected/: its own
    /// name, unless another file rejected under that name is already there.
    func partialBaseName(_ file: FileRecord) throws -> String {
        let rejected = spool.relative(spool.rejected)
        let taken = try ledger.read { db in
            try Int.fetchOne(db, sql: "SELECT 1 FROM files WHERE dest_dir = ? AND stored_name = ? AND id != ?",
                             arguments: [rejected, file.name, file.id]) != nil
        }
        return taken ? Processor.numberedName(file.name, id: file.id!) : file.name
    }

    private func writePartialRejects(_ file: FileRecord, original: String) throws {
        let base = try partialBaseName(file)
        let folder = spool.rejected
        try FileSystem.makeDirectories(folder)
        let isXML = file.format == DocumentFormat.ordersXML.rawValue
        let rejectsSuffix = isXML ? ".rejects.xml" : ".rejects.csv"
        var report = try RejectionReport.load(file, ledger: ledger, original: original)
        report.rejectsName = base + rejectsSuffix
        let ranges = try ledger.read { db in
            try Row.fetchAll(db, sql: "SELECT first_line, last_row_line FROM rejected_records WHERE file_id = ?", arguments: [file.id])
                .map { (first: $0["first_line"] as Int, lastRow: $0["last_row_line"] as Int) }
        }
        let detection = EncodingDetection(encoding: file.encoding.flatMap(TextEncoding.init(rawValue:)) ?? .utf8,
                                          bomLength: RejectionReport.bomLength(file.encoding.flatMap(TextEncoding.init(rawValue:)) ?? .utf8, path: original),
                                          fallbackUsed: false)
        let rejects = isXML
            ? try RejectsFile.xmlBytes(original: original, ranges: ranges)
            : try RejectsFile.bytes(original: original, detection: detection,
                                    lines: try RejectsFile.selectedLines(original: original, detection: detection, ranges: ranges))
        let language = spool.configuration.reportLanguage
        let outputs: [(String, [UInt8])] = [
            (rejectsSuffix, rejects),
            (".report.json", Array(report.json().utf8)),
            (".report.txt", Array(report.text(language: language).utf8)),
            (".report.html", Array(report.html(language: language).utf8)),
        ]
        for (suffix, bytes) in outputs {
            let final = FileSystem.join(folder, base + suffix)
            let temp = FileSystem.join(folder, ".\(base)\(suffix).tmp")
            try FileSystem.writeDurably(bytes, to: temp)
            try FileSystem.retry("rename", temp) { rename(temp, final) }
        }
        try FileSystem.syncDirectory(folder)
    }

    private func writeReports(_ file: FileRecord, original: String) throws {
        try writeReports(withName: file.storedName, file, original: original)
    }

    private func writeReports(withName storedName: String, _ file: FileRecord, original: String) throws {
        let report = try RejectionReport.load(file, ledger: ledger, original: original)
        let dest = spool.resolve(relative: file.destDir)
        let language = spool.configuration.reportLanguage
        for (suffix, text) in [(".report.json", report.json()), (".report.txt", report.text(language: language)),
                               (".report.html", report.html(language: language))] {
            let final = FileSystem.join(dest, storedName + suffix)
            let temp = FileSystem.join(dest, ".\(storedName)\(suffix).tmp")
            try FileSystem.writeDurably(Array(text.utf8), to: temp)
            try FileSystem.retry("rename", temp) { rename(temp, final) }
        }
    }
}

extension RejectionReport {
    /// Builds the report of a file from the ledger, quoting lines from `original`.
    public static func load(_ file: FileRecord, ledger: Ledger, original: String?) throws -> RejectionReport {
        let (diagnostics, duplicateName) = try ledger.read { db -> ([Diagnostic], String?) in
            let d = try Diagnostic.fetchAll(db, fileID: file.id!)
            let dup = try file.duplicateOf.flatMap { try String.fetchOne(db, sql: "SELECT name FROM files WHERE id = ?", arguments: [$0]) }
            return (d, dup)
        }
        var lines: [Int: String] = [:]
        if let original, file.sha256 != nil, file.duplicateOf == nil {
            let encoding = file.encoding.flatMap(TextEncoding.init(rawValue:)).map { enc -> EncodingDetection in
                EncodingDetection(encoding: enc, bomLength: RejectionReport.bomLength(enc, path: original), fallbackUsed: false)
            }
            lines = SourceLines.collect(path: original, lines: Set(diagnostics.compactMap(\.line)), encoding: encoding)
        }
        var report = RejectionReport(file: file, diagnostics: diagnostics, sourceLines: lines, duplicateOfName: duplicateName)
        if report.isPartial {
            report.sentOrderIDs = try ledger.read { db in
                try String.fetchAll(db, sql: "SELECT order_id FROM orders WHERE file_id = ? ORDER BY id LIMIT 500", arguments: [file.id])
            }
        }
        // These two have no BOM and are only ever chosen as the configured fallback.
        report.encodingFallback = file.encoding == TextEncoding.windows1250.rawValue || file.encoding == TextEncoding.iso8859_2.rawValue
        return report
    }

    /// The BOM length is not stored; look at the first bytes again.
    static func bomLength(_ encoding: TextEncoding, path: String) -> Int {
        guard let source = try? FileSource(path: path) else { return 0 }
        var bytes = [UInt8](repeating: 0, count: 3)
        let n = (try? bytes.withUnsafeMutableBytes { try source.read(into: $0) }) ?? 0
        if n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { return 3 }
        if n >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)) { return 2 }
        return 0
    }
}
