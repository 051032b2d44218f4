import Foundation
import XCTest

/// The real executable on a real spool: the main path of orders from the inbox to the
/// warehouse, and what happens to bad, duplicate and half-written files.
final class OrdersEndToEndTests: XCTestCase {
    func testValidCSVAndXMLAreDeliveredOncePerOrder() throws {
        let spool = try TestSpool()
        try spool.drop("shop.csv", Fixtures.csvHeader + Fixtures.csvRow("E-1", sku: "A") + Fixtures.csvRow("E-1", sku: "B", quantity: "2") + Fixtures.csvRow("E-2"))
        try spool.drop("shop.xml", Fixtures.xml(["E-3"]))
        let r = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_E-1.xml", "ORDER_E-2.xml", "ORDER_E-3.xml"])
        let e1 = try String(contentsOfFile: spool.path("outbox/ORDER_E-1.xml"), encoding: .utf8)
        XCTAssertTrue(e1.contains(#"<line sku="A" quantity="1" unitPrice="19.99" name="Kubek"/>"#), e1)
        XCTAssertTrue(e1.contains(#"<line sku="B" quantity="2" unitPrice="19.99" name="Kubek"/>"#), e1)
        XCTAssertTrue(e1.contains(#"street="ul. Długa 5""#), e1)
        try spool.assertInvariants(inputs: ["shop.csv", "shop.xml"], orders: ["E-1", "E-2", "E-3"])
        XCTAssertTrue(r.stdout.contains("2 accepted, 0 rejected, 3 delivered"), r.stdout)
    }

    /// The default log lines keep swift-log's layout (edidrop writes them itself, for speed):
    /// local time with its offset, level, label, sorted metadata, source module, message.
    func testLogLinesHaveTheStreamLayoutOneLineEach() throws {
        let spool = try TestSpool()
        try spool.drop("shop.csv", Fixtures.csvHeader + Fixtures.csvRow("L-1"))
        try spool.drop("more.csv", Fixtures.csvHeader + Fixtures.csvRow("L-2"))
        let r = try spool.run(["run", "--once", "--settle", "0"], environment: ["EDIDROP_LOG_LEVEL": "info"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.last, "", "every line ends with a newline")
        let stamp = #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"#
        let accepted = lines.filter { $0.hasSuffix("] accepted") }
        XCTAssertEqual(accepted.count, 2, r.stderr)
        for line in accepted {
            XCTAssertNotNil(line.range(of: "^\(stamp) info edidrop: documents=1 errors=0 file.id=[12] file.name=(shop|more).csv \\[EDIDrop\\] accepted$",
                                       options: .regularExpression), line)
        }
        let archived = lines.filter { $0.hasSuffix("] archived") }
        XCTAssertEqual(archived.count, 2, r.stderr)
        XCTAssertNotNil(archived.first?.range(of: "^\(stamp) info edidrop: file.id=1 file.name=\\S+ to=archive/\\d{4}-\\d\\d-\\d\\d/\\S+ \\[EDIDrop\\] archived$",
                                              options: .regularExpression), archived.first ?? "")
    }

    /// `--log-format json`: one JSON object per line, the logger's metadata as fields.
    func testJSONLogLinesAreOneObjectEach() throws {
        let spool = try TestSpool()
        try spool.drop("shop.csv", Fixtures.csvHeader + Fixtures.csvRow("J-1"))
        let r = try spool.run(["--log-format", "json", "run", "--once", "--settle", "0"],
                              environment: ["EDIDROP_LOG_LEVEL": "info"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertFalse(lines.isEmpty, "no log lines")
        var messages: [String] = []
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            XCTAssertEqual(object["level"] as? String, "info", line)
            XCTAssertNotNil((object["ts"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"#, options: .regularExpression), line)
            messages.append(object["msg"] as? String ?? "")
            if object["msg"] as? String == "accepted" {
                XCTAssertEqual(object["file.name"] as? String, "shop.csv", line)
                XCTAssertEqual(object["documents"] as? String, "1", line)
            }
        }
        XCTAssertEqual(messages.filter { $0 == "accepted" }.count, 1, r.stderr)
        XCTAssertEqual(messages.filter { $0 == "archived" }.count, 1, r.stderr)
    }

    func testInvalidFileIsRejectedWithEveryErrorAndItsLine() throws {
        let spool = try TestSpool()
        let content = Fixtures.csvHeader
            + Fixtures.csvRow("B-1", quantity: "0")
            + Fixtures.csvRow("B-2", customer: "")
            + Fixtures.csvRow("B-3", ean: "5901234123458")
            + Fixtures.csvRow("B-4", postcode: "31147")
            + Fixtures.csvRow("B-5", country: "XX")
            + Fixtures.csvRow("B-6")
        try spool.drop("bad.csv", content)
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), [], "whole-file policy: nothing from an invalid file is sent")
        XCTAssertEqual(try spool.errorCodes("bad.csv"),
                       ["INVALID_QUANTITY@2", "MISSING_FIELD@3", "INVALID_EAN@4", "INVALID_POSTCODE@5", "INVALID_COUNTRY@6"])
        let report = try spool.report("bad.csv")
        XCTAssertEqual(report["status"] as? String, "rejected")
        XCTAssertEqual((report["sha256"] as? String)?.count, 64)
        let text = try String(contentsOfFile: spool.path("rejected/bad.csv.report.txt"), encoding: .utf8)
        XCTAssertTrue(text.contains("5 errors in 5 of 6 orders; nothing from this file was sent"), text)
        XCTAssertTrue(text.contains("EAN check digit should be 7"), text)
        XCTAssertTrue(text.contains("write it as 31-147"), text)
        // The quoted line with a marker under the bad value.
        let lines = text.components(separatedBy: "\n")
        let quoted = try XCTUnwrap(lines.firstIndex { $0.contains(" | ") && $0.contains("5901234123458") })
        let marker = lines[quoted + 1]
        let column = try XCTUnwrap(lines[quoted].range(of: "5901234123458")).lowerBound
        let caret = try XCTUnwrap(marker.firstIndex(of: "^"))
        XCTAssertEqual(lines[quoted].distance(from: lines[quoted].startIndex, to: column),
                       marker.distance(from: marker.startIndex, to: caret), "marker under the EAN:\n\(lines[quoted])\n\(marker)")
        XCTAssertTrue(text.contains("How to resubmit"), text)
    }

    func testSameBytesAgainAreADuplicateAndNothingIsResent() throws {
        let spool = try TestSpool()
        let content = Fixtures.csv(["D-1", "D-2"])
        try spool.drop("first.csv", content)
        try spool.run(["run", "--once", "--settle", "0"])
        try spool.drop("again.csv", content)
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.errorCodes("again.csv"), ["DUPLICATE_FILE@-"])
        XCTAssertEqual(try spool.report("again.csv")["duplicateOf"] as? Int, 1)
        try spool.assertInvariants(inputs: ["first.csv", "again.csv"], orders: ["D-1", "D-2"])
    }

    func testAnOrderIDSentAgainInAnotherFileIsADuplicateOrder() throws {
        let spool = try TestSpool()
        try spool.drop("a.csv", Fixtures.csv(["R-1"]))
        try spool.run(["run", "--once", "--settle", "0"])
        try spool.drop("b.xml", Fixtures.xml(["R-2", "R-1"]))
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.errorCodes("b.xml"), ["DUPLICATE_ORDER@8"])
        try spool.assertInvariants(inputs: ["a.csv", "b.xml"], orders: ["R-1"])
    }

    func testSameNameArrivingTwiceKeepsBothOriginals() throws {
        let spool = try TestSpool()
        try spool.drop("orders.csv", Fixtures.csv(["N-1"]))
        try spool.run(["run", "--once", "--settle", "0"])
        try spool.drop("orders.csv", Fixtures.csv(["N-2"]))
        try spool.run(["run", "--once", "--settle", "0"])
        let archived = spool.files(in: "archive").map { ($0 as NSString).lastPathComponent }
        XCTAssertEqual(archived, ["orders.csv", "orders~2.csv"])
    }

    func testAGrowingFileIsNotTakenBeforeItSettles() throws {
        let spool = try TestSpool(configuration: "[intake]\nsettle = 1.5\npoll_interval = 0.2\n")
        let daemon = try Edidrop.start(["--spool", spool.root, "run"])
        defer { daemon.signal(SIGKILL) }
        // Written in place (no temp name), slowly: a careless uploader.
        let path = spool.path("inbox/slow.csv")
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: path, contents: nil); return path }()))
        handle.write(Data(Fixtures.csvHeader.utf8))
        for id in ["G-1", "G-2", "G-3", "G-4"] {
            Thread.sleep(forTimeInterval: 0.7)
            handle.write(Data(Fixtures.csvRow(id).utf8))
        }
        try handle.close()
        let deadline = Date().addingTimeInterval(20)
        while spool.files(in: "archive").isEmpty && spool.files(in: "rejected").isEmpty && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        daemon.signal(SIGTERM)
        let r = try daemon.finish(timeout: 30)
        XCTAssertEqual(r.status, 0, "SIGTERM: finish the file in hand, exit 0; stderr: \(r.stderr)")
        try spool.assertInvariants(inputs: ["slow.csv"], orders: ["G-1", "G-2", "G-3", "G-4"])
    }

    func testUnfinishedNamesAreIgnoredAndDoneMarkersRespected() throws {
        let spool = try TestSpool(configuration: "[intake]\ndone_marker = true\n")
        try Fixtures.csv(["M-1"]).write(toFile: spool.path("inbox/upload.csv.part"), atomically: false, encoding: .utf8)
        try Fixtures.csv(["M-2"]).write(toFile: spool.path("inbox/waiting.csv"), atomically: false, encoding: .utf8)
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(spool.files(in: "inbox"), ["upload.csv.part", "waiting.csv"])
        XCTAssertEqual(spool.files(in: "outbox"), [])
        try "".write(toFile: spool.path("inbox/waiting.csv.done"), atomically: false, encoding: .utf8)
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_M-2.xml"])
        XCTAssertEqual(spool.files(in: "inbox"), ["upload.csv.part"], "the marker is removed with its file")
    }

    func testValidateIsADryRunWithExitCodes() throws {
        let spool = try TestSpool()
        let good = spool.path("good.csv"), bad = spool.path("bad.xml")
        try Fixtures.csv(["V-1"]).write(toFile: good, atomically: true, encoding: .utf8)
        try Fixtures.xml(["V-2"]).replacingOccurrences(of: "quantity=\"3\"", with: "quantity=\"-3\"").write(toFile: bad, atomically: true, encoding: .utf8)
        let ok = try Edidrop.run(["validate", good])
        XCTAssertEqual(ok.status, 0, ok.stdout)
        XCTAssertTrue(ok.stdout.contains("valid — canonical orders CSV, UTF-8, 1 order"), ok.stdout)
        let invalid = try Edidrop.run(["validate", good, bad])
        XCTAssertEqual(invalid.status, 1)
        XCTAssertTrue(invalid.stdout.contains("SCHEMA, line 6"), invalid.stdout)
        XCTAssertEqual(try Edidrop.run(["validate", spool.path("missing.csv")]).status, 2)
        XCTAssertEqual(try Edidrop.run(["validate"]).status, 2, "usage error")
        XCTAssertEqual(spool.files(in: "archive") + spool.files(in: "rejected") + spool.files(in: "outbox"), [], "validate touches nothing")
        let json = try Edidrop.run(["validate", "--json", bad])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(parsed?.first?["status"] as? String, "rejected")
    }

    func testListingsPrintJSONAndShowKnowsHistory() throws {
        let spool = try TestSpool()
        try spool.drop("ok.csv", Fixtures.csv(["L-1"]))
        try spool.drop("bad.csv", Fixtures.csvHeader + Fixtures.csvRow("L-2", quantity: "x"))
        try spool.run(["run", "--once", "--settle", "0"])
        let files = try spool.json(["files"]) as? [[String: Any]]
        XCTAssertEqual(files?.map { $0["name"] as? String }, ["ok.csv", "bad.csv"], "newest first")
        let rejected = try spool.json(["rejected"]) as? [[String: Any]]
        XCTAssertEqual(rejected?.count, 1)
        let accepted = try spool.json(["files", "--state", "accepted"]) as? [[String: Any]]
        XCTAssertEqual(accepted?.map { $0["name"] as? String }, ["ok.csv"])
        let okID = try XCTUnwrap(accepted?.first?["id"] as? Int)
        let show = try spool.json(["show", String(okID)]) as? [String: Any]
        let history = (show?["history"] as? [[String: Any]])?.compactMap { $0["event"] as? String }
        XCTAssertEqual(history, ["received", "accepted", "delivered", "archived"])
        XCTAssertEqual(try spool.run(["show", "999"]).status, 1)
        let badID = try XCTUnwrap(rejected?.first?["id"] as? Int)
        let report = try spool.run(["rejected", "show", String(badID)])
        XCTAssertTrue(report.stdout.contains("1. INVALID_QUANTITY, line 2"), report.stdout)
        let status = try spool.run(["status"])
        XCTAssertTrue(status.stdout.contains("1 accepted, 1 rejected, 0 in flight"), status.stdout)
        XCTAssertEqual(try spool.run(["files", "--state", "bogus"]).status, 2)
    }

    func testRetryHandsARejectedFileBackAfterAConfigurationChange() throws {
        let spool = try TestSpool(configuration: "[intake]\nmax_file_size = \"100B\"\n")
        try spool.drop("big.csv", Fixtures.csv(["T-1"]))
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(try spool.errorCodes("big.csv"), ["TOO_LARGE@-"])
        try "[intake]\nmax_file_size = \"1MiB\"\n".write(toFile: spool.path("edidrop.toml"), atomically: true, encoding: .utf8)
        let retry = try spool.run(["retry", "1"])
        XCTAssertEqual(retry.status, 0, retry.stderr)
        XCTAssertEqual(spool.files(in: "rejected"), [], "the original and its reports leave rejected/")
        try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_T-1.xml"], "the same bytes are taken again after a retry")
        XCTAssertEqual(try spool.run(["retry", "2"]).status, 1, "an accepted file cannot be retried")
    }

    func testBackupIsAConsistentCopy() throws {
        let spool = try TestSpool()
        try spool.drop("b.csv", Fixtures.csv(["K-1", "K-2"]))
        try spool.run(["run", "--once", "--settle", "0"])
        let copy = spool.path("backup.sqlite")
        XCTAssertEqual(try spool.run(["backup", copy]).status, 0)
        // The copy is a working ledger: point a second spool at it.
        let other = try TestSpool()
        try FileManager.default.removeItem(atPath: other.path("ledger.sqlite"))
        try FileManager.default.copyItem(atPath: copy, toPath: other.path("ledger.sqlite"))
        let status = try other.json(["status"]) as? [String: Any]
        XCTAssertEqual((status?["orders"] as? [String: Int])?["sent"], 2)
        XCTAssertEqual(try spool.run(["backup", copy]).status, 2, "an existing destination is refused")
    }
}
