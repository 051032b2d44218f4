import EDIDrop
import Foundation
import XCTest

/// Kills the real process with SIGKILL at every named point of the protocol, restarts
/// it, and checks that nothing was lost and nothing was sent twice.
final class CrashRecoveryTests: XCTestCase {
    /// Three files: two valid (three orders), one invalid, so every path is walked.
    private func prepare() throws -> TestSpool {
        let spool = try TestSpool()
        try spool.drop("a.csv", Fixtures.csv(["C-1", "C-2"]))
        try spool.drop("b.xml", Fixtures.xml(["C-3"]))
        try spool.drop("c.csv", Fixtures.csvHeader + Fixtures.csvRow("C-4", quantity: "0"))
        return spool
    }

    private let inputs = ["a.csv", "b.xml", "c.csv"]
    private let orders: Set<String> = ["C-1", "C-2", "C-3"]

    /// Each point, on its first and on a later hit, so that crashes land both before any
    /// work is done and in the middle of a batch.
    func testCrashAtEveryPointThenRestart() throws {
        var tried: [String] = []
        for point in CrashPoint.allCases {
            for hit in [1, 2] {
                let spec = "\(point.rawValue)#\(hit)"
                let spool = try prepare()
                let crashed = try spool.run(["run", "--once", "--settle", "0"],
                                            environment: [CrashSwitch.environmentVariable: spec])
                let died = crashed.killedBySignal && crashed.status == SIGKILL
                tried.append("\(spec): \(died ? "killed" : "not reached")")
                if hit == 1 && point != .duringRecovery {
                    XCTAssertTrue(died, "\(spec) should be reached and kill the process (status \(crashed.status), \(crashed.stderr))")
                }
                let again = try spool.run(["run", "--once", "--settle", "0"])
                XCTAssertEqual(again.status, 0, "restart after \(spec): \(again.stderr)")
                try spool.assertInvariants(inputs: inputs, orders: orders)
                XCTAssertEqual(try spool.errorCodes("c.csv"), ["INVALID_QUANTITY@2"], "after \(spec)")
            }
        }
        print("crash matrix:\n  " + tried.joined(separator: "\n  "))
    }

    /// A batch big enough that its originals move to the archive on a thread of their own
    /// while its messages are delivered (`Engine.concurrentArchiveMinimum`): a kill at any
    /// point, on either thread and in the middle of the batch, loses and repeats nothing.
    func testCrashAtEveryPointInABatchWhoseArchiveMovesOverlapItsDeliveries() throws {
        XCTAssertGreaterThanOrEqual(23, Engine.concurrentArchiveMinimum, "the batch must take the concurrent path")
        try crashAtEveryPoint(files: 24, hits: { Self.oncePerBatch.contains($0) ? [1] : [1, 13] })
    }

    /// More files than one batch (256): kills land in the second batch. Its claims and its
    /// commit come before the first batch is delivered (a batch is delivered once the one
    /// after it is committed); its delivery and archive points after the first batch is
    /// delivered and archived.
    func testCrashAtEveryPointInTheSecondBatch() throws {
        try crashAtEveryPoint(files: 300, hits: { Self.oncePerBatch.contains($0) ? [2] : [290] })
    }

    /// The overlap itself: batches are claimed on a thread of their own, so a kill at the
    /// second batch's last claim finds the first batch claimed and perhaps committed (its
    /// first temp files perhaps written, its originals perhaps moved), never delivered: a
    /// batch is delivered only after the one after it is committed. A restart finishes
    /// both, once, and leaves no temp file.
    func testCrashWhileTheNextBatchIsClaimedBeforeTheLastOneIsDelivered() throws {
        let count = 300
        let spool = try TestSpool()
        let (names, ids) = try dropOneOrderFiles(count, named: "m", ids: "M", digits: 3, into: spool)
        try runUntilKilled(spool, at: "after-claim#\(count)")
        let status = try spool.json(["status"]) as? [String: Any]
        let inFlight = status?["inFlight"] as? Int
        XCTAssertTrue(inFlight == 0 || inFlight == 256, "the first batch committed whole or not at all, the second not: \(String(describing: inFlight))")
        XCTAssertEqual(status?["pendingDeliveries"] as? Int, inFlight, "nothing committed is delivered yet")
        // The first batch's temp files may be there; no order file is.
        XCTAssertEqual(spool.files(in: "outbox").filter { !$0.hasPrefix(".") }.count, 0, "no order file in the outbox yet")
        // The first batch's originals are moving to the archive meanwhile (not yet recorded).
        let archived = spool.files(in: "archive").count
        XCTAssertLessThanOrEqual(archived, 256, "only the first batch's originals move")
        XCTAssertEqual(spool.files(in: "work").count + archived, count, "both batches claimed")
        XCTAssertEqual(spool.files(in: "inbox"), [])
        try restartAndCheck(spool, inputs: names, orders: ids)
    }

    /// The pipeline's depth (`Engine.batchesCommittedAhead`): a batch is marked
    /// `delivering` once the one after it is committed, renamed on a thread of its own while
    /// the one after that is committed, and marked `delivered` only after that commit. A kill
    /// right after the third batch's commit finds the first batch's files all written (each
    /// renamed into place or still a temp file) and nothing marked delivered or archived; a
    /// restart finishes the three batches, once.
    func testABatchIsRenamedWhileTheBatchTwoAfterItIsCommitted() throws {
        let (spool, names, ids) = try threeBatchesKilled(at: "after-commit#\(2 * Engine.batchLimit + 1)", named: "d", ids: "D")
        let count = names.count
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertEqual((status?["orders"] as? [String: Int])?["sent"] ?? 0, 0, "no batch marked delivered yet")
        XCTAssertEqual(status?["pendingDeliveries"] as? Int, count)
        XCTAssertEqual(status?["inFlight"] as? Int, count, "no archive move recorded yet")
        let outbox = Set(spool.files(in: "outbox"))
        let first = ids[..<Engine.batchLimit]
        XCTAssertEqual(first.filter { outbox.contains("ORDER_\($0).xml") || outbox.contains(".ORDER_\($0).xml.tmp") }.count,
                       Engine.batchLimit, "every file of the first batch written, renamed or about to be")
        let delivered = outbox.filter { !$0.hasPrefix(".") }
        XCTAssertTrue(delivered.isSubset(of: first.map { "ORDER_\($0).xml" }), "only the first batch is renamed: \(delivered.count)")
        try restartAndCheck(spool, inputs: names, orders: ids)
    }

    /// What follows a batch's commit (its temp files written, its originals moved) waits
    /// for the renames of the batch before it, so that the two never share the outbox's
    /// lock (`Engine.claimAndHandle(local:)`). A kill at the first batch's last rename
    /// finds the second batch committed with nothing of it written or moved yet; a restart
    /// finishes everything, once.
    func testABatchWritesAndMovesNothingWhileTheBatchBeforeItIsDelivered() throws {
        let (spool, names, ids) = try threeBatchesKilled(at: "after-rename#\(Engine.batchLimit)", named: "w", ids: "W")
        let second = Set(names[Engine.batchLimit..<(2 * Engine.batchLimit)])
        let secondIDs = Set(ids[Engine.batchLimit..<(2 * Engine.batchLimit)])
        let outbox = spool.files(in: "outbox")
        XCTAssertEqual(outbox.filter { !$0.hasPrefix(".") }.count, Engine.batchLimit, "the first batch is renamed into place")
        let secondTemps = outbox.filter { name in secondIDs.contains { name == ".ORDER_\($0).xml.tmp" } }
        XCTAssertEqual(secondTemps.count, 0, "no temp file of the second batch while the first is delivered")
        XCTAssertEqual(Set(spool.files(in: "work/orders")).intersection(second).count, Engine.batchLimit,
                       "every original of the second batch still in work/")
        try restartAndCheck(spool, inputs: names, orders: ids)
    }

    /// A stop asked for while batches are claimed on their own thread: the claiming stops
    /// between files, and every batch claimed is finished before the daemon exits, so no
    /// file is left in work/ and none is in the ledger unfinished; what was not claimed
    /// stays in the inbox for the next start.
    func testAStopFinishesEveryBatchClaimed() throws {
        let count = 3 * Engine.batchLimit
        let spool = try TestSpool(configuration: "[intake]\npoll_interval = 0.1\n")
        let (names, ids) = try dropOneOrderFiles(count, named: "s", ids: "S", digits: 4, into: spool)
        let daemon = try Edidrop.start(["--spool", spool.root, "run", "--settle", "0"])
        defer { daemon.signal(SIGKILL) }
        // Until the first files are taken, then stop at once.
        let deadline = Date().addingTimeInterval(30)
        while spool.files(in: "inbox").count == count && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        daemon.signal(SIGTERM)
        XCTAssertEqual(try daemon.finish(timeout: 60).status, 0)
        XCTAssertEqual(spool.files(in: "work"), [], "every claimed file was finished")
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertEqual(status?["inFlight"] as? Int, 0)
        XCTAssertEqual(status?["pendingDeliveries"] as? Int, 0)
        let left = spool.files(in: "inbox").count
        XCTAssertLessThan(left, count, "the daemon took some files")
        try restartAndCheck(spool, inputs: names, orders: ids)
    }

    /// One file whose orders fill three pages of deliveries (`Deliverer.batchSize`), so
    /// that each page after the first has its temp files written while the page before it
    /// is renamed and marked: a kill at each delivery point, in the second page (with the
    /// third written ahead or being written) and in the first, loses and repeats nothing.
    func testCrashAtEveryDeliveryPointInAFileOfThreePages() throws {
        let ids = (1...(2 * Deliverer.batchSize + 52)).map { "P-\($0)" }
        let specs = ["after-temp-write#1500", "after-mark-delivering#2", "after-rename#1500", "before-folder-fsync#2",
                     "after-mark-delivered#1", "after-mark-delivered#2"]
        for spec in specs {
            let spool = try TestSpool()
            try spool.drop("big.csv", Fixtures.csv(ids))
            let crashed = try spool.run(["run", "--once", "--settle", "0"], environment: [CrashSwitch.environmentVariable: spec])
            XCTAssertTrue(crashed.killedBySignal && crashed.status == SIGKILL,
                          "\(spec) should be reached and kill the process (status \(crashed.status), \(crashed.stderr))")
            let again = try spool.run(["run", "--once", "--settle", "0"])
            XCTAssertEqual(again.status, 0, "restart after \(spec): \(again.stderr)")
            try spool.assertInvariants(inputs: ["big.csv"], orders: Set(ids))
        }
    }

    /// `run --once` with a crash point armed, which must be reached and kill the process.
    private func runUntilKilled(_ spool: TestSpool, at point: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let crashed = try spool.run(["run", "--once", "--settle", "0"], environment: [CrashSwitch.environmentVariable: point])
        XCTAssertTrue(crashed.killedBySignal && crashed.status == SIGKILL, "\(point): status \(crashed.status): \(crashed.stderr)",
                      file: file, line: line)
    }

    /// A plain restart after a kill, which must finish everything once.
    private func restartAndCheck(_ spool: TestSpool, inputs names: [String], orders ids: [String],
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let again = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(again.status, 0, again.stderr, file: file, line: line)
        try spool.assertInvariants(inputs: names, orders: Set(ids), file: file, line: line)
    }

    /// Two full batches of one-order files and a third of 88, then `run --once` killed at `point`.
    private func threeBatchesKilled(at point: String, named name: String, ids prefix: String) throws -> (TestSpool, [String], [String]) {
        let spool = try TestSpool()
        let (names, ids) = try dropOneOrderFiles(2 * Engine.batchLimit + 88, named: name, ids: prefix, digits: 4, into: spool)
        try runUntilKilled(spool, at: point)
        return (spool, names, ids)
    }

    /// Drops `count` files of one order each: `<name>001.csv` with order `<ids>-1`, and so on.
    private func dropOneOrderFiles(_ count: Int, named name: String, ids prefix: String, digits: Int,
                                   into spool: TestSpool) throws -> (names: [String], ids: [String]) {
        let names = (1...count).map { String(format: "\(name)%0\(digits)d.csv", $0) }
        let ids = names.indices.map { "\(prefix)-\($0 + 1)" }
        for (file, id) in zip(names, ids) { try spool.drop(file, Fixtures.csv([id])) }
        return (names, ids)
    }

    /// Drops `files` one-order files (the last one invalid), kills `run --once` at each
    /// point on each of its hits, restarts it and checks the invariants.
    private func crashAtEveryPoint(files count: Int, hits: (CrashPoint) -> [Int]) throws {
        let names = (1...count).map { String(format: "m%03d.csv", $0) }
        let valid = (1..<count).map { "M-\($0)" }
        for point in CrashPoint.allCases where point != .duringRecovery {
            for hit in hits(point) {
                let spec = "\(point.rawValue)#\(hit)"
                let spool = try TestSpool()
                for (name, id) in zip(names, valid) { try spool.drop(name, Fixtures.csv([id])) }
                try spool.drop(names[count - 1], Fixtures.csvHeader + Fixtures.csvRow("M-BAD", quantity: "0"))
                let crashed = try spool.run(["run", "--once", "--settle", "0"],
                                            environment: [CrashSwitch.environmentVariable: spec])
                XCTAssertTrue(crashed.killedBySignal && crashed.status == SIGKILL,
                              "\(spec) should be reached and kill the process (status \(crashed.status), \(crashed.stderr))")
                let again = try spool.run(["run", "--once", "--settle", "0"])
                XCTAssertEqual(again.status, 0, "restart after \(spec): \(again.stderr)")
                try spool.assertInvariants(inputs: names, orders: Set(valid))
                XCTAssertEqual(try spool.errorCodes(names[count - 1]), ["INVALID_QUANTITY@2"], "after \(spec)")
            }
        }
    }

    /// Marking and the folder fsync happen once per batch and folder, everything else per file.
    private static let oncePerBatch: Set<CrashPoint> = [.afterMarkDelivering, .beforeFolderSync, .afterMarkDelivered]

    /// Recovery itself can be interrupted and must still converge.
    func testCrashDuringRecoveryThenRestart() throws {
        let spool = try prepare()
        let first = try spool.run(["run", "--once", "--settle", "0"], environment: [CrashSwitch.environmentVariable: "after-mark-delivering"])
        XCTAssertTrue(first.killedBySignal)
        let second = try spool.run(["run", "--once", "--settle", "0"], environment: [CrashSwitch.environmentVariable: "during-recovery"])
        XCTAssertTrue(second.killedBySignal, "recovery found work to do and was killed in the middle")
        // All three files went in one batch, so what is left is recovery's own work: the
        // archive moves, interrupted too.
        let third = try spool.run(["run", "--once", "--settle", "0"], environment: [CrashSwitch.environmentVariable: "before-archive"])
        XCTAssertTrue(third.killedBySignal, "recovery reached the archive moves and was killed again")
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        try spool.assertInvariants(inputs: inputs, orders: orders)
    }

    /// A delivery crashed after the rename: the warehouse may already have taken the file.
    /// Recovery must not write it again.
    func testAFileTakenByTheWarehouseAfterTheRenameIsNotSentAgain() throws {
        let spool = try TestSpool()
        try spool.drop("w.csv", Fixtures.csv(["W-1"]))
        let crashed = try spool.run(["run", "--once", "--settle", "0"], environment: [CrashSwitch.environmentVariable: "after-rename"])
        XCTAssertTrue(crashed.killedBySignal)
        XCTAssertEqual(spool.files(in: "outbox"), ["ORDER_W-1.xml"])
        try FileManager.default.removeItem(atPath: spool.path("outbox/ORDER_W-1.xml"))   // the warehouse took it
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(spool.files(in: "outbox"), [], "never delivered twice")
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertEqual((status?["orders"] as? [String: Int])?["sent"], 1)
    }

    func testAnUnknownCrashPointIsAUsageError() throws {
        let spool = try TestSpool()
        let r = try spool.run(["run", "--once"], environment: [CrashSwitch.environmentVariable: "nowhere"])
        XCTAssertEqual(r.status, 2)
    }
}
