import Foundation
import GRDB

/// The transaction ledger: one SQLite file in WAL mode with durable commits, the single
/// source of truth for what happened to every file, order and outgoing message.
///
/// GRDB rather than the raw C API: it gives migrations, typed records, prepared statement
/// caching and the online backup API, and keeps SQLite's C types out of the core.
public final class Ledger: @unchecked Sendable {
    let writer: any DatabaseWriter
    public let path: String?
    /// The duplicate check's index of content hashes (see `ContentIndex`).
    let contentIndex = ContentIndex()

    /// Opens (creating and migrating when needed) the ledger at `path`.
    public init(path: String, readOnly: Bool = false) throws {
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // FULL: a commit survives power loss, which the exactly-once promise needs.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // The writer keeps statement journals in memory. A statement that changes many
            // rows in a transaction (the batch's "delivering"/"delivered" marks) journals
            // every page it touches; past 64 KiB SQLite spilled that journal to a file in
            // /var/tmp: 19-26 KB and a dozen writes per file processed, thrown away at the
            // statement's end (measured with strace, issue 8). Every such statement is
            // bounded (a delivery batch, `Processor.adoptionChunk`), so the journal is too.
            // Readers keep temporary files: their sorts can be as big as the ledger.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA temp_store = MEMORY") }
        }
        if readOnly {
            writer = try DatabaseQueue(path: path, configuration: config)
        } else {
            let pool = try DatabasePool(path: path, configuration: config)
            // GRDB turns WAL on after `prepareDatabase` has run, and sets synchronous = NORMAL
            // with it: a commit would then reach the disk only at the next checkpoint, and a
            // power loss could take back commits whose effects (renames into the outbox,
            // archive moves) had already happened. Only the writer's connection commits, and
            // it keeps this setting for its life.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            writer = pool
            try Ledger.migrator.migrate(writer)
        }
        self.path = path
    }

    /// A throwaway ledger with the same schema, for `validate`, which must not read or
    /// touch the real one but checks the same rules. SQLite's private temporary database
    /// (an empty file name): pages beyond its cache spill to an unnamed file that SQLite
    /// deletes, so checking a gigabyte file does not hold every order in memory, as a
    /// `:memory:` database would.
    public init(scratch: ()) throws {
        writer = try DatabaseQueue(path: "")
        try Ledger.migrator.migrate(writer)
        path = nil
    }

    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.write(body)
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// A consistent online copy (SQLite's backup API), safe while `run` is writing.
    public func backup(to destination: String) throws {
        let target = try DatabaseQueue(path: destination)
        try writer.backup(to: target)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE files (
                    id INTEGER PRIMARY KEY,
                    channel TEXT NOT NULL,
                    name TEXT NOT NULL,
                    work_name TEXT NOT NULL,
                    source_path TEXT,
                    size INTEGER NOT NULL,
                    sha256 TEXT,
                    format TEXT,
                    encoding TEXT,
                    state TEXT NOT NULL,
                    dest_dir TEXT NOT NULL,
                    stored_name TEXT NOT NULL,
                    duplicate_of INTEGER REFERENCES files(id),
                    documents INTEGER NOT NULL DEFAULT 0,
                    error_count INTEGER NOT NULL DEFAULT 0,
                    received_at TEXT NOT NULL,
                    processed_at TEXT NOT NULL,
                    archived_at TEXT,
                    superseded INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX files_sha256 ON files(sha256);
                CREATE UNIQUE INDEX files_destination ON files(dest_dir, stored_name);
                CREATE INDEX files_unarchived ON files(archived_at) WHERE archived_at IS NULL;

                CREATE TABLE file_events (
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    at TEXT NOT NULL,
                    event TEXT NOT NULL,
                    detail TEXT
                );
                CREATE INDEX file_events_file ON file_events(file_id);

                CREATE TABLE diagnostics (
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    seq INTEGER NOT NULL,
                    code TEXT NOT NULL,
                    line INTEGER,
                    col INTEGER,
                    field TEXT,
                    value TEXT,
                    message TEXT NOT NULL,
                    order_id TEXT,
                    hint TEXT,
                    PRIMARY KEY (file_id, seq)
                ) WITHOUT ROWID;

                CREATE TABLE orders (
                    id INTEGER PRIMARY KEY,
                    order_id TEXT NOT NULL UNIQUE,
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    line INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    data TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    sent_at TEXT,
                    shipped_at TEXT
                );
                CREATE INDEX orders_file ON orders(file_id);

                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    order_ref INTEGER REFERENCES orders(id),
                    target TEXT NOT NULL,
                    name TEXT NOT NULL,
                    content BLOB NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    next_attempt_at TEXT,
                    created_at TEXT NOT NULL,
                    delivered_at TEXT,
                    UNIQUE (target, name)
                );
                CREATE INDEX outbox_undelivered ON outbox(state) WHERE state != 'delivered';
                CREATE INDEX outbox_file ON outbox(file_id);
                """)
        }
        migrator.registerMigration("v2-warehouse") { db in
            try db.execute(sql: """
                CREATE TABLE stock (
                    sku TEXT PRIMARY KEY,
                    ean TEXT,
                    available INTEGER NOT NULL,
                    reserved INTEGER,
                    as_of TEXT NOT NULL,
                    as_of_epoch INTEGER NOT NULL,
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    updated_at TEXT NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE stale_stock_lines (
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    line INTEGER NOT NULL,
                    sku TEXT NOT NULL,
                    as_of TEXT NOT NULL,
                    recorded_as_of TEXT NOT NULL
                );
                CREATE INDEX stale_stock_lines_file ON stale_stock_lines(file_id);

                CREATE TABLE shipments (
                    id INTEGER PRIMARY KEY,
                    order_ref INTEGER NOT NULL REFERENCES orders(id),
                    tracking TEXT NOT NULL,
                    carrier TEXT,
                    shipped_at TEXT,
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    recorded_at TEXT NOT NULL,
                    UNIQUE (order_ref, tracking)
                );
                CREATE INDEX shipments_file ON shipments(file_id);
                CREATE INDEX orders_status_sent ON orders(status, sent_at);
                """)
        }
        migrator.registerMigration("v3-record-policy") { db in
            // The rows of each order a `record`-policy file could not send: from the line
            // where the order starts to the line where its last row starts.
            try db.execute(sql: """
                CREATE TABLE rejected_records (
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    first_line INTEGER NOT NULL,
                    last_row_line INTEGER NOT NULL
                );
                CREATE INDEX rejected_records_file ON rejected_records(file_id);
                """)
        }
        migrator.registerMigration("v4-content-hash-prefix") { db in
            // Duplicate content is found through the first 12 hex digits (48 bits) of the
            // SHA-256: an index entry of about 20 bytes instead of 70. A hash lands on a
            // random index page whatever its length, so every new file dirties one page
            // of this index; a third of the pages makes a large ledger's index mostly fit
            // the caches and splits rarer (issue 8: a ledger of a million files). The
            // full hash is compared on the rows found (`Ledger.earliestFile(withContent:)`).
            try db.execute(sql: """
                DROP INDEX files_sha256;
                CREATE INDEX files_sha256_prefix ON files(substr(sha256, 1, 12));
                """)
        }
        migrator.registerMigration("v5-files-by-state") { db in
            // `status` and the web console count files by state; without this index that
            // read every row of `files` (0.65 s on a ledger of a million files, at every
            // refresh of the console), with it a scan of the small index (0.1 s). Entries
            // are added in id order within a state, so keeping it costs little per file.
            try db.execute(sql: "CREATE INDEX files_state ON files(state)")
        }
        migrator.registerMigration("v6-stock-reports") { db in
            // The last stock report (dashboard, overdue check) was found by reading files
            // back from the newest until one turned up: every row of a ledger that has
            // none (1.2 s per dashboard on a million files). Only stock reports are in
            // this index.
            try db.execute(sql: "CREATE INDEX files_stock_reports ON files(id) WHERE \(Ledger.isStockReportSQL)")
        }
        migrator.registerMigration("v7-content-index") { db in
            // Content hashes leave the files table's B-tree, where every new file wrote a
            // random page (see `ContentIndex`): `content_index` holds the files up to
            // `merged_through`, written in bulk; the rest are looked up in memory.
            try db.execute(sql: """
                CREATE TABLE content_index (
                    prefix TEXT NOT NULL,
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    PRIMARY KEY (prefix, file_id)
                ) WITHOUT ROWID;
                CREATE TABLE content_index_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    merged_through INTEGER NOT NULL
                );
                INSERT INTO content_index (prefix, file_id)
                    SELECT substr(sha256, 1, \(ContentIndex.prefixLength)), id FROM files WHERE sha256 IS NOT NULL ORDER BY 1, 2;
                INSERT INTO content_index_state (id, merged_through) VALUES (1, (SELECT IFNULL(MAX(id), 0) FROM files));
                DROP INDEX files_sha256_prefix;
                """)
        }
        return migrator
    }
}

extension Database {
    /// What GRDB's `inSavepoint` does inside a transaction, with its statements prepared
    /// once: GRDB's parses `SAVEPOINT` and `RELEASE` afresh on every call, which cost 44 000
    /// instructions per file (callgrind, issue 8) on the thread that commits files, where
    /// every file has a savepoint of its own. GRDB still sees the statements and keeps its
    /// savepoint bookkeeping. Only inside a transaction: outside one, a savepoint would
    /// open a deferred transaction, which the ledger never wants.
    func inStatementCachedSavepoint(_ operations: () throws -> TransactionCompletion) throws {
        precondition(isInsideTransaction, "a savepoint outside a transaction")
        try cachedStatement(sql: "SAVEPOINT file").execute()
        var firstError: Error?
        var rollback = false
        do {
            switch try operations() {
            case .commit: try cachedStatement(sql: "RELEASE SAVEPOINT file").execute()
            case .rollback: rollback = true
            }
        } catch {
            firstError = error
            rollback = true
        }
        if rollback {
            do {
                // ROLLBACK TO keeps the savepoint open; RELEASE closes it.
                try cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT file").execute()
                try cachedStatement(sql: "RELEASE SAVEPOINT file").execute()
            } catch {
                // The first error says what went wrong (an error that ended the whole
                // transaction takes the savepoint with it).
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }
}
