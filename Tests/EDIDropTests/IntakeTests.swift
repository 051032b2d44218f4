import Foundation
import XCTest
@testable import EDIDrop

final class CandidateRulesTests: XCTestCase {
    func testUnfinishedNames() {
        let unfinished = [
            ".hidden.csv", ".", "..x", "~lock.csv", "~$orders.xlsx",
            "orders.csv.tmp", "orders.tmp", "orders.TMP", "orders.csv.part", "orders.partial",
            "orders.csv.filepart", "orders.csv.crdownload", "orders.csv.writing", "orders.Writing",
        ]
        for name in unfinished {
            XCTAssertTrue(CandidateRules.isUnfinishedName(name), name)
        }
        let finished = [
            "orders.csv", "orders.xml", "orders.tmp.csv", "part", "tmp", "orders-partial.csv",
            "x~.csv", "a.b.c", "orders.csv.done", "zamówienia.csv", "orders.csv.tmpx",
        ]
        for name in finished {
            XCTAssertFalse(CandidateRules.isUnfinishedName(name), name)
        }
    }

    func testScanListsRegularFilesAndLinksButSkipsUnfinishedMarkersAndFolders() throws {
        let dir = FixtureFolder("edidrop-scan")
        let target = dir.join("target-outside.bin")
        Fixture.write([UInt8](repeating: 0x41, count: 5000), to: target)
        let inbox = dir.join("inbox")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: false)
        for name in ["b.csv", "a.xml", ".hidden.csv", "~lock.csv", "x.tmp", "x.part", "x.partial",
                     "x.filepart", "x.crdownload", "x.writing", "a.xml.done"] {
            Fixture.write("order_id\n", to: FileSystem.join(inbox, name))
        }
        try FileManager.default.createDirectory(atPath: FileSystem.join(inbox, "sub"), withIntermediateDirectories: false)
        Fixture.write("inside a subfolder", to: FileSystem.join(inbox, "sub/c.csv"))
        XCTAssertEqual(symlink(target, FileSystem.join(inbox, "link.csv")), 0)
        XCTAssertEqual(symlink(FileSystem.join(inbox, "sub"), FileSystem.join(inbox, "dirlink")), 0)
        XCTAssertEqual(symlink("/nonexistent/nothing", FileSystem.join(inbox, "dangling.csv")), 0)

        let found = try CandidateRules.scan(folder: inbox, channel: .orders, doneMarker: false)
        XCTAssertEqual(found.map(\.name), ["a.xml", "b.csv", "dangling.csv", "dirlink", "link.csv"])
        XCTAssertTrue(found.allSatisfy { $0.channel == .orders })

        let byName = Dictionary(uniqueKeysWithValues: found.map { ($0.name, $0) })
        let b = try XCTUnwrap(byName["b.csv"])
        XCTAssertEqual(b.path, FileSystem.join(inbox, "b.csv"))
        XCTAssertEqual(b.status.kind, .regular)
        XCTAssertTrue(b.isRegularFile)
        XCTAssertEqual(b.status.size, 9)

        // Links are described by lstat, never followed: the size is the link's, not the target's.
        let link = try XCTUnwrap(byName["link.csv"])
        XCTAssertEqual(link.status.kind, .symlink)
        XCTAssertFalse(link.isRegularFile)
        XCTAssertEqual(link.status.size, Int64(target.utf8.count))
        XCTAssertNotEqual(link.status.size, 5000)
        XCTAssertEqual(byName["dirlink"]?.status.kind, .symlink, "a link to a folder is a link, not a folder")
        XCTAssertEqual(byName["dangling.csv"]?.status.kind, .symlink)
    }

    func testScanInDoneMarkerModeTakesOnlyMarkedFiles() throws {
        let dir = FixtureFolder("edidrop-scan-done")
        for name in ["ready.csv", "ready.csv.done", "waiting.csv", "orphan.csv.done", "upload.tmp", "upload.tmp.done"] {
            Fixture.write("x", to: dir.join(name))
        }
        let marked = try CandidateRules.scan(folder: dir.path, channel: .warehouse, doneMarker: true)
        XCTAssertEqual(marked.map(\.name), ["ready.csv"])
        XCTAssertEqual(marked.first?.channel, .warehouse)

        let unmarked = try CandidateRules.scan(folder: dir.path, channel: .orders, doneMarker: false)
        XCTAssertEqual(unmarked.map(\.name), ["ready.csv", "waiting.csv"], ".done markers are never candidates themselves")
    }

    func testScanOfMissingFolderThrows() {
        XCTAssertThrowsError(try CandidateRules.scan(folder: "/nonexistent/edidrop-inbox", channel: .orders, doneMarker: false)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, ENOENT)
        }
    }
}

final class SettleTrackerTests: XCTestCase {
    private func candidate(name: String = "a.csv", size: Int64 = 100, modified: Int64 = 1_000,
                           inode: UInt64 = 7, kind: FileStatus.Kind = .regular) -> Candidate {
        Candidate(channel: .orders, name: name, path: "/spool/inbox/\(name)",
                  status: FileStatus(kind: kind, size: size, modified: modified, inode: inode, device: 1))
    }

    func testNotReadyAtFirstSightThenReadyAfterSettle() {
        var tracker = SettleTracker(settle: 2)
        let c = candidate()
        XCTAssertFalse(tracker.observe(c, now: 10))
        XCTAssertFalse(tracker.observe(c, now: 11))
        XCTAssertFalse(tracker.observe(c, now: 11.999))
        XCTAssertTrue(tracker.observe(c, now: 12))
        XCTAssertTrue(tracker.observe(c, now: 30))
    }

    func testSizeChangeRestartsTheWait() {
        var tracker = SettleTracker(settle: 2)
        XCTAssertFalse(tracker.observe(candidate(size: 100), now: 0))
        XCTAssertFalse(tracker.observe(candidate(size: 200), now: 1.5))
        XCTAssertFalse(tracker.observe(candidate(size: 200), now: 3.0), "only 1.5 s since the size changed")
        XCTAssertTrue(tracker.observe(candidate(size: 200), now: 3.5))
    }

    func testModificationTimeChangeRestartsTheWait() {
        var tracker = SettleTracker(settle: 2)
        XCTAssertFalse(tracker.observe(candidate(modified: 1_000), now: 0))
        XCTAssertFalse(tracker.observe(candidate(modified: 2_000), now: 5), "same size, newer mtime")
        XCTAssertFalse(tracker.observe(candidate(modified: 2_000), now: 6))
        XCTAssertTrue(tracker.observe(candidate(modified: 2_000), now: 7))
    }

    func testReplacedFileRestartsTheWait() {
        var tracker = SettleTracker(settle: 1)
        XCTAssertFalse(tracker.observe(candidate(inode: 1), now: 0))
        XCTAssertFalse(tracker.observe(candidate(inode: 2), now: 5))
        XCTAssertTrue(tracker.observe(candidate(inode: 2), now: 6))
    }

    func testSettleZeroIsImmediate() {
        var tracker = SettleTracker(settle: 0)
        XCTAssertTrue(tracker.observe(candidate(), now: 0))
        XCTAssertTrue(tracker.observe(candidate(size: 5), now: 0))
    }

    func testLinksHaveNothingToSettle() {
        var tracker = SettleTracker(settle: 60)
        XCTAssertTrue(tracker.observe(candidate(name: "l.csv", kind: .symlink), now: 0))
        XCTAssertTrue(tracker.observe(candidate(name: "fifo", kind: .other), now: 0))
    }

    func testFilesAreTrackedSeparately() {
        var tracker = SettleTracker(settle: 2)
        XCTAssertFalse(tracker.observe(candidate(name: "a.csv"), now: 0))
        XCTAssertFalse(tracker.observe(candidate(name: "b.csv"), now: 1))
        XCTAssertTrue(tracker.observe(candidate(name: "a.csv"), now: 2))
        XCTAssertFalse(tracker.observe(candidate(name: "b.csv"), now: 2))
        XCTAssertTrue(tracker.observe(candidate(name: "b.csv"), now: 3))
    }

    func testForgetAndKeepOnlyStartOver() {
        var tracker = SettleTracker(settle: 2)
        let a = candidate(name: "a.csv"), b = candidate(name: "b.csv")
        XCTAssertFalse(tracker.observe(a, now: 0))
        XCTAssertFalse(tracker.observe(b, now: 0))
        tracker.forget(a.path)
        XCTAssertFalse(tracker.observe(a, now: 5), "forgotten: first sight again")
        tracker.keepOnly([a.path])
        XCTAssertFalse(tracker.observe(b, now: 6), "dropped by keepOnly: first sight again")
        XCTAssertTrue(tracker.observe(a, now: 7))
        XCTAssertTrue(tracker.observe(b, now: 8))
    }
}

final class ClaimTests: XCTestCase {
    func testReceivedNameFromWorkName() {
        XCTAssertEqual(Claim.receivedName(fromWorkName: "orders.csv"), "orders.csv")
        XCTAssertEqual(Claim.receivedName(fromWorkName: "orders.csv~w2"), "orders.csv")
        XCTAssertEqual(Claim.receivedName(fromWorkName: "orders.csv~w12"), "orders.csv")
        XCTAssertEqual(Claim.receivedName(fromWorkName: "orders~wide.csv"), "orders~wide.csv")
    }

    func testTakeMovesIntoWorkWithoutReplacing() throws {
        let setup = try Fixture.SpoolSetup()
        let spool = setup.spool
        Fixture.write("first", to: FileSystem.join(spool.workFolder(for: .orders), "o.csv"))
        setup.drop("second", as: "o.csv")
        let c = try XCTUnwrap(CandidateRules.scan(folder: spool.inbox, channel: .orders, doneMarker: false).first)
        let claimed = try XCTUnwrap(Claim.take(c, spool: spool))
        XCTAssertEqual(claimed.name, "o.csv")
        XCTAssertEqual(claimed.workName, "o.csv~w2")
        XCTAssertNil(claimed.sourcePath)
        XCTAssertEqual(Fixture.read(claimed.workPath), "second")
        XCTAssertEqual(Fixture.read(FileSystem.join(spool.workFolder(for: .orders), "o.csv")), "first")
        XCTAssertEqual(Fixture.names(in: spool.inbox), [])
        // A candidate that vanished meanwhile is no claim.
        XCTAssertNil(try Claim.take(c, spool: spool))
    }
}
