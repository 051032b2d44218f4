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

    /// More files than one batch (256): kills land in the second batch. Its claims come
    /// before the first batch is delivered (its files are read while that happens), every
    /// later point after the first batch is delivered and archived.
    func testCrashAtEveryPointInTheSecondBatch() throws {
        try crashAtEveryPoint(files: 300, hits: { Self.oncePerBatch.contains($0) ? [2] : [290] })
    }

    /// The overlap itself: a kill at the second batch's last claim finds the first batch
    /// committed but not yet delivered, nor its archiving recorded (its first temp files
    /// perhaps written, its originals perhaps moved), and the second claimed but not
    /// committed; a restart finishes both, once, and leaves no temp file.
    func testCrashWhileTheNextBatchIsClaimedBeforeTheLastOneIsDelivered() throws {
        let count = 300
        let names = (1...count).map { String(format: "m%03d.csv", $0) }
        let ids = names.indices.map { "M-\($0 + 1)" }
        let spool = try TestSpool()
        for (name, id) in zip(names, ids) { try spool.drop(name, Fixtures.csv([id])) }
        let crashed = try spool.run(["run", "--once", "--settle", "0"],
                                    environment: [CrashSwitch.environmentVariable: "after-claim#\(count)"])
        XCTAssertTrue(crashed.killedBySignal && crashed.status == SIGKILL, "status \(crashed.status): \(crashed.stderr)")
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertEqual(status?["inFlight"] as? Int, 256, "the first batch: committed, not archived")
        XCTAssertEqual(status?["pendingDeliveries"] as? Int, 256, "the first batch: nothing delivered yet")
        // The first batch's temp files may be there (written ahead while the second was
        // claimed); no order file is.
        XCTAssertEqual(spool.files(in: "outbox").filter { !$0.hasPrefix(".") }.count, 0, "no order file in the outbox yet")
        // The first batch's originals are moving to the archive meanwhile (not yet recorded).
        let archived = spool.files(in: "archive").count
        XCTAssertLessThanOrEqual(archived, 256, "only the first batch's originals move")
        XCTAssertEqual(spool.files(in: "work").count + archived, count, "both batches claimed")
        XCTAssertEqual(spool.files(in: "inbox"), [])
        let again = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(again.status, 0, again.stderr)
        try spool.assertInvariants(inputs: names, orders: Set(ids))
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
