import Foundation
import XCTest
import GRDB
import XMLSupport
@testable import EDIDrop

/// Delivery (step 4) and archiving (step 5) through the engine, on a temp spool.
final class DeliveryTests: XCTestCase {
    private func outboxRows(_ ledger: Ledger) throws -> [OutboxMessage] {
        try ledger.read { db in try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id") }
    }

    private func attributes(ofFirst element: String, in xml: String) -> [String: String]? {
        var source = BytesSource(xml)
        let reader = XMLStreamReader(documentName: "x.xml", schema: Fixture.schemas.orders) { try source.read(into: $0) }
        var found: [String: String]?
        while let event = reader.next() {
            if case .start(let s) = event, s.localName == element, found == nil {
                found = Dictionary(uniqueKeysWithValues: s.attributes.map { ($0.localName, $0.value) })
            }
        }
        XCTAssertEqual(reader.problems, [], xml)
        return found
    }

    func testRunOnceDeliversOneFilePerOrderAndArchivesTheOriginal() throws {
        let s = try Fixture.SpoolSetup()
        s.drop(Fixture.validOrdersCSV, as: "orders-0412.csv")

        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.accepted, 1)
        XCTAssertEqual(summary.rejected, 0)
        XCTAssertEqual(summary.delivered, 2)
        XCTAssertEqual(summary.deliveryFailures, 0)

        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_S-1.xml", "ORDER_S-2.xml"], "no temp files left")
        XCTAssertEqual(Fixture.names(in: s.spool.inbox), [])
        XCTAssertEqual(Fixture.names(in: s.spool.workFolder(for: .orders)), [])
        XCTAssertEqual(Fixture.names(in: s.spool.rejected), [])
        XCTAssertEqual(Fixture.names(in: s.archiveToday), ["orders-0412.csv"])
        XCTAssertEqual(Fixture.read(FileSystem.join(s.archiveToday, "orders-0412.csv")), Fixture.validOrdersCSV, "the original is kept byte for byte")

        let first = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_S-1.xml")))
        XCTAssertEqual(attributes(ofFirst: "order", in: first), ["id": "S-1", "date": "2026-11-27"])
        XCTAssertEqual(attributes(ofFirst: "payment", in: first), ["cod": "129.99", "currency": "PLN"])
        XCTAssertEqual(attributes(ofFirst: "delivery", in: first), ["carrier": "inpost", "pickupPoint": "KRA01M"])
        XCTAssertEqual(attributes(ofFirst: "shipTo", in: first), ["street": "ul. Długa 5/3", "city": "Kraków", "postcode": "31-147", "country": "PL"])
        XCTAssertEqual(first.components(separatedBy: "<line ").count - 1, 2, "both rows of S-1 are in its file")
        XCTAssertTrue(first.contains("<line sku=\"TEA-002\" quantity=\"1\" unitPrice=\"90.00\" name=\"Herbata\"/>"), first)
        let second = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_S-2.xml")))
        XCTAssertTrue(second.contains("<notes>zostawić u sąsiada</notes>"), second)
        XCTAssertTrue(second.contains("unitPrice=\"49.50\""), second)

        let messages = try outboxRows(s.ledger)
        XCTAssertEqual(messages.map(\.name), ["ORDER_S-1.xml", "ORDER_S-2.xml"])
        XCTAssertEqual(messages.map(\.state), [.delivered, .delivered])
        XCTAssertTrue(messages.allSatisfy { $0.deliveredAt != nil && $0.lastError == nil })
        XCTAssertEqual(String(decoding: messages[0].content, as: UTF8.self), first, "the file is the recorded content")

        let file = try XCTUnwrap(try s.ledger.fileRecord(id: 1))
        XCTAssertEqual(file.state, .accepted)
        XCTAssertEqual(file.documents, 2)
        XCTAssertNotNil(file.archivedAt)
        XCTAssertEqual(file.destDir, "archive/\(Timestamp.localDay(s.clock.now()))")
        XCTAssertEqual(file.storedName, "orders-0412.csv")
        XCTAssertEqual(file.format, "orders-csv")
        XCTAssertEqual(file.receivedAt, "2026-11-27T10:30:00.000Z", "times come from the injected clock")
        let statuses = try s.ledger.read { db in try String.fetchAll(db, sql: "SELECT status FROM orders ORDER BY id") }
        XCTAssertEqual(statuses, ["sent", "sent"])

        // A second pass finds nothing to do and sends nothing again.
        let again = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(again, RunSummary())
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_S-1.xml", "ORDER_S-2.xml"])
    }

    func testInvalidFileIsRejectedWithReportsAndSendsNothing() throws {
        let s = try Fixture.SpoolSetup()
        let bad = Fixture.validOrdersCSV.replacingOccurrences(of: ";2;19,99;", with: ";0;19,99;")
        s.drop(bad, as: "bad.csv")
        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.accepted, 0)
        XCTAssertEqual(summary.rejected, 1)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), [], "whole-file policy: S-2 is not sent either")
        XCTAssertEqual(Fixture.names(in: s.spool.rejected), ["bad.csv", "bad.csv.report.html", "bad.csv.report.json", "bad.csv.report.txt"])
        let json = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.rejected, "bad.csv.report.json")))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["file"] as? String, "bad.csv")
        XCTAssertEqual(object["status"] as? String, "rejected")
        let errors = try XCTUnwrap(object["errors"] as? [[String: Any]])
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors.first?["code"] as? String, "INVALID_QUANTITY")
        XCTAssertEqual(errors.first?["line"] as? Int, 2)
        let text = try XCTUnwrap(Fixture.read(FileSystem.join(s.spool.rejected, "bad.csv.report.txt")))
        XCTAssertTrue(text.contains("1. INVALID_QUANTITY, line 2"), text)
        XCTAssertEqual(try s.ledger.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") }, 0)
        XCTAssertEqual(try s.ledger.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders") }, 0)
    }

    // MARK: Recovery of interrupted deliveries

    /// Records an accepted, archived file with two outgoing messages, as a crash would leave them.
    /// Messages of one file (`fileID`), each with its order; `firstOrder` numbers the orders
    /// of a second file after those of the first.
    private func insertMessages(_ s: Fixture.SpoolSetup, states: [(name: String, state: String)],
                                fileID: Int64 = 1, firstOrder: Int = 1) throws {
        try s.ledger.write { db in
            try db.execute(sql: """
                INSERT INTO files (id, channel, name, work_name, size, sha256, state, dest_dir, stored_name,
                                   documents, received_at, processed_at, archived_at)
                VALUES (?, 'orders', ?, ?, 10, ?, 'accepted', 'archive/2026-11-27', ?,
                        ?, '2026-11-27T10:00:00.000Z', '2026-11-27T10:00:00.000Z', '2026-11-27T10:00:01.000Z')
                """, arguments: [fileID, "o\(fileID).csv", "o\(fileID).csv", "abc\(fileID)", "o\(fileID).csv", states.count])
            for (i, m) in states.enumerated() {
                let order = firstOrder + i
                try db.execute(sql: """
                    INSERT INTO orders (id, order_id, file_id, line, status, data, received_at)
                    VALUES (?, ?, ?, ?, 'received', '{}', '2026-11-27T10:00:00.000Z')
                    """, arguments: [order, "R-\(order)", fileID, i + 2])
                try db.execute(sql: """
                    INSERT INTO outbox (file_id, order_ref, target, name, content, state, created_at)
                    VALUES (?, ?, 'outbox', ?, ?, ?, '2026-11-27T10:00:00.000Z')
                    """, arguments: [fileID, order, m.name, Data("content of \(m.name)".utf8), m.state])
            }
        }
    }

    func testRecoveryRenamesAnInterruptedDeliveryWhoseTempFileIsStillThere() throws {
        let s = try Fixture.SpoolSetup()
        try insertMessages(s, states: [("ORDER_R-1.xml", "delivering")])
        Fixture.write("content of ORDER_R-1.xml", to: FileSystem.join(s.spool.outbox, ".ORDER_R-1.xml.tmp"))

        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.recovered, 1)
        XCTAssertEqual(summary.delivered, 0, "nothing new was delivered")
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_R-1.xml"])
        XCTAssertEqual(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_R-1.xml")), "content of ORDER_R-1.xml")
        let m = try XCTUnwrap(try outboxRows(s.ledger).first)
        XCTAssertEqual(m.state, .delivered)
        XCTAssertNotNil(m.deliveredAt)
        XCTAssertEqual(try s.ledger.read { db in try String.fetchOne(db, sql: "SELECT status FROM orders WHERE id = 1") }, "sent")
    }

    func testRecoveryOnlyMarksADeliveryWhoseTempFileIsGone() throws {
        let s = try Fixture.SpoolSetup()
        try insertMessages(s, states: [("ORDER_R-1.xml", "delivering"), ("ORDER_R-2.xml", "delivering")])
        // R-1: renamed before the crash and still there. R-2: renamed and already taken by the warehouse.
        Fixture.write("content of ORDER_R-1.xml", to: FileSystem.join(s.spool.outbox, "ORDER_R-1.xml"))

        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.recovered, 2)
        XCTAssertEqual(summary.delivered, 0)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_R-1.xml"], "R-2 must not be written again")
        XCTAssertEqual(try outboxRows(s.ledger).map(\.state), [.delivered, .delivered])
        XCTAssertEqual(try s.ledger.read { db in try String.fetchAll(db, sql: "SELECT status FROM orders ORDER BY id") }, ["sent", "sent"])
    }

    /// Where renameat2(RENAME_NOREPLACE) is not supported, the rename is link(2) then
    /// unlink(2) of the temp name. A crash between the two leaves the temp file and the
    /// delivered file as two names of one inode: the delivery did happen, and recovery
    /// must finish it rather than call its own file a conflict forever.
    func testRecoveryAfterLinkButBeforeUnlinkFinishesTheDelivery() throws {
        let s = try Fixture.SpoolSetup()
        try insertMessages(s, states: [("ORDER_R-1.xml", "delivering")])
        let temp = FileSystem.join(s.spool.outbox, ".ORDER_R-1.xml.tmp")
        let final = FileSystem.join(s.spool.outbox, "ORDER_R-1.xml")
        Fixture.write("content of ORDER_R-1.xml", to: temp)
        XCTAssertEqual(link(temp, final), 0)

        _ = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(Fixture.read(final), "content of ORDER_R-1.xml")
        let message = try XCTUnwrap(try outboxRows(s.ledger).first)
        XCTAssertEqual(message.state, .delivered, "last_error: \(message.lastError ?? "nil")")
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_R-1.xml"], "the temp name is cleaned up")
    }

    func testPendingMessagesLeftByACrashGoOutOnTheNextRun() throws {
        let s = try Fixture.SpoolSetup()
        try insertMessages(s, states: [("ORDER_R-1.xml", "pending"), ("ORDER_R-2.xml", "delivered")])
        // A half-written temp file from before the crash is simply replaced.
        Fixture.write("cont", to: FileSystem.join(s.spool.outbox, ".ORDER_R-1.xml.tmp"))
        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.delivered, 1)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_R-1.xml"])
        XCTAssertEqual(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_R-1.xml")), "content of ORDER_R-1.xml")
    }

    // MARK: Failing deliveries

    func testMissingOutboxKeepsDeliveriesPendingUntilItIsBackAndTheBackoffHasPassed() throws {
        let s = try Fixture.SpoolSetup()
        try FileManager.default.removeItem(atPath: s.spool.outbox)
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")

        let first = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(first.accepted, 1)
        XCTAssertEqual(first.delivered, 0)
        XCTAssertEqual(first.deliveryFailures, 2)
        XCTAssertFalse(FileSystem.exists(s.spool.outbox), "edidrop never creates the warehouse folder by itself")
        XCTAssertEqual(Fixture.names(in: s.archiveToday), ["orders.csv"], "the original is archived; its messages wait in the ledger")
        var messages = try outboxRows(s.ledger)
        XCTAssertEqual(messages.map(\.state), [.pending, .pending])
        XCTAssertEqual(messages.map(\.attempts), [1, 1])
        for m in messages {
            let error = try XCTUnwrap(m.lastError)
            XCTAssertTrue(error.contains(s.spool.outbox), error)
            XCTAssertEqual(m.nextAttemptAt, "2026-11-27T10:30:01.000Z", "first retry one second later")
        }
        let status = try s.ledger.status(spool: s.spool)
        XCTAssertEqual(status.pendingDeliveries, 2)
        XCTAssertEqual(status.failingDeliveries.count, 2)
        XCTAssertTrue(status.problems.contains { $0.contains("outbox folder") && $0.contains("missing") }, "\(status.problems)")

        // Back: the daemon's passes wait for the retry time, but a one-off pass
        // (`run --once`) delivers whatever is pending, whatever its retry time.
        try FileManager.default.createDirectory(atPath: s.spool.outbox, withIntermediateDirectories: false)
        let early = try s.engine.deliverer.deliverDue()
        XCTAssertEqual(early.delivered, 0, "not before the retry time")
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), [])
        XCTAssertEqual(try outboxRows(s.ledger).map(\.attempts), [1, 1])

        let later = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(later.delivered, 2)
        XCTAssertEqual(later.deliveryFailures, 0)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), ["ORDER_S-1.xml", "ORDER_S-2.xml"])
        messages = try outboxRows(s.ledger)
        XCTAssertEqual(messages.map(\.state), [.delivered, .delivered])
        XCTAssertEqual(messages.map(\.lastError), [nil, nil])
        XCTAssertEqual(messages.map(\.nextAttemptAt), [nil, nil])
        XCTAssertEqual(try s.ledger.status(spool: s.spool).problems, [])
    }

    func testBackoffGrowsWithEachFailedAttempt() throws {
        let s = try Fixture.SpoolSetup()
        try FileManager.default.removeItem(atPath: s.spool.outbox)
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        _ = try s.engine.runOnce(settle: 0)
        var expectedDelays: [Double] = []
        for _ in 0..<3 {
            let m = try XCTUnwrap(try outboxRows(s.ledger).first)
            let next = try XCTUnwrap(m.nextAttemptAt)
            let delay = Double(m.attempts >= 1 ? 1 << (m.attempts - 1) : 0)
            expectedDelays.append(delay)
            XCTAssertEqual(next, Timestamp.iso(s.clock.now().addingTimeInterval(delay)))
            s.clock.advance(delay)
            _ = try s.engine.runOnce(settle: 0)
        }
        XCTAssertEqual(expectedDelays, [1, 2, 4])
        XCTAssertEqual(try outboxRows(s.ledger).first?.attempts, 4)
    }

    /// More messages than one page (`Deliverer.batchSize`): each page after the first has
    /// its temp files written while the page before it is renamed and marked.
    func testMessagesOfSeveralPagesAreEachDeliveredOnce() throws {
        let s = try Fixture.SpoolSetup()
        let count = 2 * Deliverer.batchSize + 52
        let names = (1...count).map { "ORDER_R-\($0).xml" }
        try insertMessages(s, states: names.map { ($0, "pending") })
        let summary = try s.engine.deliverer.deliverDue()
        XCTAssertEqual(summary.delivered, count)
        XCTAssertEqual(summary.failed, 0)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), names.sorted(), "every message once, no temp file left")
        XCTAssertEqual(Fixture.read(FileSystem.join(s.spool.outbox, "ORDER_R-2100.xml")), "content of ORDER_R-2100.xml")
        XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivered])
        let sent = try s.ledger.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM orders WHERE status = 'sent'") }
        XCTAssertEqual(sent, count)
    }

    /// Counts the commits of transactions that changed the outbox table.
    private final class OutboxCommits: TransactionObserver, @unchecked Sendable {
        var count = 0
        private var changed = false
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName == "outbox" }
        func databaseDidChange(with event: DatabaseEvent) { changed = true }
        func databaseDidCommit(_ db: Database) {
            if changed { count += 1 }
            changed = false
        }
        func databaseDidRollback(_ db: Database) { changed = false }
    }

    /// Each page's `delivering` mark shares its transaction with the page before's
    /// `delivered` mark: one synced commit a page and one to end, not two a page.
    func testAPageIsMarkedInTheTransactionThatRecordsThePageBefore() throws {
        let s = try Fixture.SpoolSetup()
        let pages = 3
        let count = (pages - 1) * Deliverer.batchSize + 52
        try insertMessages(s, states: (1...count).map { ("ORDER_R-\($0).xml", "pending") })
        let commits = OutboxCommits()
        try s.ledger.write { db in db.add(transactionObserver: commits, extent: .databaseLifetime) }
        let summary = try s.engine.deliverer.deliverDue()
        XCTAssertEqual(summary.delivered, count)
        XCTAssertEqual(commits.count, pages + 1)
        XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivered])
        XCTAssertEqual(Fixture.names(in: s.spool.outbox).count, count, "every message once, no temp file left")
    }

    /// A page fails in its folder while the next one was already written ahead: the next
    /// page's messages stay pending, untouched by the failure, and their temp files go.
    func testAFailureInAPageLeavesThePageWrittenAheadPendingWithoutTempFiles() throws {
        let s = try Fixture.SpoolSetup()
        let count = 2 * Deliverer.batchSize + 52
        let names = (1...count).map { "ORDER_R-\($0).xml" }
        try insertMessages(s, states: names.map { ($0, "pending") })
        let taken = "ORDER_R-1500.xml"
        let foreign = FileSystem.join(s.spool.outbox, taken)
        Fixture.write("not ours", to: foreign)

        let first = try s.engine.deliverer.deliverDue()
        XCTAssertEqual(first.delivered, 2 * Deliverer.batchSize - 1, "the first two pages but the taken name")
        XCTAssertEqual(first.failed, 1)
        XCTAssertEqual(Fixture.read(foreign), "not ours")
        let thirdPage = Array(names[(2 * Deliverer.batchSize)...])
        let listed = Set(Fixture.names(in: s.spool.outbox))
        XCTAssertEqual(listed.intersection(thirdPage), [], "nothing of the third page delivered")
        XCTAssertEqual(listed.filter { $0.hasSuffix(".tmp") }, [".\(taken).tmp"], "only the conflicting message's own file is kept aside")
        XCTAssertEqual(listed.count, 2 * Deliverer.batchSize + 1, "the first two pages, the foreign file and ours kept aside")
        var rows = try outboxRows(s.ledger)
        XCTAssertEqual(rows.filter { $0.state == .delivered }.count, 2 * Deliverer.batchSize - 1)
        let waiting = rows.filter { thirdPage.contains($0.name) }
        XCTAssertEqual(Set(waiting.map(\.state)), [.pending])
        XCTAssertEqual(Set(waiting.map(\.attempts)), [0], "the failure is the taken name's, not theirs")

        // A person moves the foreign file away: the interrupted message and the page that
        // waited go out, once each.
        try FileSystem.removeFile(foreign)
        let second = try s.engine.deliverer.deliverDue(ignoringBackoff: true)
        XCTAssertEqual(second.delivered, thirdPage.count + 1)
        XCTAssertEqual(second.failed, 0)
        rows = try outboxRows(s.ledger)
        XCTAssertEqual(Set(rows.map(\.state)), [.delivered])
        let final = Fixture.names(in: s.spool.outbox)
        XCTAssertEqual(final.count, count, "one file per message, no temp file left")
        XCTAssertEqual(Set(final), Set(names))
        XCTAssertEqual(Fixture.read(foreign), "content of \(taken)")
    }

    /// A spool whose ledger holds `count` pending messages of file 1, and their names.
    private func spoolWithPendingMessages(_ count: Int) throws -> (Fixture.SpoolSetup, [String]) {
        let s = try Fixture.SpoolSetup()
        let names = (1...count).map { "ORDER_R-\($0).xml" }
        try insertMessages(s, states: names.map { ($0, "pending") })
        return (s, names)
    }

    /// The engine's way with a committed batch of file `id`: its first page written ahead,
    /// then `startDelivering`.
    private func startDelivering(_ s: Fixture.SpoolSetup, file id: Int64 = 1) throws -> Deliverer.DeliveryStart {
        let deliverer = s.engine.deliverer
        return try deliverer.startDelivering(files: id...id, excluding: [], firstPage: deliverer.writeFirstPage(files: id...id, excluding: []))
    }

    /// The same, then its messages marked `delivering` and their renames started.
    private func startRenaming(_ s: Fixture.SpoolSetup, file id: Int64 = 1) throws -> Deliverer.RenamesInFlight? {
        guard case .written(let messages) = try startDelivering(s, file: id) else { return nil }
        return try s.engine.deliverer.step(finishing: nil, marking: messages).renaming
    }

    /// `startDelivering` and `step` split a batch's protocol around its renames:
    /// marked `delivering` on the caller's thread, renamed (and the folder made durable) on a
    /// thread of their own with nothing recorded there, marked `delivered` back on the caller's.
    func testABatchIsMarkedDeliveringThenRenamedOnAThreadOfItsOwnThenMarkedDelivered() throws {
        let (s, names) = try spoolWithPendingMessages(40)
        let deliverer = s.engine.deliverer
        guard let renames = try startRenaming(s) else { return XCTFail("a one-page local batch is renamed on its own thread") }
        XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivering], "marked before any rename")
        renames.done.wait()
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), names.sorted(), "every message renamed, no temp file left")
        XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivering], "the renaming thread records nothing")
        let summary = try deliverer.step(finishing: renames, marking: nil).summary
        XCTAssertEqual(summary.delivered, names.count)
        XCTAssertEqual(summary.failed, 0)
        XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivered])
        let sent = try s.ledger.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM orders WHERE status = 'sent'") }
        XCTAssertEqual(sent, names.count)
    }

    /// `step` is one transaction: the renamed batch marked delivered, the caller's own
    /// writes and the next batch marked delivering commit together or not at all. When the
    /// transaction fails, the renamed batch stays `delivering` (recovery's case) and the next
    /// one `pending`, its temp files removed for a retry to write again.
    func testAStepMarksTwoBatchesAndTheCallersWritesInOneTransaction() throws {
        for failing in [false, true] {
            let (s, first) = try spoolWithPendingMessages(12)
            let second = (13...20).map { "ORDER_R-\($0).xml" }
            try insertMessages(s, states: second.map { ($0, "pending") }, fileID: 2, firstOrder: 13)
            let deliverer = s.engine.deliverer
            guard let renames = try startRenaming(s, file: 1), case .written(let next) = try startDelivering(s, file: 2) else {
                return XCTFail("both files take the renaming path")
            }
            renames.done.wait()
            struct Refused: Error {}
            do {
                let (summary, renaming) = try deliverer.step(finishing: renames, marking: next, alsoRecording: { db in
                    try db.execute(sql: "UPDATE files SET archived_at = 'now' WHERE id = 1")
                    if failing { throw Refused() }
                })
                XCTAssertFalse(failing)
                XCTAssertEqual(summary.delivered, first.count)
                renaming?.abandon()
            } catch is Refused {
                XCTAssertTrue(failing)
            }
            let rows = try outboxRows(s.ledger)
            let archived = try s.ledger.read { db in try String.fetchOne(db, sql: "SELECT archived_at FROM files WHERE id = 1") }
            XCTAssertEqual(Set(rows.filter { $0.fileId == 1 }.map(\.state)), [failing ? .delivering : .delivered])
            XCTAssertEqual(Set(rows.filter { $0.fileId == 2 }.map(\.state)), [failing ? .pending : .delivering])
            XCTAssertEqual(archived, failing ? "2026-11-27T10:00:01.000Z" : "now")
            if failing {
                XCTAssertEqual(Fixture.names(in: s.spool.outbox), first.sorted(), "the first batch renamed, the second's temp files gone")
                XCTAssertEqual(try deliverer.deliverDue().delivered, first.count + second.count, "the next pass finishes both, once")
                XCTAssertEqual(Fixture.names(in: s.spool.outbox), (first + second).sorted())
            }
        }
    }

    /// A name already taken in the folder fails on the renaming thread as it does in
    /// `deliverDue`: the others are delivered, the failure is recorded against its message
    /// when the batch is finished, and the foreign file is left as it was.
    func testARenameConflictOnTheRenamingThreadIsRecordedWhenTheBatchIsFinished() throws {
        let (s, names) = try spoolWithPendingMessages(20)
        let foreign = FileSystem.join(s.spool.outbox, "ORDER_R-7.xml")
        Fixture.write("not ours", to: foreign)
        let deliverer = s.engine.deliverer
        guard let renames = try startRenaming(s) else { return XCTFail("renamed on its own thread") }
        let summary = try deliverer.step(finishing: renames, marking: nil).summary
        XCTAssertEqual(summary.delivered, names.count - 1)
        XCTAssertEqual(summary.failed, 1)
        XCTAssertEqual(Fixture.read(foreign), "not ours")
        let rows = try outboxRows(s.ledger)
        let conflict = try XCTUnwrap(rows.first { $0.name == "ORDER_R-7.xml" })
        XCTAssertEqual(summary.failedIDs, [conflict.id!])
        XCTAssertEqual(conflict.attempts, 1)
        XCTAssertNotNil(conflict.lastError)
        XCTAssertEqual(rows.filter { $0.state == .delivered }.count, names.count - 1)
    }

    /// Renames abandoned (an error elsewhere stopped the engine) leave their messages marked
    /// `delivering`, as a crash would; the next pass finishes each of them once.
    func testAbandonedRenamesAreFinishedOnceByTheNextPass() throws {
        let (s, names) = try spoolWithPendingMessages(30)
        let deliverer = s.engine.deliverer
        guard let renames = try startRenaming(s) else { return XCTFail("renamed on its own thread") }
        renames.abandon()
        XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivering])
        let next = try deliverer.deliverDue()
        XCTAssertEqual(next.delivered, names.count)
        XCTAssertEqual(Fixture.names(in: s.spool.outbox), names.sorted(), "each once, no temp file left")
        XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivered])
    }

    /// A batch with more than one page of messages, or with messages interrupted before,
    /// is delivered whole by `deliverDue` instead, once each.
    func testABatchOfSeveralPagesOrWithInterruptedMessagesIsDeliveredInPlace() throws {
        for interrupted in [false, true] {
            let s = try Fixture.SpoolSetup()
            let count = interrupted ? 10 : Deliverer.batchSize + 5
            let names = (1...count).map { "ORDER_R-\($0).xml" }
            try insertMessages(s, states: names.enumerated().map { ($1, interrupted && $0 == 0 ? "delivering" : "pending") })
            if interrupted { Fixture.write("content of ORDER_R-1.xml", to: FileSystem.join(s.spool.outbox, ".ORDER_R-1.xml.tmp")) }
            guard case .finished(let summary) = try startDelivering(s) else { return XCTFail("delivered in place (interrupted: \(interrupted))") }
            XCTAssertEqual(summary.delivered, count)
            XCTAssertEqual(Fixture.names(in: s.spool.outbox), names.sorted())
            XCTAssertEqual(Set(try outboxRows(s.ledger).map(\.state)), [.delivered])
        }
    }

    func testAnExistingFileOfTheSameNameIsNeverOverwritten() throws {
        let s = try Fixture.SpoolSetup()
        let foreign = FileSystem.join(s.spool.outbox, "ORDER_S-1.xml")
        Fixture.write("not ours", to: foreign)
        s.drop(Fixture.validOrdersCSV, as: "orders.csv")
        let summary = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(summary.accepted, 1)
        XCTAssertEqual(Fixture.read(foreign), "not ours")
        let messages = try outboxRows(s.ledger)
        XCTAssertEqual(messages.first?.name, "ORDER_S-1.xml")
        XCTAssertNotEqual(messages.first?.state, .delivered)
        XCTAssertTrue(messages.first?.lastError?.contains("already exists") == true, "\(messages.first?.lastError ?? "nil")")
    }
}
