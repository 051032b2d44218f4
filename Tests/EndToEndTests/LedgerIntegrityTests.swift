import Foundation
import XCTest

/// `doctor`, `backup` while running, and restoring an older ledger without resending.
final class LedgerIntegrityTests: XCTestCase {
    func testDoctorFindsAndRepairsDisagreements() throws {
        let spool = try TestSpool()
        try spool.drop("a.csv", Fixtures.csv(["DR-1"]))
        try spool.drop("bad.csv", Fixtures.csvHeader + Fixtures.csvRow("DR-2", quantity: "0"))
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.run(["doctor"]).status, 0)

        try FileManager.default.removeItem(atPath: spool.path("rejected/bad.csv.report.txt"))
        try "junk".write(toFile: spool.path("outbox/.ORDER_X.xml.tmp"), atomically: false, encoding: .utf8)
        let day = try XCTUnwrap(spool.files(in: "archive").first.map { ($0 as NSString).deletingLastPathComponent })
        try Fixtures.csv(["DR-3"]).write(toFile: spool.path("archive/\(day)/by-hand.csv"), atomically: true, encoding: .utf8)

        let found = try spool.run(["doctor", "--json"])
        XCTAssertEqual(found.status, 1)
        let codes = Set(((try JSONSerialization.jsonObject(with: Data(found.stdout.utf8))) as? [[String: Any]] ?? []).compactMap { $0["code"] as? String })
        XCTAssertEqual(codes, ["REPORT_MISSING", "STRAY_TEMP_FILE", "UNKNOWN_ORIGINAL"])

        let repaired = try spool.run(["doctor", "--repair"])
        XCTAssertEqual(repaired.status, 0, repaired.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: spool.path("rejected/bad.csv.report.txt")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: spool.path("outbox/.ORDER_X.xml.tmp")))
        XCTAssertEqual(try spool.run(["doctor"]).status, 0)
        // The adopted file's order counts as sent: it is never sent, and never again.
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_DR-1.xml"])
        try spool.drop("again.csv", Fixtures.csvHeader + Fixtures.csvRow("DR-3", quantity: "2"))
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.errorCodes("again.csv"), ["DUPLICATE_ORDER@2"])
    }

    /// An original adopted by `doctor --repair` with more orders than one marking statement
    /// takes (`Processor.adoptionChunk`, 1 000): every one of them counts as sent.
    func testAdoptingAnOriginalWithThousandsOfOrdersMarksEveryOrderSent() throws {
        let spool = try TestSpool()
        try spool.drop("a.csv", Fixtures.csv(["AD-0"]))
        try spool.run(["run", "--once", "--settle", "0"])
        let day = try XCTUnwrap(spool.files(in: "archive").first.map { ($0 as NSString).deletingLastPathComponent })
        let ids = (1...2_345).map { "AD-\($0)" }
        try Fixtures.csv(ids).write(toFile: spool.path("archive/\(day)/by-hand.csv"), atomically: true, encoding: .utf8)
        let repaired = try spool.run(["doctor", "--repair"])
        XCTAssertEqual(repaired.status, 0, repaired.stdout)
        try spool.run(["run", "--once", "--settle", "0"])
        let outbox = spool.files(in: "outbox")
        XCTAssertEqual(outbox.count, 1, "adopted orders were sent, first \(outbox.prefix(3))")
        let waiting = try XCTUnwrap(spool.json(["orders", "list", "--status", "received", "--json"]) as? [Any])
        XCTAssertEqual(waiting.count, 0, "orders of the adopted file still waiting to be sent")
        let sent = try XCTUnwrap(spool.json(["orders", "list", "--status", "sent", "--json"]) as? [Any])
        XCTAssertFalse(sent.isEmpty)
    }

    /// Files on disk are matched to the ledger one lookup at a time (not by loading the
    /// ledger): delivered files and originals it knows pass, others are named.
    func testDoctorNamesDeliveredFilesAndOriginalsTheLedgerDoesNotKnow() throws {
        let spool = try TestSpool()
        try spool.drop("a.csv", Fixtures.csv(["DN-1"]))
        try spool.drop("b.csv", Fixtures.csv(["DN-2"]))
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.run(["doctor"]).status, 0)

        try "<x/>".write(toFile: spool.path("outbox/ORDER_BY-HAND.xml"), atomically: true, encoding: .utf8)
        let archived = try XCTUnwrap(spool.files(in: "archive").first { $0.hasSuffix("b.csv") })
        try FileManager.default.removeItem(atPath: spool.path("archive/\(archived)"))

        let found = try spool.run(["doctor", "--json"])
        XCTAssertEqual(found.status, 1)
        let entries = (try JSONSerialization.jsonObject(with: Data(found.stdout.utf8))) as? [[String: Any]] ?? []
        XCTAssertEqual(Set(entries.compactMap { $0["code"] as? String }), ["UNKNOWN_DELIVERED_FILE", "ORIGINAL_MISSING"], found.stdout)
        let messages = entries.compactMap { $0["message"] as? String }
        XCTAssertTrue(messages.contains { $0.contains("outbox/ORDER_BY-HAND.xml") }, "\(messages)")
        XCTAssertFalse(messages.contains { $0.contains("ORDER_DN-1.xml") || $0.contains("ORDER_DN-2.xml") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("(b.csv)") }, "\(messages)")
    }

    func testBackupWhileRunningIsConsistent() throws {
        let spool = try TestSpool(configuration: "[intake]\npoll_interval = 0.1\nsettle = 0\n")
        let daemon = try Edidrop.start(["--spool", spool.root, "run"])
        defer { daemon.signal(SIGKILL) }
        for i in 0..<30 { try spool.drop("f\(i).csv", Fixtures.csv(["BK-\(i)"])) }
        var copies: [String] = []
        for i in 0..<5 {
            let copy = spool.path("backup-\(i).sqlite")
            XCTAssertEqual(try spool.run(["backup", copy]).status, 0)
            copies.append(copy)
            Thread.sleep(forTimeInterval: 0.1)
        }
        daemon.signal(SIGTERM)
        XCTAssertEqual(try daemon.finish(timeout: 30).status, 0)
        for copy in copies {
            let check = Process()
            check.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            check.arguments = [copy, "PRAGMA integrity_check; SELECT COUNT(*) FROM orders WHERE order_id NOT IN (SELECT o.order_id FROM orders o JOIN outbox m ON m.order_ref = o.id);"]
            let out = Pipe()
            check.standardOutput = out
            try check.run()
            check.waitUntilExit()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(text, "ok\n0\n", "every order in a copy has its message: one transaction per file")
        }
    }

    /// The promise across a restore: an older ledger never resends what went out after it
    /// was taken, whether the warehouse already took the files or not.
    func testRestoringAnOlderLedgerNeverResends() throws {
        let spool = try TestSpool()
        try spool.drop("one.csv", Fixtures.csv(["RS-1"]))
        try spool.run(["run", "--once", "--settle", "0"])
        let backup = spool.path("old.sqlite")
        XCTAssertEqual(try spool.run(["backup", backup]).status, 0)

        // After the backup: more files, one order taken by the warehouse already.
        try spool.drop("two.csv", Fixtures.csv(["RS-2"]))
        try spool.drop("three.xml", Fixtures.xml(["RS-3"]))
        try spool.run(["run", "--once", "--settle", "0"])
        try FileManager.default.removeItem(atPath: spool.path("outbox/ORDER_RS-2.xml"))
        // And a delivery that was pending in the ledger at the time of the backup is
        // simulated by a crash after the commit of a fourth file, then a backup.
        try spool.drop("four.csv", Fixtures.csv(["RS-4"]))
        _ = try spool.run(["run", "--once", "--settle", "0"], environment: ["EDIDROP_TEST_CRASH_AT": "after-commit"])
        let backupWithPending = spool.path("pending.sqlite")
        XCTAssertEqual(try spool.run(["backup", backupWithPending]).status, 0)
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RS-1.xml", "ORDER_RS-3.xml", "ORDER_RS-4.xml"])
        try FileManager.default.removeItem(atPath: spool.path("outbox/ORDER_RS-4.xml"))   // taken

        let restored = try spool.run(["restore", backup])
        XCTAssertEqual(restored.status, 0, restored.stderr)
        XCTAssertTrue(restored.stdout.contains("UNKNOWN_ORIGINAL"), restored.stdout)
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RS-1.xml", "ORDER_RS-3.xml"], "nothing sent again")
        // The same orders arriving again are duplicates.
        try spool.drop("resend.csv", Fixtures.csvHeader + Fixtures.csvRow("RS-2", quantity: "5"))
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.errorCodes("resend.csv"), ["DUPLICATE_ORDER@2"])

        // A backup holding a pending delivery: the message is held, not resent.
        let second = try spool.run(["restore", backupWithPending])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("HELD: 1 message(s)"), second.stdout)
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RS-1.xml", "ORDER_RS-3.xml"], "the held message waits")
        XCTAssertEqual(try spool.run(["status", "--check"]).status, 1, "held messages need a person")
        let released = try spool.run(["release", "--as-delivered"])
        XCTAssertTrue(released.stdout.contains("ORDER_RS-4.xml"), released.stdout)
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_RS-1.xml", "ORDER_RS-3.xml"])
        let doctor = try spool.run(["doctor"])
        XCTAssertEqual(doctor.status, 0, doctor.stdout)
    }
}
