import Foundation
import GRDB

/// Finds the files already received with a given content (SHA-256), for the duplicate
/// check, without one random index page written per file.
///
/// A B-tree index on content hashes puts every new file on a random page: at a million
/// files that page is rewritten in the WAL and again at the checkpoint for each file, and
/// it was most of what a large ledger cost per file (issue 8). So the hashes live in two
/// tiers. Files up to `content_index_state.merged_through` are in `content_index`, an
/// on-disk index written only in bulk; the files after it are kept here, in memory, read
/// from `files` itself (which grows at its end) when first needed and as new rows appear.
/// Once enough files wait here (`threshold(atMark:)`, which grows with the index), a merge
/// moves them into `content_index` in one transaction, which touches each index page about
/// once for many files.
///
/// What is in memory is only ever a hint: every candidate is read back and its full hash
/// compared, so a stale entry costs a read and nothing more. What must never happen is a
/// row missing from it, and that is why rows are read by id order from the last id seen,
/// and why a rolled-back transaction (whose ids SQLite hands out again) puts the mark back
/// to where the transaction found it. A file's row is never rolled back on its own (the
/// per-file savepoints come after it), and rows are never deleted.
final class ContentIndex: @unchecked Sendable {
    /// The in-memory tier's size that triggers a merge, at least. Larger: fewer, bigger
    /// merges (each rewrites most pages of `content_index` once), and more rows read at a
    /// process's start (on average half of this).
    var mergeThreshold: Int

    /// A merge rewrites most of `content_index`'s pages whatever it brings (0.16 s for
    /// 32 768 files and 0.19–0.23 s for 65 536 into the index of 1.1 million, both about
    /// 5 800 pages), so with a fixed threshold its cost per file grew with the ledger:
    /// 35 µs a file at two million files, a fifth of what a small file costs in all. The
    /// threshold grows with the index instead, one file in `markShare` of those merged,
    /// which keeps that cost per file flat, up to `largestThreshold` (memory: about 8 MiB;
    /// a process's first lookup reads on average half of it, on a thread of its own).
    static let markShare: Int64 = 32
    static let largestThreshold = 131_072

    /// The threshold for an index holding the files up to `mark`.
    func threshold(atMark mark: Int64) -> Int {
        max(mergeThreshold, min(Self.largestThreshold, Int(mark / Self.markShare)))
    }

    private let lock = NSLock()
    /// Hash prefix (12 hex digits, a string Swift keeps inline) -> file ids, for files after
    /// the merge mark, in id order. One id per prefix but for collisions of 48 bits, so
    /// the first id is held apart from the rest.
    private var first: [String: Int64] = [:]
    private var more: [String: [Int64]] = [:]
    private var count = 0
    /// Whether the files after `content_index_state.merged_through` have been read once.
    private var loaded = false
    /// Every row up to this id that any committed transaction wrote has been read.
    private var committedThrough: Int64 = 0
    /// The last id read, rows of the open transaction included.
    private var seenThrough: Int64 = 0
    private var trackingTransaction = false
    /// `content_index_state.merged_through` as the tracked transaction sees it, once read:
    /// within one writing transaction only its own merge can move it (`merge` sets it), so
    /// a batch reads it once instead of once per file.
    private var transactionMark: Int64?
    /// Whether every row of `files` the tracked transaction can see has been read: set by a
    /// catch-up's read, kept by `noteInserted` for a row the processor added right after
    /// the last one read, and dropped by anything else. While it holds, a lookup skips the
    /// catch-up's read (a statement per file on the thread that commits).
    private var readToTheEnd = false
    /// The merge mark as last read or moved, for the threshold.
    private var knownMark: Int64 = 0

    init(mergeThreshold: Int = 32_768) {
        self.mergeThreshold = mergeThreshold
    }

    static let prefixLength = 12

    /// The first file still counted (not superseded) whose content has this SHA-256, as
    /// (id, name). Only inside the ledger's writing transaction: no other writer can add
    /// rows while the files after the last one read are caught up with, and what the
    /// transaction adds is followed to its commit or rollback.
    ///
    /// `onDisk`, when given, is what `content_index` held for this hash in a read snapshot
    /// taken ahead of the commit (`lookUpOnDisk`). It stands for the lookup when the merge
    /// mark is still the one the snapshot had: `content_index` only changes by merges, and
    /// every merge moves the mark forward (rows are only added, never removed, and a merge
    /// that rolls back takes its mark with it), so the same mark means the same index.
    /// Otherwise the lookup is made here, as without it.
    func earliestFile(withContent sha256: String, onDisk: OnDisk? = nil, _ db: Database) throws -> (id: Int64, name: String)? {
        precondition(db.isInsideTransaction, "the content lookup runs inside the writing transaction")
        let prefix = String(sha256.prefix(Self.prefixLength))
        lock.lock()
        defer { lock.unlock() }
        try catchUp(db)
        var candidates: [Int64]
        if let onDisk, onDisk.prefix == prefix, try markInTransaction(db) == onDisk.mergedThrough {
            candidates = onDisk.fileIds
        } else {
            candidates = try Self.fileIdsOnDisk(prefix: prefix, db)
        }
        if let id = first[prefix] {
            candidates.append(id)
            candidates += more[prefix] ?? []
        }
        guard !candidates.isEmpty else { return nil }
        let statement = try db.cachedStatement(sql: "SELECT name, sha256 FROM files WHERE id = ? AND superseded = 0")
        for id in Set(candidates).sorted() {
            if let row = try Row.fetchOne(statement, arguments: [id]), (row["sha256"] as String?) == sha256 {
                return (id, row["name"])
            }
        }
        return nil
    }

    /// What `content_index` lists for a hash prefix in one snapshot, with that snapshot's
    /// merge mark: read ahead of a commit, off the committing thread.
    struct OnDisk: Sendable {
        var prefix: String
        var mergedThrough: Int64
        var fileIds: [Int64]
    }

    /// The on-disk tier's part of a lookup, from a read transaction (any snapshot): at a
    /// million files this is a random page of `content_index` per file, which the thread
    /// that commits need not wait for (issue 8: it was most of what a large ledger cost).
    static func lookUpOnDisk(content sha256: String, _ db: Database) throws -> OnDisk {
        let prefix = String(sha256.prefix(prefixLength))
        return OnDisk(prefix: prefix, mergedThrough: try mergedThrough(db), fileIds: try fileIdsOnDisk(prefix: prefix, db))
    }

    private static func fileIdsOnDisk(prefix: String, _ db: Database) throws -> [Int64] {
        try Int64.fetchAll(db.cachedStatement(sql: "SELECT file_id FROM content_index WHERE prefix = ?"), arguments: [prefix])
    }

    /// Reads the hashes waiting in memory (the files after the merge mark) ahead of the
    /// first lookup, from a read transaction's snapshot: what a process's first lookup
    /// would otherwise read inside the writing transaction (up to `mergeThreshold` rows, 10–
    /// 20 ms at 20 000), on the thread that sets the pace. Only committed rows are in a
    /// snapshot, and every row committed after it has a higher id than any in it, so the
    /// first lookup goes on from the last id read here. Nothing changes unless the whole
    /// read succeeds, and nothing at all once a lookup has loaded the tier itself.
    func preload(_ db: Database) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !loaded else { return }
        let merged = try readMark(db)
        var rows: [(prefix: String?, id: Int64)] = []
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: Self.catchUpSQL), arguments: [merged])
        while let row = try cursor.next() { rows.append((row[1], row[0])) }
        for (prefix, id) in rows { if let prefix { add(prefix, id) } }
        let last = rows.last?.id ?? merged
        loaded = true
        committedThrough = last
        seenThrough = last
    }

    /// Reads the rows added since the last one read. The first time in a transaction, it
    /// also arranges for a rollback to forget what that transaction added.
    private func catchUp(_ db: Database) throws {
        if !loaded {
            let merged = try readMark(db)
            loaded = true
            committedThrough = merged
            seenThrough = merged
        }
        if !trackingTransaction {
            trackingTransaction = true
            transactionMark = nil
            readToTheEnd = false
            let before = committedThrough
            db.afterNextTransaction(onCommit: { [self] _ in
                lock.lock()
                committedThrough = seenThrough
                endTracking()
                lock.unlock()
            }, onRollback: { [self] _ in
                lock.lock()
                keep { $0 <= before }
                seenThrough = before
                endTracking()
                lock.unlock()
            })
        }
        if readToTheEnd {
            // What `Ledger.insert` promises, checked in debug builds (the tests).
            assert(((try? Int64.fetchOne(db, sql: "SELECT MAX(id) FROM files")) ?? nil ?? 0) <= seenThrough,
                   "a files row was written past the duplicate check (not through Ledger.insert)")
            return
        }
        let rows = try Row.fetchCursor(db.cachedStatement(sql: Self.catchUpSQL), arguments: [seenThrough])
        while let row = try rows.next() {
            let id: Int64 = row[0]
            if let prefix: String = row[1] { add(prefix, id) }
            seenThrough = id
        }
        readToTheEnd = true
    }

    private func endTracking() {
        trackingTransaction = false
        transactionMark = nil
        readToTheEnd = false
    }

    /// Takes note of a files row just inserted in the writing transaction (`Ledger.insert`),
    /// so that the next lookup need not read it back. Only a row that directly follows the
    /// last one read, in a transaction already read to its end, is taken: anything else
    /// leaves the next lookup to read what it has not seen.
    func noteInserted(id: Int64, sha256: String?) {
        lock.lock()
        defer { lock.unlock() }
        guard trackingTransaction, readToTheEnd, id == seenThrough + 1 else {
            readToTheEnd = false
            return
        }
        if let sha256 { add(String(sha256.prefix(Self.prefixLength)), id) }
        seenThrough = id
    }

    private func markInTransaction(_ db: Database) throws -> Int64 {
        if let transactionMark { return transactionMark }
        let mark = try readMark(db)
        transactionMark = mark
        return mark
    }

    /// The last file whose hash is in `content_index` (as this transaction sees it).
    private static func mergedThrough(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT merged_through FROM content_index_state")) ?? 0
    }

    /// The same, kept for the merge threshold; under the lock.
    private func readMark(_ db: Database) throws -> Int64 {
        let mark = try Self.mergedThrough(db)
        knownMark = mark
        return mark
    }

    static let catchUpSQL = "SELECT id, substr(sha256, 1, \(prefixLength)) FROM files WHERE id > ? ORDER BY id"

    private func add(_ prefix: String, _ id: Int64) {
        count += 1
        if first[prefix] == nil { first[prefix] = id } else { more[prefix, default: []].append(id) }
    }

    /// Keeps only the entries of the files `isKept` names (after a rollback or a merge),
    /// added again in id order so that `first` stays the lowest id of its prefix.
    private func keep(where isKept: (Int64) -> Bool) {
        let (oldFirst, oldMore) = (first, more)
        first = [:]
        more = [:]
        count = 0
        for (prefix, id) in oldFirst {
            if isKept(id) { add(prefix, id) }
            for later in oldMore[prefix] ?? [] where isKept(later) { add(prefix, later) }
        }
    }

    var isMergeDue: Bool {
        lock.lock()
        defer { lock.unlock() }
        return count >= threshold(atMark: knownMark)
    }

    /// Moves the committed files' hashes from memory into `content_index`, in the caller's
    /// transaction (one of its own: all of it or nothing, whatever cuts it). Another
    /// process may have merged some of them already; those are skipped.
    func merge(_ db: Database) throws {
        precondition(db.isInsideTransaction, "a merge is one transaction")
        lock.lock()
        defer { lock.unlock() }
        try catchUp(db)
        let through = seenThrough
        let from = try readMark(db)
        guard through > from else { return }
        try db.execute(sql: """
            INSERT OR IGNORE INTO content_index (prefix, file_id)
            SELECT substr(sha256, 1, \(Self.prefixLength)), id FROM files
            WHERE id > ? AND id <= ? AND sha256 IS NOT NULL ORDER BY 1, 2
            """, arguments: [from, through])
        try db.execute(sql: "UPDATE content_index_state SET merged_through = ?", arguments: [through])
        transactionMark = through
        db.afterNextTransaction(onCommit: { [self] _ in
            lock.lock()
            keep { $0 > through }
            knownMark = through
            lock.unlock()
        })
    }
}
