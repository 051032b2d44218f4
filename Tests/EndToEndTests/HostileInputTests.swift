import Foundation
import XCTest

/// Files meant to hurt: entity tricks, links, FIFOs. Each is refused with a report, reads
/// nothing it should not, and the files around it go through.
final class HostileInputTests: XCTestCase {
    func testXXEAndBillionLaughsAreRejectedWithoutReadingTheEntity() throws {
        let spool = try TestSpool()
        let secretMarker = "TOP-SECRET-\(UUID().uuidString)"
        let secret = spool.path("secret.txt")
        try secretMarker.write(toFile: secret, atomically: true, encoding: .utf8)
        let xxe = """
        <?xml version="1.0"?>
        <!DOCTYPE orders [<!ENTITY xxe SYSTEM "file://\(secret)">]>
        <orders xmlns="urn:edidrop:orders:1">
          <order id="X-1"><customer name="&xxe;"/>
            <shipTo street="a" city="b" postcode="31-147" country="PL"/><line sku="S" quantity="1"/></order>
        </orders>
        """
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE orders [\n<!ENTITY lol \"lol\">\n"
        for i in 1...9 {
            laughs += "<!ENTITY lol\(i) \"" + String(repeating: "&lol\(i == 1 ? "" : String(i - 1));", count: 10) + "\">\n"
        }
        laughs += "]>\n<orders xmlns=\"urn:edidrop:orders:1\"><order id=\"&lol9;\"/></orders>\n"
        try spool.drop("xxe.xml", xxe)
        try spool.drop("laughs.xml", laughs)
        try spool.drop("fine.csv", Fixtures.csv(["H-1"]))
        let started = Date()
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "no expansion work")
        XCTAssertEqual(try spool.errorCodes("xxe.xml").map { $0.components(separatedBy: "@")[0] }, ["FORBIDDEN_DTD"])
        XCTAssertEqual(try spool.errorCodes("laughs.xml").map { $0.components(separatedBy: "@")[0] }, ["FORBIDDEN_DTD"])
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_H-1.xml"], "the file around them went through")
        // The secret appears nowhere edidrop wrote: reports, outbox, ledger.
        for folder in ["rejected", "outbox", "archive"] {
            for f in spool.files(in: folder) {
                let text = (try? String(contentsOfFile: spool.path("\(folder)/\(f)"), encoding: .utf8)) ?? ""
                XCTAssertFalse(text.contains(secretMarker), "\(folder)/\(f) holds the secret")
            }
        }
        let ledger = try Data(contentsOf: URL(fileURLWithPath: spool.path("ledger.sqlite")))
        XCTAssertNil(ledger.range(of: Data(secretMarker.utf8)))
    }

    func testASymlinkInTheInboxIsNeverFollowed() throws {
        let spool = try TestSpool()
        let outside = spool.path("outside.csv")
        try Fixtures.csv(["Y-1"]).write(toFile: outside, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: spool.path("inbox/link.csv"), withDestinationPath: outside)
        try spool.drop("real.csv", Fixtures.csv(["Y-2"]))
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_Y-2.xml"], "the link's target was never read")
        XCTAssertEqual(try spool.errorCodes("link.csv"), ["UNREADABLE@-"])
        let moved = try FileManager.default.destinationOfSymbolicLink(atPath: spool.path("rejected/link.csv"))
        XCTAssertEqual(moved, outside, "the link itself was moved aside, not its target")
        XCTAssertTrue(FileManager.default.fileExists(atPath: outside), "the target is untouched")
        let report = try spool.report("link.csv")
        XCTAssertTrue(((report["errors"] as? [[String: Any]])?.first?["message"] as? String ?? "").contains("symbolic link"))
    }

    func testAFIFOIsMovedAsideWithoutBeingOpened() throws {
        let spool = try TestSpool()
        XCTAssertEqual(mkfifo(spool.path("inbox/pipe.csv"), 0o644), 0)
        try spool.drop("ok.csv", Fixtures.csv(["F-1"]))
        // Opening a FIFO for reading would block forever: the run finishing proves it never was.
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"], timeout: 60).status, 0)
        XCTAssertEqual(try spool.errorCodes("pipe.csv"), ["UNREADABLE@-"])
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_F-1.xml"])
    }

    func testOrderIDsNeverChooseAPath() throws {
        let spool = try TestSpool()
        try spool.drop("paths.xml", Fixtures.xml(["../../etc/evil", "a/b", "c\\d", ".."]))
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        let names = spool.files(in: "outbox")
        XCTAssertEqual(names.count, 4, "\(names)")
        for name in names {
            XCTAssertNotNil(name.range(of: #"^ORDER_[A-Za-z0-9._-]+\.xml$"#, options: .regularExpression), name)
        }
        XCTAssertEqual(Set(try spool.outboxOrders().values.flatMap { $0 }), ["../../etc/evil", "a/b", "c\\d", ".."],
                       "the id inside the file is kept exactly as received")
        XCTAssertFalse(FileManager.default.fileExists(atPath: spool.path("etc")))
    }

    func testEmptyBinaryAndUnknownFilesGetAReport() throws {
        let spool = try TestSpool()
        try spool.drop("empty.csv", "")
        try spool.drop("binary.csv", Data([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0xFF, 0x10]))
        try spool.drop("other.csv", "name,price\nmug,3\n")
        try spool.drop("other.xml", "<invoice xmlns=\"urn:x\"/>")
        try spool.drop("broken.xml", "<orders xmlns=\"urn:edidrop:orders:1\">\n<order id=\"1\">\n")
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(try spool.errorCodes("empty.csv"), ["EMPTY_FILE@-"])
        XCTAssertEqual(try spool.errorCodes("binary.csv"), ["UNKNOWN_FORMAT@1"])
        XCTAssertEqual(try spool.errorCodes("other.csv"), ["UNKNOWN_FORMAT@1"])
        XCTAssertEqual(try spool.errorCodes("other.xml"), ["UNKNOWN_FORMAT@1"])
        XCTAssertEqual(try spool.errorCodes("broken.xml").first?.components(separatedBy: "@").first, "MALFORMED")
    }
}

/// More than one process on a spool.
final class ConcurrencyTests: XCTestCase {
    func testASecondRunExitsWithAClearMessageAndReadOnlyCommandsStillWork() throws {
        let spool = try TestSpool(configuration: "[intake]\npoll_interval = 0.2\n")
        let daemon = try Edidrop.start(["--spool", spool.root, "run"])
        defer { daemon.signal(SIGKILL) }
        Thread.sleep(forTimeInterval: 1.0)
        let second = try spool.run(["run", "--once"])
        XCTAssertEqual(second.status, 3)
        XCTAssertTrue(second.stderr.contains("another edidrop run is already working on this spool"), second.stderr)
        XCTAssertEqual(try spool.run(["status"]).status, 0)
        XCTAssertEqual(try spool.run(["files", "--json"]).status, 0)
        daemon.signal(SIGTERM)
        XCTAssertEqual(try daemon.finish(timeout: 30).status, 0)
    }
}
