import Foundation
import GRDB
import XCTest
@testable import EDIDrop

/// The duplicate check's two tiers (`ContentIndex`): files merged into `content_index`
/// and the newer ones looked up in memory. A duplicate must be found whichever tier holds
/// the earlier copy, whoever wrote it, and whatever a rollback or a cut merge left.
final class ContentIndexTests: XCTestCase {
    static func sha(_ n: Int) -> String {
        String(format: "%064x", n)
    }

    /// A hash whose prefix (the first 12 hex digits) is its own.
    static func distinct(_ n: Int) -> String {
        String(format: "%012x", n) + String(repeating: "0", count: 52)
    }

    /// A files row as the processor writes it, in the caller's transaction; its id.
    @discardableResult
    static func insertFile(_ db: Database, sha: String, name: String) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO files (channel, name, work_name, size, sha256, state, dest_dir, stored_name, received_at, processed_at)
            VALUES ('orders', ?, ?, 1, ?, 'accepted', 'archive/2026-12-06', ?, 'x', 'x')
            """, arguments: [name, name, sha, name])
        return db.lastInsertedRowID
    }

    /// A new ledger in `dir` with file 1 (`merged`) in `content_index` and file 2
    /// ("recent.csv", `recent`) after the merge mark.
    static func ledger(in dir: FixtureFolder, merged: String, named name: String, thenRecent recent: String) throws -> Ledger {
        let ledger = try Ledger(path: dir.join("ledger.sqlite"))
        try ledger.write { db in _ = try insertFile(db, sha: merged, name: name) }
        try ledger.write { db in try ledger.contentIndex.merge(db) }
        try ledger.write { db in _ = try insertFile(db, sha: recent, name: "recent.csv") }
        return ledger
    }

    /// A valid orders file of its own content and order ids.
    static func orders(_ i: Int) -> String {
        Fixture.validOrdersCSV.replacingOccurrences(of: "S-1;", with: "S-1-\(i);").replacingOccurrences(of: "S-2;", with: "S-2-\(i);")
    }

    func testDuplicatesAreFoundOnEitherSideOfAMergeAndByANewProcess() throws {
        let s = try Fixture.SpoolSetup()
        s.ledger.contentIndex.mergeThreshold = 3
        for i in 0..<5 {
            s.drop(Self.orders(i), as: "o\(i).csv")
            XCTAssertEqual(try s.engine.runOnce(settle: 0).accepted, 1)
        }
        let merged = try s.ledger.read { db in try Int64.fetchOne(db, sql: "SELECT merged_through FROM content_index_state") }
        // A file is counted as the ledger inserts it (`Ledger.insert`): three were counted
        // at the third file's commit, and the merge after it took them; the fourth and
        // fifth are in memory.
        XCTAssertEqual(merged, 3)
        XCTAssertEqual(try s.ledger.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM content_index") }, 3)

        // A copy of a merged file and of one still in memory.
        s.drop(Self.orders(0), as: "copy-of-o0.csv")
        s.drop(Self.orders(4), as: "copy-of-o4.csv")
        XCTAssertEqual(try s.engine.runOnce(settle: 0).rejected, 2)
        let dups = try s.ledger.read { db in
            try Row.fetchAll(db, sql: "SELECT name, duplicate_of FROM files WHERE duplicate_of IS NOT NULL ORDER BY name")
                .map { "\($0["name"] as String)->\($0["duplicate_of"] as Int64)" }
        }
        XCTAssertEqual(dups, ["copy-of-o0.csv->1", "copy-of-o4.csv->5"])

        // A new process starts from the ledger alone.
        let fresh = try Ledger(path: s.spool.ledgerPath)
        try fresh.write { db in
            XCTAssertEqual(try fresh.earliestFile(withContent: try Self.contentSHA(s, name: "o0.csv"), db)?.id, 1)
            XCTAssertEqual(try fresh.earliestFile(withContent: try Self.contentSHA(s, name: "o4.csv"), db)?.id, 5)
            XCTAssertNil(try fresh.earliestFile(withContent: Self.sha(1), db))
        }
    }

    static func contentSHA(_ s: Fixture.SpoolSetup, name: String) throws -> String {
        try XCTUnwrap(try s.ledger.read { db in try String.fetchOne(db, sql: "SELECT sha256 FROM files WHERE name = ?", arguments: [name]) })
    }

    /// SQLite hands the ids of a rolled-back transaction out again. A row another writer
    /// then commits under such an id must still be found by the ledger that rolled back.
    func testAFileWrittenUnderTheIdsOfARolledBackTransactionIsFound() throws {
        let dir = FixtureFolder("edidrop-content")
        let path = dir.join("ledger.sqlite")
        let first = try Ledger(path: path)
        let second = try Ledger(path: path)
        try first.write { db in _ = try Self.insertFile(db, sha: Self.sha(10), name: "kept.csv") }

        struct Abandon: Error {}
        XCTAssertThrowsError(try first.write { db in
            let id = try Self.insertFile(db, sha: Self.sha(11), name: "rolled-back.csv")
            XCTAssertEqual(id, 2)
            // Looked up after the row was written: the lookup has read it.
            XCTAssertEqual(try first.earliestFile(withContent: Self.sha(11), db)?.id, 2)
            throw Abandon()
        })
        let reused = try second.write { db in try Self.insertFile(db, sha: Self.sha(12), name: "other-writer.csv") }
        XCTAssertEqual(reused, 2, "the id of the rolled-back row, handed out again")

        try first.write { db in
            XCTAssertEqual(try first.earliestFile(withContent: Self.sha(12), db)?.id, 2)
            XCTAssertNil(try first.earliestFile(withContent: Self.sha(11), db), "the rolled-back file is gone")
            XCTAssertEqual(try first.earliestFile(withContent: Self.sha(10), db)?.id, 1)
        }
    }

    /// The hashes read ahead of the first lookup come from a read snapshot: a file another
    /// writer commits after that snapshot, and one this ledger writes and rolls back, are
    /// handled as without the read ahead.
    func testHashesReadAheadFromAnOlderSnapshotMissNothing() throws {
        let dir = FixtureFolder("edidrop-content")
        let path = dir.join("ledger.sqlite")
        let setup = try Ledger(path: path)
        for i in 0..<5 { try setup.write { db in _ = try Self.insertFile(db, sha: Self.sha(30 + i), name: "f\(i).csv") } }
        try setup.write { db in try setup.contentIndex.merge(db) }
        for i in 5..<8 { try setup.write { db in _ = try Self.insertFile(db, sha: Self.sha(30 + i), name: "f\(i).csv") } }

        let mine = try Ledger(path: path)
        let theirs = try Ledger(path: path)
        try mine.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files"), 8, "the snapshot starts here")
            try theirs.write { db in _ = try Self.insertFile(db, sha: Self.sha(40), name: "after-the-snapshot.csv") }
            try mine.contentIndex.preload(db)
        }
        try mine.write { db in
            XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(40), db)?.name, "after-the-snapshot.csv")
        }
        struct Abandon: Error {}
        XCTAssertThrowsError(try mine.write { db in
            _ = try Self.insertFile(db, sha: Self.sha(41), name: "rolled-back.csv")
            XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(41), db)?.name, "rolled-back.csv")
            throw Abandon()
        })
        try mine.write { db in
            XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(40), db)?.name, "after-the-snapshot.csv")
            XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(36), db)?.name, "f6.csv", "read ahead, after the merge")
            XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(32), db)?.name, "f2.csv", "merged")
            XCTAssertNil(try mine.earliestFile(withContent: Self.sha(41), db), "the rolled-back file is gone")
        }
        // Read ahead once a lookup has loaded the tier: nothing changes.
        try mine.read { db in try mine.contentIndex.preload(db) }
        try mine.write { db in XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(40), db)?.name, "after-the-snapshot.csv") }
    }

    /// Files written by another process after this one last looked are found.
    func testFilesOfAnotherWriterAreFound() throws {
        let dir = FixtureFolder("edidrop-content")
        let path = dir.join("ledger.sqlite")
        let mine = try Ledger(path: path)
        let theirs = try Ledger(path: path)
        try mine.write { db in XCTAssertNil(try mine.earliestFile(withContent: Self.sha(20), db)) }
        try theirs.write { db in _ = try Self.insertFile(db, sha: Self.sha(20), name: "theirs.csv") }
        try theirs.write { db in try theirs.contentIndex.merge(db) }
        try theirs.write { db in _ = try Self.insertFile(db, sha: Self.sha(21), name: "theirs-later.csv") }
        try mine.write { db in
            XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(20), db)?.name, "theirs.csv")
            XCTAssertEqual(try mine.earliestFile(withContent: Self.sha(21), db)?.name, "theirs-later.csv")
        }
        // A merge of rows the other writer merged already skips them.
        try mine.write { db in try mine.contentIndex.merge(db) }
        XCTAssertEqual(try mine.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM content_index") }, 2)
    }

    /// A merge is one transaction: cut short (here rolled back), it leaves the ledger and
    /// the lookups as they were, and the next merge does the whole work.
    func testAMergeCutShortChangesNothing() throws {
        let dir = FixtureFolder("edidrop-content")
        let ledger = try Ledger(path: dir.join("ledger.sqlite"))
        try ledger.write { db in
            for i in 0..<4 { try Self.insertFile(db, sha: Self.sha(30 + i), name: "f\(i).csv") }
        }
        struct Cut: Error {}
        XCTAssertThrowsError(try ledger.write { db in
            try ledger.contentIndex.merge(db)
            throw Cut()
        })
        XCTAssertEqual(try ledger.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM content_index") }, 0)
        XCTAssertEqual(try ledger.read { db in try Int64.fetchOne(db, sql: "SELECT merged_through FROM content_index_state") }, 0)
        try ledger.write { db in
            for i in 0..<4 { XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(30 + i), db)?.id, Int64(i + 1)) }
        }
        try ledger.write { db in try ledger.contentIndex.merge(db) }
        XCTAssertEqual(try ledger.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM content_index") }, 4)
        XCTAssertFalse(ledger.contentIndex.isMergeDue)
        try ledger.write { db in
            for i in 0..<4 { XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(30 + i), db)?.id, Int64(i + 1)) }
            XCTAssertNil(try ledger.earliestFile(withContent: Self.sha(99), db))
        }
    }

    /// The on-disk lookup read ahead of a commit, from a snapshot (`lookUpOnDisk`), stands
    /// for the commit's own lookup only while the merge mark is the snapshot's: a file
    /// merged after the snapshot has left the memory tier and is in neither the snapshot's
    /// answer nor memory, and must be found all the same.
    func testALookupReadAheadOfAMergeIsNotTrusted() throws {
        // (Hashes of different prefixes: `sha(_:)` gives them all the same one.)
        let dir = FixtureFolder("edidrop-content")
        let ledger = try Self.ledger(in: dir, merged: Self.distinct(50), named: "old.csv", thenRecent: Self.distinct(51))
        try ledger.write { db in XCTAssertEqual(try ledger.earliestFile(withContent: Self.distinct(51), db)?.id, 2) }

        let before = try ledger.read { db in try ContentIndex.lookUpOnDisk(content: Self.distinct(51), db) }
        XCTAssertEqual(before.fileIds, [], "recent.csv is still in memory, not on disk")
        XCTAssertEqual(before.mergedThrough, 1)
        try ledger.write { db in try ledger.contentIndex.merge(db) }
        try ledger.write { db in
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.distinct(51), onDisk: before, db)?.name, "recent.csv")
        }

        // With the mark unchanged the answer read ahead is the lookup: the commit reads no
        // page of content_index for it (here an answer made up to show it is used).
        let now = try ledger.read { db in try ContentIndex.lookUpOnDisk(content: Self.distinct(50), db) }
        XCTAssertEqual(now.fileIds, [1])
        try ledger.write { db in
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.distinct(50), onDisk: now, db)?.name, "old.csv")
            var madeUp = now
            madeUp.fileIds = []
            XCTAssertNil(try ledger.earliestFile(withContent: Self.distinct(50), onDisk: madeUp, db))
            // An answer for another hash is not used.
            let other = ContentIndex.OnDisk(prefix: String(Self.distinct(52).prefix(ContentIndex.prefixLength)),
                                            mergedThrough: now.mergedThrough, fileIds: [])
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.distinct(50), onDisk: other, db)?.name, "old.csv")
        }
    }

    /// Batches read ahead look their files up in the on-disk index from a snapshot; with
    /// merges between and inside the runs (a threshold of 3), every copy is still found,
    /// of a merged file and of one in memory, and no new file is taken for a copy.
    func testCopiesInBatchesReadAheadAreFoundAcrossMerges() throws {
        let s = try Fixture.SpoolSetup()
        s.ledger.contentIndex.mergeThreshold = 3
        for i in 0..<12 { s.drop(Self.orders(i), as: "o\(i).csv") }
        XCTAssertEqual(try s.engine.runOnce(settle: 0).accepted, 12)
        for i in 12..<14 { s.drop(Self.orders(i), as: "o\(i).csv") }
        XCTAssertEqual(try s.engine.runOnce(settle: 0).accepted, 2)
        let merged = try s.ledger.read { db in try Int64.fetchOne(db, sql: "SELECT merged_through FROM content_index_state") }
        XCTAssertGreaterThanOrEqual(merged ?? 0, 12, "the first run's files are on disk")

        for i in 0..<14 { s.drop(Self.orders(i), as: "copy-of-o\(i).csv") }
        for i in 14..<18 { s.drop(Self.orders(i), as: "o\(i).csv") }
        // And a copy of a file of the same batch, which no snapshot can have seen.
        s.drop(Self.orders(17), as: "z-copy-of-o17.csv")
        let run = try s.engine.runOnce(settle: 0)
        XCTAssertEqual(run.rejected, 15)
        XCTAssertEqual(run.accepted, 4)
        let dups = try s.ledger.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.name AS copy, o.name AS original FROM files c JOIN files o ON o.id = c.duplicate_of ORDER BY c.name
                """).map { "\($0["copy"] as String)->\($0["original"] as String)" }
        }
        XCTAssertEqual(dups, (0..<14).map { "copy-of-o\($0).csv->o\($0).csv" }.sorted() + ["z-copy-of-o17.csv->o17.csv"])
    }

    /// A superseded file (handed back by `retry`) no longer counts, in either tier.
    func testASupersededFileIsNotADuplicate() throws {
        let dir = FixtureFolder("edidrop-content")
        let ledger = try Self.ledger(in: dir, merged: Self.sha(40), named: "merged.csv", thenRecent: Self.sha(41))
        try ledger.write { db in
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(40), db)?.id, 1)
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(41), db)?.id, 2)
            try db.execute(sql: "UPDATE files SET superseded = 1")
            XCTAssertNil(try ledger.earliestFile(withContent: Self.sha(40), db))
            XCTAssertNil(try ledger.earliestFile(withContent: Self.sha(41), db))
        }
    }
    /// A files row as `Ledger.insert` writes it (the processor's way).
    static func record(sha: String, name: String) -> FileRecord {
        FileRecord(id: nil, channel: .orders, name: name, workName: name, sourcePath: nil, size: 1, sha256: sha,
                   format: nil, encoding: nil, state: .accepted, destDir: "archive/2026-12-07", storedName: name,
                   duplicateOf: nil, documents: 0, errorCount: 0, receivedAt: "x", processedAt: "x", archivedAt: nil,
                   superseded: false)
    }

    /// Files the ledger inserts are taken note of, not read back: each is found by the
    /// next lookups of the same transaction, as a copy within one batch must be.
    func testFilesInsertedThroughTheLedgerAreFoundLaterInTheirTransaction() throws {
        let dir = FixtureFolder("edidrop-content")
        let ledger = try Self.ledger(in: dir, merged: Self.sha(50), named: "merged.csv", thenRecent: Self.sha(51))
        try ledger.write { db in
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(51), db)?.name, "recent.csv")
            for i in 0..<3 {
                var r = Self.record(sha: Self.sha(60 + i), name: "batch-\(i).csv")
                XCTAssertNil(try ledger.earliestFile(withContent: Self.sha(60 + i), db))
                try ledger.insert(&r, db)
                XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(60 + i), db)?.name, "batch-\(i).csv")
            }
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(60), db)?.id, 3)
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(50), db)?.name, "merged.csv")
        }
        try ledger.write { db in XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(62), db)?.id, 5) }
    }

    /// A row written some other way in between (here raw SQL) leaves a gap before the next
    /// noted one: the lookup after it reads, and finds both.
    func testARowWrittenPastTheLedgerIsReadByTheNextLookup() throws {
        let dir = FixtureFolder("edidrop-content")
        let ledger = try Self.ledger(in: dir, merged: Self.sha(70), named: "merged.csv", thenRecent: Self.sha(71))
        try ledger.write { db in
            XCTAssertNil(try ledger.earliestFile(withContent: Self.sha(72), db))
            XCTAssertEqual(try Self.insertFile(db, sha: Self.sha(72), name: "raw.csv"), 3)
            var r = Self.record(sha: Self.sha(73), name: "noted.csv")
            try ledger.insert(&r, db)
            XCTAssertEqual(r.id, 4)
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(72), db)?.name, "raw.csv")
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(73), db)?.name, "noted.csv")
        }
    }
    /// A merge rewrites most of the on-disk index whatever it brings, so the threshold
    /// grows with that index (one file in 32 of those merged), from the configured floor
    /// up to a cap, and a ledger goes by it.
    func testTheMergeThresholdGrowsWithTheIndex() throws {
        let index = ContentIndex(mergeThreshold: 32_768)
        XCTAssertEqual(index.threshold(atMark: 0), 32_768)
        XCTAssertEqual(index.threshold(atMark: 1_000_000), 32_768)
        XCTAssertEqual(index.threshold(atMark: 2_000_000), 62_500)
        XCTAssertEqual(index.threshold(atMark: 100_000_000), ContentIndex.largestThreshold)

        let dir = FixtureFolder("edidrop-content")
        let ledger = try Ledger(path: dir.join("ledger.sqlite"))
        ledger.contentIndex.mergeThreshold = 3
        try ledger.write { db in for i in 0..<320 { try Self.insertFile(db, sha: Self.sha(1_000 + i), name: "old-\(i).csv") } }
        try ledger.write { db in try ledger.contentIndex.merge(db) }
        // 320 files merged: the threshold is 10, not 3.
        for i in 0..<9 {
            try ledger.write { db in
                XCTAssertNil(try ledger.earliestFile(withContent: Self.sha(2_000 + i), db))
                var r = Self.record(sha: Self.sha(2_000 + i), name: "new-\(i).csv")
                try ledger.insert(&r, db)
            }
        }
        XCTAssertFalse(ledger.contentIndex.isMergeDue, "9 files waiting")
        try ledger.write { db in
            var r = Self.record(sha: Self.sha(3_000), name: "tenth.csv")
            try ledger.insert(&r, db)
            XCTAssertEqual(try ledger.earliestFile(withContent: Self.sha(3_000), db)?.name, "tenth.csv")
        }
        XCTAssertTrue(ledger.contentIndex.isMergeDue, "10 files waiting")
    }
}
