import Foundation
import XCTest
@testable import EDIDrop

final class SpoolConfigurationTests: XCTestCase {
    private func problem(_ toml: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            let c = try SpoolConfiguration.parse(toml, name: "spool/edidrop.toml")
            XCTFail("accepted: \(c)", file: file, line: line)
            return nil
        } catch let p as SpoolConfiguration.Problem {
            return p.message
        } catch {
            XCTFail("not a Problem: \(error)", file: file, line: line)
            return nil
        }
    }

    private func assertProblem(_ toml: String, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        guard let message = problem(toml, file: file, line: line) else { return }
        XCTAssertTrue(message.hasPrefix("spool/edidrop.toml"), "names the file: \(message)", file: file, line: line)
        for part in parts {
            XCTAssertTrue(message.contains(part), "\(message.debugDescription) should mention \(part.debugDescription)", file: file, line: line)
        }
    }

    func testDefaults() throws {
        let c = try SpoolConfiguration.parse("")
        XCTAssertEqual(c, SpoolConfiguration())
        XCTAssertEqual(c.folders.inbox, "inbox")
        XCTAssertEqual(c.folders.outbox, "outbox")
        XCTAssertEqual(c.folders.fromWarehouse, "from-warehouse")
        XCTAssertEqual(c.folders.toShop, "to-shop")
        XCTAssertEqual(c.folders.archive, "archive")
        XCTAssertEqual(c.folders.rejected, "rejected")
        XCTAssertEqual(c.intake.settle, 2.0)
        XCTAssertEqual(c.intake.pollInterval, 1.0)
        XCTAssertFalse(c.intake.doneMarker)
        XCTAssertEqual(c.intake.maxFileSize, 1_073_741_824)
        XCTAssertEqual(c.intake.fallbackEncoding, .windows1250)

        XCTAssertEqual(try SpoolConfiguration.parse("# only a comment\n\n[folders]\n[intake]\n"), SpoolConfiguration())
        XCTAssertEqual(try SpoolConfiguration.load(from: "/nonexistent/edidrop.toml"), SpoolConfiguration())
    }

    func testEveryKey() throws {
        let c = try SpoolConfiguration.parse("""
        [folders]
        inbox = "in"
        outbox = "/mnt/warehouse/in"
        from_warehouse = "wh"
        to_shop = "shop"
        archive = "old"
        rejected = "bad"

        [intake]
        settle = 10
        poll_interval = 0.5
        done_marker = true
        max_file_size = "500MB"
        encoding = "ISO-8859-2"
        """)
        XCTAssertEqual(c.folders.inbox, "in")
        XCTAssertEqual(c.folders.outbox, "/mnt/warehouse/in")
        XCTAssertEqual(c.folders.fromWarehouse, "wh")
        XCTAssertEqual(c.folders.toShop, "shop")
        XCTAssertEqual(c.folders.archive, "old")
        XCTAssertEqual(c.folders.rejected, "bad")
        XCTAssertEqual(c.intake.settle, 10.0, "a whole number is a number of seconds too")
        XCTAssertEqual(c.intake.pollInterval, 0.5)
        XCTAssertTrue(c.intake.doneMarker)
        XCTAssertEqual(c.intake.maxFileSize, 500_000_000)
        XCTAssertEqual(c.intake.fallbackEncoding, .iso8859_2)

        let numeric = try SpoolConfiguration.parse("[intake]\nmax_file_size = 1048576\nsettle = 0\nencoding = \"cp1250\"\n")
        XCTAssertEqual(numeric.intake.maxFileSize, 1_048_576)
        XCTAssertEqual(numeric.intake.settle, 0)
        XCTAssertEqual(numeric.intake.fallbackEncoding, .windows1250)
    }

    func testTheCommentedTemplateParsesToTheDefaults() throws {
        XCTAssertEqual(try SpoolConfiguration.parse(Spool.configurationTemplate), SpoolConfiguration())
    }

    func testWrongTypesAreClearProblems() {
        assertProblem("[intake]\nsettle = \"fast\"\n", mentions: ["[intake] settle", "number"])
        assertProblem("[intake]\nsettle = -1\n", mentions: ["[intake] settle", "≥ 0"])
        assertProblem("[intake]\npoll_interval = 0.01\n", mentions: ["poll_interval", "0.05"])
        assertProblem("[intake]\nsettle = nan\n", mentions: ["settle"])
        assertProblem("[intake]\ndone_marker = \"yes\"\n", mentions: ["[intake] done_marker", "true or false"])
        assertProblem("[intake]\ndone_marker = 1\n", mentions: ["done_marker"])
        assertProblem("[intake]\nmax_file_size = \"huge\"\n", mentions: ["max_file_size", "\"huge\"", "1GiB"])
        assertProblem("[intake]\nmax_file_size = -5\n", mentions: ["max_file_size", "whole number"])
        assertProblem("[intake]\nmax_file_size = 1.5\n", mentions: ["max_file_size"])
        assertProblem("[intake]\nencoding = \"utf-16\"\n", mentions: ["encoding", "\"utf-16\"", "windows-1250"])
        assertProblem("[intake]\nencoding = 1250\n", mentions: ["[intake] encoding", "string"])
        assertProblem("[folders]\ninbox = 5\n", mentions: ["[folders] inbox", "a string"])
        assertProblem("[folders]\noutbox = [\"a\", \"b\"]\n", mentions: ["[folders] outbox", "a string"])
        assertProblem("folders = \"inbox\"\n", mentions: ["folders must be a table"])
    }

    func testUnknownKeysAndSectionsAreProblems() {
        assertProblem("[intake]\nsetle = 3\n", mentions: ["[intake]", "\"setle\"", "settle"])
        assertProblem("[folders]\nin_box = \"x\"\n", mentions: ["[folders]", "\"in_box\"", "inbox"])
        assertProblem("[watch]\nsettle = 3\n", mentions: ["\"watch\"", "folders", "intake"])
        assertProblem("settle = 3\n", mentions: ["\"settle\""])
    }

    func testExpectations() throws {
        XCTAssertNil(try SpoolConfiguration.parse("").expectations.stockReportEvery)
        XCTAssertNil(try SpoolConfiguration.parse("").expectations.shipmentWithin)
        let c = try SpoolConfiguration.parse("[expectations]\nstock_report_every = \"90m\"\nshipment_within = 48\n")
        XCTAssertEqual(c.expectations.stockReportEvery, 5_400)
        XCTAssertEqual(c.expectations.shipmentWithin, 172_800, "a bare number is hours")
        assertProblem("[expectations]\nstock_report_every = \"soon\"\n", mentions: ["[expectations] stock_report_every", "duration"])
        assertProblem("[expectations]\nshipment_within = 0\n", mentions: ["shipment_within"])
        assertProblem("[expectations]\nshipment_within = true\n", mentions: ["shipment_within"])
        assertProblem("[expectations]\nstock_every = \"6h\"\n", mentions: ["\"stock_every\""])

        XCTAssertEqual(SpoolConfiguration.parseDuration("90s"), 90)
        XCTAssertEqual(SpoolConfiguration.parseDuration("30m"), 1_800)
        XCTAssertEqual(SpoolConfiguration.parseDuration("6h"), 21_600)
        XCTAssertEqual(SpoolConfiguration.parseDuration("1.5 h"), 5_400)
        XCTAssertEqual(SpoolConfiguration.parseDuration("2d"), 172_800)
        XCTAssertEqual(SpoolConfiguration.parseDuration("6"), 21_600)
        for junk in ["", "h", "0", "0s", "-1h", "1.2.3h", "6 weeks", "abc"] {
            XCTAssertNil(SpoolConfiguration.parseDuration(junk), junk.debugDescription)
        }
    }

    func testSyntaxErrorNamesTheLine() {
        guard let message = problem("[intake]\nsettle = 2\ndone_marker = \n") else { return }
        XCTAssertTrue(message.hasPrefix("spool/edidrop.toml line 3"), message)
    }

    func testLoadReadsTheFile() throws {
        let dir = FixtureFolder("edidrop-config")
        let path = dir.join("edidrop.toml")
        Fixture.write("[intake]\nsettle = 7.5\n", to: path)
        XCTAssertEqual(try SpoolConfiguration.load(from: path).intake.settle, 7.5)
        Fixture.write([0xFF, 0xFE, 0x00], to: path)
        XCTAssertThrowsError(try SpoolConfiguration.load(from: path)) { error in
            XCTAssertTrue((error as? SpoolConfiguration.Problem)?.message.contains(path) == true, "\(error)")
        }
    }

    func testSpoolResolvesFoldersAgainstItsRoot() {
        var c = SpoolConfiguration()
        c.folders.outbox = "/mnt/warehouse/in"
        c.folders.archive = "../shared/archive"
        let spool = Spool(root: "/srv/spool/", configuration: c)
        XCTAssertEqual(spool.root, "/srv/spool")
        XCTAssertEqual(spool.inbox, "/srv/spool/inbox")
        XCTAssertEqual(spool.outbox, "/mnt/warehouse/in")
        XCTAssertEqual(spool.archive, "/srv/shared/archive")
        XCTAssertEqual(spool.ledgerPath, "/srv/spool/ledger.sqlite")
        XCTAssertEqual(spool.workFolder(for: .orders), "/srv/spool/work/orders")
        XCTAssertEqual(spool.relative("/srv/spool/archive/2026-11-27"), "archive/2026-11-27")
        XCTAssertEqual(spool.relative("/mnt/warehouse/in"), "/mnt/warehouse/in")
    }

    /// The short way to an archive day's name in the ledger gives what the long way gives,
    /// for an archive inside the spool, outside it, nested, and the spool folder itself.
    func testTheArchiveDaysLedgerNameIsTheRelativePathOfItsFolder() {
        for archive in ["archive", "../shared/archive", "/var/archive/", "old/archive", ".", "/srv/spool"] {
            var c = SpoolConfiguration()
            c.folders.archive = archive
            let spool = Spool(root: "/srv/spool/", configuration: c)
            let folder = spool.archiveFolder(day: "2026-11-27")
            XCTAssertEqual(folder.relative, spool.relative(folder.path), archive)
        }
        var c = SpoolConfiguration()
        c.folders.archive = "old/archive"
        XCTAssertEqual(Spool(root: "/srv/spool", configuration: c).archiveFolder(day: "2026-11-27").relative, "old/archive/2026-11-27")
    }
}

final class ByteSizeTests: XCTestCase {
    func testUnits() {
        XCTAssertEqual(SpoolConfiguration.parseByteSize("1GiB"), 1_073_741_824)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("1gib"), 1_073_741_824)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("2G"), 2_147_483_648)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("1GB"), 1_000_000_000)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("500MB"), 500_000_000)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("500 MB"), 500_000_000)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("3MiB"), 3_145_728)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("64k"), 65_536)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("64KB"), 64_000)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("12"), 12)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("12b"), 12)
        XCTAssertEqual(SpoolConfiguration.parseByteSize(" 1048576 "), 1_048_576)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("0"), 0)
        XCTAssertEqual(SpoolConfiguration.parseByteSize("1TiB"), 1_099_511_627_776)
    }

    func testJunk() {
        for junk in ["", " ", "GiB", "abc", "1.5GB", "-1", "+1", "1 2", "10XB", "1GiBs", "1e9",
                     "99999999999999999999", "9000000000 TB", "١٢", "１２"] {
            XCTAssertNil(SpoolConfiguration.parseByteSize(junk), junk.debugDescription)
        }
    }
}
