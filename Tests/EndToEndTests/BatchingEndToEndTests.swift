import Foundation
import XCTest

/// Group commit seen from outside: many files in one pass share batches, and every one of
/// them still ends exactly once; the helpers the benchmark relies on.
final class BatchingEndToEndTests: XCTestCase {
    /// More files than one batch holds (256), with a duplicate and a bad file inside each
    /// batch: each file is judged on its own, as if committed alone.
    func testManyFilesInBatchesEachJudgedOnItsOwn() throws {
        let spool = try TestSpool()
        var inputs: [String] = []
        var expected = Set<String>()
        for i in 0..<600 {
            let name = String(format: "b%04d.csv", i)
            switch i % 100 {
            case 41: try spool.drop(name, Fixtures.csvHeader + Fixtures.csvRow("BT-\(i)", quantity: "0"))
            case 42: try spool.drop(name, Fixtures.csv(["BT-\(i - 2)"]))   // the same bytes as file i-2
            case 43: try spool.drop(name, Fixtures.csv(["BT-\(i - 3)"]) + "\n")  // another file, an order already sent
            default:
                try spool.drop(name, Fixtures.csv(["BT-\(i)"]))
                expected.insert("BT-\(i)")
            }
            inputs.append(name)
        }
        let r = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("582 accepted, 18 rejected"), r.stdout)
        try spool.assertInvariants(inputs: inputs, orders: expected)
        XCTAssertEqual(try spool.errorCodes("b0041.csv"), ["INVALID_QUANTITY@2"])
        XCTAssertEqual(try spool.errorCodes("b0142.csv"), ["DUPLICATE_FILE@-"])
        XCTAssertEqual(try spool.errorCodes("b0543.csv"), ["DUPLICATE_ORDER@2"])
    }

    func testFilesListsAllWithLimitZero() throws {
        let spool = try TestSpool()
        for i in 0..<5 { try spool.drop("l\(i).csv", Fixtures.csv(["LM-\(i)"])) }
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual((try spool.json(["files", "--limit", "2"]) as? [Any])?.count, 2)
        XCTAssertEqual((try spool.json(["files", "--limit", "0"]) as? [Any])?.count, 5)
        XCTAssertEqual(try spool.run(["files", "--limit", "-1"]).status, 2)
    }

    /// `parse` reads without rules: an order the rules reject is still read as a record.
    func testParseReadsRecordsWithoutRules() throws {
        let spool = try TestSpool()
        let file = spool.path("p.xml")
        // A Polish postcode of the wrong shape: the rules' finding, not the schema's.
        try Fixtures.xml(["PA-1", "PA-2"]).replacingOccurrences(of: "70-001", with: "7OO01")
            .write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try spool.run(["validate", file]).status, 1, "the rules do reject it")
        let r = try spool.run(["parse", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("orders-xml, 2 records, 0 findings"), r.stdout)
        let hashing = try spool.run(["parse", "--content-hash", file])
        XCTAssertEqual(hashing.status, 0, hashing.stderr)
        XCTAssertEqual(hashing.stdout, r.stdout, "the hash changes nothing that is read")
        let help = try spool.run(["--help"])
        XCTAssertFalse(help.stdout.contains("\n  parse "), "hidden from help")
    }
}
