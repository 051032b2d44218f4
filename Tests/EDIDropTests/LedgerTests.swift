import Foundation
import XCTest
import GRDB
@testable import EDIDrop

/// The ledger and the processing steps that depend on what it remembers: duplicates,
/// business keys, files left in work/, and the read-only views of the command line.
final class LedgerTests: XCTestCase {
    private func count(_ ledger: Ledger, _ sql: String) throws -> Int {
        try ledger.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    private func codes(_ ledger: Ledger, fileID: Int64) throws -> [String] {
        try ledger.read { db in try Diagnostic.fetchAll(db, fileID: fileID).map { "\($0.code.rawValue)@\($0.line.map(String.init) ?? "-")" } }
    }

    func testOpeningCreatesTheSchemaAndReopeningKeepsTheData() throws {
        let dir = FixtureFolder("edidrop-ledger")
        let path = dir.join("ledger.sqlite")
        do {
            let ledger = try Ledger(path: path)
            let tables = try ledger.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' ORDER BY name")
            }
            XCTAssertTrue(Set(tables).isSuperset(of: ["diagnostics", "file_events", "files", "orders", "outbox"]), "\(tables)")
            XCTAssertEqual(try ledger.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }, "wal")
            try ledger.write { db in
                try db.execute(sql: """
                    INSERT INTO files (channel, name, work_name, size, state, dest_dir, stored_name, received_at, processed_at)
                    VALUES ('orders', 'a.csv', 'a.csv', 1, 'rejected', 'rejected', 'a.csv', 'x', 'x')
                    """)
                try Diagnostic(.invalidEAN, line: 4, column: 9, field: "ean", value: "123", message: "m", orderID: "S-1", hint: "h")
                    .insert(db, fileID: 1, seq: 0)
                try Diagnostic(.emptyFile, message: "nothing").insert(db, fileID: 1, seq: 1)
            }
        }
        let reopened = try Ledger(path: path)
        XCTAssertEqual(try reopened.fileRecord(id: 1)?.name, "a.csv")
        let diagnostics = try reopened.read { db in try Diagnostic.fetchAll(db, fileID: 1) }
        XCTAssertEqual(diagnostics, [
            Diagnostic(.invalidEAN, line: 4, column: 9, field: "ean", value: "123", message: "m", orderID: "S-1", hint: "h"),
            Diagnostic(.emptyFile, message: "nothing"),
        ])

        let readOnly = try Ledger(path: path, readOnly: true)
        XCTAssertEqual(try readOnly.files().count, 1)
        XCTAssertThrowsError(try readOnly.write { db in try db.execute(sql: "DELETE FROM files") })
    }

    /// The writer keeps statement journals in memory (no spill files in /var/tmp for a
    /// batch's set-based marks); readers, whose sorts can be as big as the ledger, do not.
    /// Every commit must reach the disk before its effects happen (DESIGN: durable commits).
    /// GRDB sets synchronous = NORMAL on the writer when it turns WAL on, after the
    /// configuration's own setup; the ledger sets it back to FULL (2), on a new ledger and on
    /// one opened again.
    func testTheWriterSyncsEveryCommit() throws {
        let dir = FixtureFolder("edidrop-ledger-sync")
        let path = dir.join("ledger.sqlite")
        for _ in 0..<2 {
            let ledger = try Ledger(path: path)
            XCTAssertEqual(try ledger.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }, 2)
        }
    }

    func testOnlyTheWriterKeepsTemporaryDataInMemory() throws {
        let dir = FixtureFolder("edidrop-ledger-temp")
        let ledger = try Ledger(path: dir.join("ledger.sqlite"))
        XCTAssertEqual(try ledger.write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }, 2)
        XCTAssertEqual(try ledger.read { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }, 0)
        let scratch = try Ledger(scratch: ())
        XCTAssertEqual(try scratch.write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }, 0)
    }

    func testSameBytesAgainAreADuplicateFile() throws {
        let s = try Fixture.SpoolSetup()
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).accepted, 1)

        s.drop(Fixture.validOrdersCSV, as: "orders-copy.csv")
        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.accepted, 0)
        XCTAssertEqual(summary.rejected, 1)
        XCTAssertEqual(summary.delivered, 0)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_S-1.xml", "ORDER_S-2.xml"])
        XCTAssertEqual(Fixture.names(in: s.spool.rejected), ["orders-copy.csv", "orders-copy.csv.report.html", "orders-copy.csv.report.json", "orders-copy.csv.report.txt"])

        let dup = try XCTUnwrap(try s.ledger.fileRecord(id: 2))
        XCTAssertEqual(dup.state, .rejected)
        XCTAssertEqual(dup.duplicateOf, 1)
        XCTAssertEqual(dup.sha256, try s.ledger.fileRecord(id: 1)?.sha256)
        XCTAssertEqual(try codes(s.ledger, fileID: 2), ["DUPLICATE_FILE@-"])
        XCTAssertEqual(try count(s.ledger, "SELECT COUNT(*) FROM outbox"), 2)
        let report = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.rejected, "orders-copy.csv.report.txt")))
        XCTAssertTrue(report.contains("already received as file 1 (orders.csv)"), report)

        // The same bytes a third time, under the first name: a duplicate again, with its own stored name.
        s.drop(Fixture.validOrdersCSV, as: "orders-copy.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).rejected, 1)
        XCTAssertEqual(try s.ledger.fileRecord(id: 3)?.duplicateOf, 1)
        XCTAssertEqual(try s.ledger.fileRecord(id: 3)?.storedName, "orders-copy~3.csv")
        XCTAssertTrue(FileSystem.exists(FileSystem.join(s.spool.rejected, "orders-copy~3.csv.report.json")))
        let json = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.rejected, "orders-copy~3.csv.report.json")))
        XCTAssertTrue(json.contains("\"file\": \"orders-copy.csv\""), "the report keeps the name as received")
    }

    /// Duplicates are looked up by the hash's first 12 hex digits; a file whose hash only
    /// shares them is new, and the search goes past such rows to the real earlier copy.
    func testContentHashesThatShareTheIndexedPrefixAreToldApart() throws {
        let s = try Fixture.SpoolSetup()
        let probe = s.folder.join("probe.csv")
        Fixture.write(Fixture.validOrdersCSV, to: probe)
        let sha = try FileIdentity.read(path: probe, fallbackEncoding: .windows1250).sha256
        let lookalike = String(sha.prefix(12)) + String(repeating: sha.last == "0" ? "1" : "0", count: 52)
        try s.ledger.write { db in
            try db.execute(sql: """
                INSERT INTO files (channel, name, work_name, size, sha256, state, dest_dir, stored_name, received_at, processed_at)
                VALUES ('orders', 'lookalike.csv', 'lookalike.csv', 1, ?, 'rejected', 'rejected', 'lookalike.csv', 'x', 'x')
                """, arguments: [lookalike])
        }
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).accepted, 1, "a hash sharing only the prefix is not the same content")
        s.drop(Fixture.validOrdersCSV, as: "orders-copy.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).rejected, 1)
        XCTAssertEqual(try s.ledger.fileRecord(id: 3)?.duplicateOf, 2, "the earlier copy, not the lookalike row before it")
        XCTAssertEqual(try codes(s.ledger, fileID: 3), ["DUPLICATE_FILE@-"])

        // The same once the three files have been merged into the on-disk index.
        try s.ledger.write { db in try s.ledger.contentIndex.merge(db) }
        XCTAssertEqual(try s.ledger.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM content_index") }, 3)
        s.drop(Fixture.validOrdersCSV, as: "orders-third.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).rejected, 1)
        XCTAssertEqual(try s.ledger.fileRecord(id: 4)?.duplicateOf, 2)

        // The lookup in it is a key search, not a scan of every file ever received.
        let plan = try s.ledger.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT file_id FROM content_index WHERE prefix = ?",
                             arguments: [String(sha.prefix(12))]).map { $0["detail"] as String }
        }
        XCTAssertTrue(plan.contains { $0.contains("USING PRIMARY KEY") }, "\(plan)")
    }

    /// A ledger written before the hash-prefix index (schema v3) is migrated when opened,
    /// and the files it already holds are still found as duplicates.
    func testALedgerFromBeforeTheHashPrefixIndexIsMigrated() throws {
        let dir = FixtureFolder("edidrop-ledger")
        let path = dir.join("ledger.sqlite")
        let sha = String(repeating: "ab", count: 32)
        func indexes(_ db: Database) throws -> [String] {
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files' AND name LIKE 'files_sha%'")
        }
        do {
            let old = try DatabaseQueue(path: path)
            try Ledger.migrator.migrate(old, upTo: "v3-record-policy")
            try old.write { db in
                try db.execute(sql: """
                    INSERT INTO files (channel, name, work_name, size, sha256, state, dest_dir, stored_name, received_at, processed_at)
                    VALUES ('orders', 'old.csv', 'old.csv', 1, ?, 'accepted', 'archive/2026-01-02', 'old.csv', 'x', 'x')
                    """, arguments: [sha])
                XCTAssertEqual(try indexes(db), ["files_sha256"])
            }
        }
        let ledger = try Ledger(path: path)
        XCTAssertEqual(try ledger.read(indexes), [], "the hashes moved out of the files table (v7)")
        XCTAssertEqual(try ledger.read { db in try Int64.fetchOne(db, sql: "SELECT merged_through FROM content_index_state") }, 1)
        let found = try ledger.write { db in try ledger.earliestFile(withContent: sha, db) }
        XCTAssertEqual(found?.id, 1)
        XCTAssertEqual(found?.name, "old.csv")
        XCTAssertNil(try ledger.write { db in try ledger.earliestFile(withContent: String(sha.dropLast()) + "c", db) })
    }

    /// `status` (and the web console, at every refresh) counts files by state from the
    /// small index, not by reading every row; the stock-report check keeps its table scan.
    func testCountingFilesByStateReadsOnlyItsIndex() throws {
        let s = try Fixture.SpoolSetup()
        let plan = { (sql: String, arguments: StatementArguments) in
            try s.ledger.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String } }
        }
        let counting = try plan(Ledger.filesByStateSQL, [])
        XCTAssertTrue(counting.contains { $0.contains("COVERING INDEX files_state") }, "\(counting)")
        let listing = try plan(Ledger.filesSQL(byState: true, byChannel: false), ["rejected", 10])
        XCTAssertTrue(listing.contains { $0.contains("INDEX files_state") } && !listing.contains { $0.contains("TEMP B-TREE") }, "\(listing)")
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        s.drop("nonsense", as: "bad.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).accepted, 1)
        XCTAssertEqual(try s.ledger.status(spool: s.spool).filesByState, ["accepted": 1, "rejected": 1])
        XCTAssertEqual(try s.ledger.files(state: .rejected).map(\.record.name), ["bad.csv"])
        XCTAssertEqual(try s.ledger.files(state: .accepted, channel: .orders).map(\.record.name), ["orders.csv"])
        XCTAssertEqual(try s.ledger.files(state: .accepted, channel: .warehouse).map(\.record.name), [])
        XCTAssertEqual(try s.ledger.files(limit: 1).map(\.record.name), ["orders.csv"])
    }

    /// The last stock report, whichever of the three stock formats it came in, is found
    /// through its own small index, not by reading files back from the newest.
    func testTheLastStockReportIsFoundThroughItsIndexWhateverItsFormat() throws {
        let s = try Fixture.SpoolSetup()
        let plan = try s.ledger.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Ledger.lastStockReportSQL).map { $0["detail"] as String }
        }
        XCTAssertTrue(plan.contains { $0.contains("INDEX files_stock_reports") }, "\(plan)")

        let hourly = try SpoolConfiguration.parse("[expectations]\nstock_report_every = \"1h\"\n").expectations
        let now = try XCTUnwrap(Timestamp.parse("2026-11-27T12:00:00Z"))
        func file(_ name: String, format: String, state: String, at: String) throws {
            try s.ledger.write { db in
                try db.execute(sql: """
                    INSERT INTO files (channel, name, work_name, size, format, state, dest_dir, stored_name, received_at, processed_at)
                    VALUES ('warehouse', ?, ?, 1, ?, ?, 'archive/2026-11-27', ?, ?, ?)
                    """, arguments: [name, name, format, state, name, at, at])
            }
        }
        try file("orders.csv", format: "orders-csv", state: "accepted", at: "2026-11-27T08:00:00Z")
        XCTAssertNil(try s.ledger.lastStockReport())
        XCTAssertEqual(try s.ledger.overdue(hourly, now: now).map(\.kind), [.stockReport])

        try file("inventory.xml", format: "ubl-inventory-report", state: "accepted", at: "2026-11-27T11:30:00Z")
        try file("stock-bad.csv", format: "stock-csv", state: "rejected", at: "2026-11-27T11:45:00Z")
        try file("ship.csv", format: "shipments-csv", state: "accepted", at: "2026-11-27T11:50:00Z")
        XCTAssertEqual(try s.ledger.lastStockReport()?.record.name, "inventory.xml")
        XCTAssertEqual(try s.ledger.overdue(hourly, now: now).map(\.kind), [], "a UBL inventory report is a stock report")
    }

    func testAnOrderIDSentBeforeIsADuplicateOrderWhicheverFileBringsIt() throws {
        let s = try Fixture.SpoolSetup()
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        _ = try s.engine.runOnce(settle: 0)

        let header = Fixture.validOrdersCSV.components(separatedBy: "\n")[0]
        s.drop(header + "\nS-9;;Ewa;;;Polna 1;Łódź;90-001;PL;;;;;X;;1;;;\nS-2;;Jan Nowak;;;Inna 2;Gdańsk;80-001;PL;;;;;Y;;1;;;\n", as: "later.csv")
        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.rejected, 1)
        XCTAssertEqual(summary.delivered, 0)
        XCTAssertEqual(try codes(s.ledger, fileID: 2), ["DUPLICATE_ORDER@3"])
        let d = try XCTUnwrap(try s.ledger.read { db in try Diagnostic.fetchAll(db, fileID: 2) }.first)
        XCTAssertEqual(d.field, "order_id")
        XCTAssertEqual(d.value, "S-2")
        XCTAssertEqual(d.orderID, "S-2")
        XCTAssertTrue(d.message.contains("orders.csv"), d.message)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_S-1.xml", "ORDER_S-2.xml"], "neither S-9 nor S-2 goes out")
        XCTAssertEqual(try count(s.ledger, "SELECT COUNT(*) FROM orders"), 2, "the rolled back file leaves no order behind")
        XCTAssertEqual(try count(s.ledger, "SELECT COUNT(*) FROM orders WHERE order_id = 'S-9'"), 0)

        // An order repeated inside one file, not on neighbouring rows, is merged rather than refused.
        s.drop(header + "\nS-5;;Ewa;;;Polna 1;Łódź;90-001;PL;;;;;X;;1;;;\nS-6;;Jan;;;Inna 2;Gdańsk;80-001;PL;;;;;Y;;1;;;\nS-5;;Ewa;;;Polna 1;Łódź;90-001;PL;;;;;Z;;4;;;\n", as: "split.csv")
        let split = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(split.accepted, 1)
        XCTAssertEqual(split.delivered, 2)
        let s5 = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_S-5.xml")))
        XCTAssertTrue(s5.contains("<line sku=\"X\" quantity=\"1\"/>") && s5.contains("<line sku=\"Z\" quantity=\"4\"/>"), s5)
    }

    func testAFileLeftInWorkIsProcessedOnTheNextRun() throws {
        let s = try Fixture.SpoolSetup()
        let work = s.spool.workFolder(for: .orders)
        Fixture.write(Fixture.validOrdersCSV, to: FileSystem.join(work, "claimed.csv~w2"))
        Fixture.write("half copied", to: FileSystem.join(work, ".claimed.csv.copying"))

        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.accepted, 1)
        XCTAssertEqual(summary.delivered, 2)
        XCTAssertEqual(Fixture.names(in: work), [], "the orphan is taken and the interrupted copy removed")
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_S-1.xml", "ORDER_S-2.xml"])
        XCTAssertEqual(Fixture.names(in: s.archiveToday), ["claimed.csv"], "archived under the name as received")
        let file = try XCTUnwrap(try s.ledger.fileRecord(id: 1))
        XCTAssertEqual(file.name, "claimed.csv")
        XCTAssertEqual(file.workName, "claimed.csv~w2")
        XCTAssertEqual(file.state, .accepted)
    }

    /// One file processed, then put back to "committed, not yet archived", as a crash after
    /// the commit leaves it; also returns the path it had in the archive.
    private func committedButUnarchived() throws -> (Fixture.SpoolSetup, String) {
        let s = try Fixture.SpoolSetup()
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        _ = try s.engine.runOnce(settle: 0)
        let archived = FileSystem.join(s.archiveToday, "orders.csv")
        try FileManager.default.moveItem(atPath: archived, toPath: FileSystem.join(s.spool.workFolder(for: .orders), "orders.csv"))
        try s.ledger.write { db in try db.execute(sql: "UPDATE files SET archived_at = NULL") }
        return (s, archived)
    }

    func testACommittedButUnarchivedFileIsFinishedNotProcessedAgain() throws {
        let (s, archived) = try committedButUnarchived()

        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.recovered, 1)
        XCTAssertEqual(summary.accepted, 0, "not processed a second time")
        XCTAssertEqual(summary.rejected, 0, "and not mistaken for a duplicate of itself")
        XCTAssertTrue(FileSystem.exists(archived))
        XCTAssertEqual(try count(s.ledger, "SELECT COUNT(*) FROM files"), 1)
        XCTAssertEqual(try count(s.ledger, "SELECT COUNT(*) FROM files WHERE archived_at IS NULL"), 0)
    }

    func testArchiveNameAlreadyTakenGetsTheLedgerID() throws {
        let s = try Fixture.SpoolSetup()
        try FileSystem.makeDirectories(s.archiveToday)
        Fixture.write("someone else's", to: FileSystem.join(s.archiveToday, "orders.csv"))
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        _ = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(Fixture.names(in: s.archiveToday), ["orders.csv", "orders~1.csv"])
        XCTAssertEqual(Fixture.read(FileSystem.join(s.archiveToday, "orders.csv")), "someone else's")
        XCTAssertEqual(try s.ledger.fileRecord(id: 1)?.storedName, "orders~1.csv")
        XCTAssertEqual(Processor.numberedName("README", id: 17), "README~17")
        XCTAssertEqual(Processor.numberedName("a.b.csv", id: 17), "a.b~17.csv")
        XCTAssertEqual(Processor.numberedName(".hidden", id: 17), ".hidden~17")
    }

    /// The same in a batch, where the name is looked up ahead on the reading thread
    /// (`Processor.NameCheck`), and the moves are recorded by set-based statements: the
    /// taken name gets the ledger id, the free one stays, and every file's "archived"
    /// event names where it went, in id order.
    func testArchiveNameTakenInABatchGetsTheLedgerIDAndEveryMoveIsRecorded() throws {
        let s = try Fixture.SpoolSetup()
        try FileSystem.makeDirectories(s.archiveToday)
        Fixture.write("someone else's", to: FileSystem.join(s.archiveToday, "b.csv"))
        for (i, name) in ["a.csv", "b.csv", "c.csv"].enumerated() {
            s.drop(Fixture.validOrdersCSV.replacingOccurrences(of: "S-", with: "N\(i)-"), as: name)
        }
        // Rejected only once its orders are read: its row held its archive name until then.
        s.drop(Fixture.validOrdersCSV.replacingOccurrences(of: "S-", with: "R-").replacingOccurrences(of: ";2;19,99;", with: ";x;19,99;"),
               as: "d.csv")
        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.accepted, 3)
        XCTAssertEqual(summary.rejected, 1)
        let rejected = try XCTUnwrap(try s.ledger.fileRecord(id: 4))
        XCTAssertEqual([rejected.state.rawValue, rejected.destDir, rejected.storedName], ["rejected", s.spool.relative(s.spool.rejected), "d.csv"])
        XCTAssertTrue(FileSystem.exists(FileSystem.join(s.spool.rejected, "d.csv")))
        XCTAssertEqual(Fixture.names(in: s.archiveToday), ["a.csv", "b.csv", "b~2.csv", "c.csv"])
        XCTAssertEqual(Fixture.read(FileSystem.join(s.archiveToday, "b.csv")), "someone else's")
        let day = s.spool.relative(s.archiveToday)
        let events = try s.ledger.read { db in
            try Row.fetchAll(db, sql: "SELECT file_id, detail FROM file_events WHERE event = 'archived' ORDER BY rowid")
                .map { "\($0["file_id"] as Int64) \($0["detail"] as String)" }
        }
        XCTAssertEqual(events, ["1 \(day)/a.csv", "2 \(day)/b~2.csv", "3 \(day)/c.csv", "4 rejected/d.csv"])
        XCTAssertEqual(try count(s.ledger, "SELECT COUNT(*) FROM files WHERE archived_at IS NULL"), 0)
        XCTAssertEqual(try s.ledger.fileRecord(id: 2)?.storedName, "b~2.csv")
        let order = try s.ledger.read { db in
            try String.fetchAll(db, sql: "SELECT event FROM file_events WHERE file_id = 2 ORDER BY rowid")
        }
        XCTAssertEqual(order, ["received", "accepted", "delivered", "delivered", "archived"])
    }

    /// The name was free at the commit and taken before the move (the window a crash
    /// widens): the move takes the `~ID` form and the ledger records it, not the name the
    /// commit chose.
    func testArchiveNameTakenAfterTheCommitIsRecordedAsMoved() throws {
        let (s, archived) = try committedButUnarchived()
        Fixture.write("someone else's", to: archived)

        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.recovered, 1)
        XCTAssertEqual(Fixture.names(in: s.archiveToday), ["orders.csv", "orders~1.csv"])
        XCTAssertEqual(Fixture.read(archived), "someone else's")
        let file = try XCTUnwrap(try s.ledger.fileRecord(id: 1))
        XCTAssertEqual(file.storedName, "orders~1.csv")
        XCTAssertNotNil(file.archivedAt)
    }

    func testListingsAndDetailAfterARun() throws {
        let s = try Fixture.SpoolSetup()
        s.drop(Fixture.validOrdersCSV, as: "a.csv")
        s.drop("order_id;sku\nS-1;A\n", as: "b.csv")
        _ = try s.engine.runOnce(settle: 0)

        let all = try s.ledger.files()
        XCTAssertEqual(all.map(\.record.name), ["b.csv", "a.csv"], "newest first")
        XCTAssertEqual(try s.ledger.files(state: .rejected).map(\.record.name), ["b.csv"])
        XCTAssertEqual(try s.ledger.files(state: .accepted).map(\.record.name), ["a.csv"])
        XCTAssertEqual(try s.ledger.files(channel: .warehouse).count, 0)

        let status = try s.ledger.status(spool: s.spool)
        XCTAssertEqual(status.filesByState, ["accepted": 1, "rejected": 1])
        XCTAssertEqual(status.ordersByStatus, ["sent": 2])
        XCTAssertEqual(status.inFlight, 0)
        XCTAssertEqual(status.pendingDeliveries, 0)
        XCTAssertEqual(status.workLeftovers, 0)
        XCTAssertNotNil(status.lastActivity)
        guard case .object(let o) = status.json() else { return XCTFail("status JSON is an object") }
        let keys = o.entries.map(\.0)
        for key in ["files", "inFlight", "pendingDeliveries", "failingDeliveries", "orders", "lastActivity", "workLeftovers", "problems"] {
            XCTAssertTrue(keys.contains(key), "status JSON lacks \(key): \(keys)")
        }

        let a = try XCTUnwrap(try s.ledger.detail(fileID: 1))
        XCTAssertEqual(a.events.map(\.event), ["received", "accepted", "delivered", "delivered", "archived"])
        XCTAssertEqual(a.orders.map(\.orderID), ["S-1", "S-2"])
        XCTAssertEqual(a.orders.map(\.line), [2, 4])
        XCTAssertEqual(a.deliveries.map(\.name), ["ORDER_S-1.xml", "ORDER_S-2.xml"])
        XCTAssertEqual(a.deliveries.map(\.state), ["delivered", "delivered"])
        XCTAssertEqual(a.diagnostics, [])

        let b = try XCTUnwrap(try s.ledger.detail(fileID: 2))
        XCTAssertEqual(b.record.state, .rejected)
        XCTAssertEqual(b.diagnostics.map(\.code), Array(repeating: .missingField, count: 6))
        XCTAssertTrue(b.diagnostics.allSatisfy { $0.line == 1 })
        XCTAssertNil(try s.ledger.detail(fileID: 99))

        let rendered = b.json().render()
        XCTAssertTrue(rendered.contains("\"state\":\"rejected\""), rendered)
        XCTAssertTrue(rendered.contains("\"storedAs\":\"rejected/b.csv\""), rendered)
    }

    /// Order ids come from the shop's files. One shaped like another's made-safe file name
    /// ("a_b-<hash>" next to "a/b") must not stop the spool: the outbox table refuses a
    /// second message of the same name, and that error escapes the file's processing.
    func testOrderIDsWhoseFileNamesCollideDoNotStopTheSpool() throws {
        let s = try Fixture.SpoolSetup()
        let header = Fixture.validOrdersCSV.components(separatedBy: "\n")[0]
        let first = "a/b"
        let lookalike = String(WarehouseOrderFile.fileName(forOrderID: first).dropFirst("ORDER_".count).dropLast(".xml".count))
        s.drop(header + "\n\(first);;Ewa;;;Polna 1;Łódź;90-001;PL;;;;;X;;1;;;\n", as: "first.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).accepted, 1)

        s.drop(header + "\n\(lookalike);;Jan;;;Inna 2;Gdańsk;80-001;PL;;;;;Y;;1;;;\n", as: "second.csv")
        XCTAssertNoThrow(try s.engine.runOnce(settle: 0), "one file must not stop the run")
        // Whatever became of second.csv, a later good file still goes through.
        s.drop(Fixture.validOrdersCSV, as: "third.csv")
        let third = try? s.engine.runOnce(settle: 0)
        XCTAssertNotNil(third, "the spool is stuck: every run fails on the file left in work/")
        XCTAssertTrue(FileSystem.exists(FileSystem.join(s.spool.outbox, "ORDER_S-1.xml")))
        XCTAssertEqual(Fixture.read(FileSystem.join(s.spool.outbox, WarehouseOrderFile.fileName(forOrderID: first)))?.contains("Ewa"), true,
                       "the first order's file is never replaced")
    }

    func testBackupIsAConsistentCopy() throws {
        let s = try Fixture.SpoolSetup()
        s.drop(Fixture.validOrdersCSV, as: "a.csv")
        _ = try s.engine.runOnce(settle: 0)
        let copy = s.folder.join("backup.sqlite")
        try s.ledger.backup(to: copy)
        let restored = try Ledger(path: copy, readOnly: true)
        XCTAssertEqual(try restored.files().map(\.record.name), ["a.csv"])
        XCTAssertEqual(try count(restored, "SELECT COUNT(*) FROM outbox WHERE state = 'delivered'"), 2)
    }
}
