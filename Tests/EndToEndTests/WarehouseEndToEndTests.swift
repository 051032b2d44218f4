import Foundation
import XCTest

/// The warehouse's answers: stock reports and shipment confirmations flowing back to the shop.
final class WarehouseEndToEndTests: XCTestCase {
    func testStockIsAppliedAndFedToTheShopAndAnOlderSnapshotNeverOverwritesNewer() throws {
        let spool = try TestSpool()
        try spool.drop("stock-new.csv", "sku;ean;available;reserved;as_of\nMUG-1;5901234123457;10;2;2026-11-27T10:00:00Z\n=HYPERLINK(\"x\");;4;;2026-11-27T10:00:00Z\n", into: "from-warehouse")
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        let feeds = spool.files(in: "to-shop")
        XCTAssertEqual(feeds.count, 1)
        XCTAssertNotNil(feeds.first?.range(of: #"^stock-\d{8}T\d{6}Z-\d+\.csv$"#, options: .regularExpression), "\(feeds)")
        let feed = try String(contentsOfFile: spool.path("to-shop/\(feeds[0])"), encoding: .utf8)
        XCTAssertEqual(feed, "sku;ean;available\r\nMUG-1;5901234123457;10\r\n\"'=HYPERLINK(\"\"x\"\")\";;4\r\n",
                       "a formula is never run by the shop's spreadsheet")

        // A late file with an older snapshot: MUG-1 is stale, MUG-2 is new.
        try spool.drop("stock-old.xml", """
            <stock xmlns="urn:edidrop:stock:1" asOf="2026-11-27T06:00:00Z">
              <item sku="MUG-1" available="99"/>
              <item sku="MUG-2" available="7"/>
            </stock>
            """, into: "from-warehouse")
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        let stock = try spool.json(["stock"]) as? [[String: Any]] ?? []
        let bySKU = Dictionary(uniqueKeysWithValues: stock.map { ($0["sku"] as! String, $0) })
        XCTAssertEqual(bySKU["MUG-1"]?["available"] as? Int, 10, "newer stock kept")
        XCTAssertEqual(bySKU["MUG-1"]?["asOf"] as? String, "2026-11-27T10:00:00Z")
        XCTAssertEqual(bySKU["MUG-2"]?["available"] as? Int, 7)
        let second = spool.files(in: "to-shop").filter { $0 != feeds[0] }
        XCTAssertEqual(second.count, 1)
        XCTAssertEqual(try String(contentsOfFile: spool.path("to-shop/\(second[0])"), encoding: .utf8), "sku;ean;available\r\nMUG-2;;7\r\n")
        let files = try spool.json(["files"]) as? [[String: Any]] ?? []
        let oldID = try XCTUnwrap(files.first { $0["name"] as? String == "stock-old.xml" }?["id"] as? Int)
        let show = try spool.run(["show", String(oldID)])
        XCTAssertTrue(show.stdout.contains("1 stock line, 1 stale"), show.stdout)
        XCTAssertTrue(show.stdout.contains("line 2  MUG-1  as of 2026-11-27T06:00:00Z; recorded 2026-11-27T10:00:00Z"), show.stdout)
        XCTAssertEqual(files.first { $0["name"] as? String == "stock-old.xml" }?["state"] as? String, "accepted",
                       "stale lines are not errors")
    }

    func testConfirmationsMatchSentOrdersAndAreRecordedOnce() throws {
        let spool = try TestSpool()
        try spool.drop("orders.csv", Fixtures.csv(["S-1", "S-2"]))
        try spool.run(["run", "--once", "--settle", "0"])
        let confirmation = "order_id;shipped_at;carrier;tracking_number\nS-1;2026-11-27T12:00:00Z;inpost;TR-1\nS-1;2026-11-27T12:00:00Z;inpost;TR-2\n"
        try spool.drop("ship.csv", confirmation, into: "from-warehouse")
        try spool.run(["run", "--once", "--settle", "0"])
        let tracking = spool.files(in: "to-shop")
        XCTAssertEqual(tracking.count, 1)
        XCTAssertEqual(try String(contentsOfFile: spool.path("to-shop/\(tracking[0])"), encoding: .utf8),
                       "order_id;carrier;tracking_number;shipped_at\r\nS-1;inpost;TR-1;2026-11-27T12:00:00Z\r\nS-1;inpost;TR-2;2026-11-27T12:00:00Z\r\n")
        let journey = try spool.json(["orders", "show", "S-1"]) as? [String: Any]
        XCTAssertEqual(journey?["status"] as? String, "shipped")
        XCTAssertEqual((journey?["parcels"] as? [[String: Any]])?.compactMap { $0["tracking"] as? String }, ["TR-1", "TR-2"])

        // The same confirmation again (other bytes: an XML copy of one of them) changes nothing.
        try spool.drop("ship-again.xml", """
            <shipments xmlns="urn:edidrop:shipments:1"><shipment order="S-1" shippedAt="2026-11-27T12:00:00Z" carrier="inpost" tracking="TR-1"/></shipments>
            """, into: "from-warehouse")
        // And the very same bytes again: a duplicate file.
        try spool.drop("ship-copy.csv", confirmation, into: "from-warehouse")
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(spool.files(in: "to-shop"), tracking, "no second tracking file")
        XCTAssertEqual(try spool.errorCodes("ship-copy.csv"), ["DUPLICATE_FILE@-"])
        let parcels = (try spool.json(["orders", "show", "S-1"]) as? [String: Any])?["parcels"] as? [[String: Any]]
        XCTAssertEqual(parcels?.count, 2)
        let sent = try spool.json(["orders", "--status", "sent"]) as? [[String: Any]]
        XCTAssertEqual(sent?.compactMap { $0["orderId"] as? String }, ["S-2"])
    }

    func testAnUnknownOrderIsRejectedWithItsLine() throws {
        let spool = try TestSpool()
        try spool.drop("orders.csv", Fixtures.csv(["U-1"]))
        try spool.run(["run", "--once", "--settle", "0"])
        try spool.drop("ship.csv", "order_id;shipped_at;carrier;tracking_number\nU-1;;dpd;T1\nNEVER-SENT;;dpd;T2\n", into: "from-warehouse")
        try spool.drop("junk.csv", "a;b\n1;2\n", into: "from-warehouse")
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.errorCodes("ship.csv"), ["UNKNOWN_ORDER@3"])
        XCTAssertEqual(try spool.errorCodes("junk.csv"), ["UNKNOWN_FORMAT@1"])
        XCTAssertEqual(spool.files(in: "to-shop"), [], "whole-file policy: nothing applied")
        let journey = try spool.json(["orders", "show", "U-1"]) as? [String: Any]
        XCTAssertEqual(journey?["status"] as? String, "sent")
    }

    func testStatusCheckFailsWhenAStockReportIsOverdue() throws {
        let spool = try TestSpool(configuration: "[expectations]\nstock_report_every = \"2s\"\n")
        try spool.drop("stock.csv", "sku;available\nA;1\n", into: "from-warehouse")
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.run(["status", "--check"]).status, 0, "a report just came")
        Thread.sleep(forTimeInterval: 2.5)
        let late = try spool.run(["status", "--check"])
        XCTAssertEqual(late.status, 1)
        XCTAssertTrue(late.stdout.contains("OVERDUE: the last stock report came"), late.stdout)
        let json = try spool.run(["status", "--check", "--json"])
        XCTAssertEqual(json.status, 1)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((parsed?["overdue"] as? [[String: Any]])?.first?["kind"] as? String, "stock-report")
    }

    func testStatusCheckFailsWhenOrdersWaitForAConfirmationOrWorkIsStuck() throws {
        let spool = try TestSpool(configuration: "[expectations]\nshipment_within = \"1s\"\n")
        try spool.drop("orders.csv", Fixtures.csv(["Q-1"]))
        try spool.run(["run", "--once", "--settle", "0"])
        Thread.sleep(forTimeInterval: 1.5)
        let r = try spool.run(["status", "--check"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("1 order sent more than 1s ago without a shipment confirmation: Q-1"), r.stdout)
        try spool.drop("ship.csv", "order_id;tracking_number\nQ-1;T\n", into: "from-warehouse")
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.run(["status", "--check"]).status, 0)
        // A file left in flight by a crash, with no run to finish it, is stuck.
        try spool.drop("more.csv", Fixtures.csv(["Q-2"]))
        _ = try spool.run(["run", "--once", "--settle", "0"], environment: ["EDIDROP_TEST_CRASH_AT": "after-claim"])
        let stuck = try spool.run(["status", "--check"])
        XCTAssertEqual(stuck.status, 1)
        XCTAssertTrue(stuck.stdout.contains("STUCK: 1 file(s) left in work/"), stuck.stdout)
    }
}
