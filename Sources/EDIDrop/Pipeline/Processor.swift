import Foundation
import GRDB
import HandOff
import Logging
import XMLSupport

/// Steps 2 and 3 of the protocol for one claimed file: identify it (SHA-256), read and
/// check it, and record everything it causes in one ledger transaction.
public struct Processor {
    let spool: Spool
    let ledger: Ledger
    let schemas: CompiledSchemas
    let clock: any Clock
    let crash: CrashSwitch
    let logger: Logger
    /// Set by `doctor --repair` to record a file that is already in archive/ or rejected/
    /// but unknown to the ledger (after restoring an older ledger): everything it caused
    /// is recorded as already delivered, so nothing is sent again.
    var adoption: Adoption? = nil
    /// Progress of the file in hand, for `run --once` on a terminal.
    var progress: ProgressSink? = nil
    /// From this size on, an orders file is read on a second thread (`ReadAhead`); the
    /// tests set it to 0 or to the maximum to compare both ways.
    var readAheadBytes: Int64 = 1 << 20

    public struct Adoption: Sendable {
        public var destDir: String
        public var storedName: String
    }

    /// An adopted file's messages and orders are marked in statements of at most this many rows.
    static let adoptionChunk = 1000

    /// At most this many findings are stored per file; the count covers them all.
    static let maxStoredFindings = 1000

    /// Reads and commits a claimed file in a transaction of its own; returns its ledger record.
    public func process(_ claimed: ClaimedFile, receivedAt: Date) throws -> FileRecord {
        let record = try ledger.write { db in try process(claimed, receivedAt: receivedAt, in: db) }
        mergeContentIndex()
        return record
    }

    /// After a commit, once enough files wait for it (`ContentIndex`). The files are
    /// committed whatever happens here: a merge that fails (a full disk) is tried again
    /// after the next commit, and until then the hashes are found in memory.
    private func mergeContentIndex() {
        do {
            try ledger.mergeContentIndexIfDue()
        } catch {
            logger.warning("the content index could not be merged; it will be tried again", metadata: ["error": "\(error)"])
        }
    }

    /// Reads and commits a batch of claimed files in one transaction (group commit): one
    /// durable commit for all of them. Each file's effects still stand or fall alone (a
    /// savepoint per file), so the outcome is the same as committing them one by one.
    public func process(batch: [ClaimedFile], receivedAt: Date) throws -> [FileRecord] {
        let reading = startReading(batch)
        defer { reading.close() }
        return try process(reading, receivedAt: receivedAt)
    }

    /// Starts reading a batch ahead of its commit, on a second thread: it hashes each file,
    /// looks the hash up in the duplicate check's on-disk index (from a read snapshot, a
    /// hint the commit checks) and reads and checks a small orders file's orders, so that
    /// the committing thread mostly writes. The engine starts it before it
    /// delivers and archives the batch before, which the reading then overlaps. Not with a
    /// progress display, which follows the file in hand.
    func startReading(_ batch: [ClaimedFile]) -> BatchReading {
        guard batch.count > 1 && progress == nil else { return BatchReading(batch: batch, ahead: nil) }
        let configuration = spool.configuration
        let schemas = self.schemas
        let limit = readAheadBytes
        let render = (format: configuration.outbox.format, day: Timestamp.localDay(clock.now()))
        let archiveDay = spool.archiveFolder(day: render.day)
        let ledger = self.ledger
        // A batch of small files is read whole before its commit starts; otherwise at most
        // 32 files wait, read, so that memory stays bounded whatever the files hold.
        let bytes = batch.reduce(Int64(0)) { $0 + max(0, $1.status.size) }
        let capacity = bytes <= Self.wholeBatchReadBytes ? batch.count : 32
        let wholeBatch = capacity == batch.count
        let ahead = ReadAhead<PreparedFile>(capacity: capacity) { ahead in
            /// `snapshot`: where the duplicate check's on-disk lookups are made ahead.
            func prepare(_ snapshot: Database?) {
                for claimed in batch {
                    var prepared = Self.prepareFile(claimed, configuration: configuration, schemas: schemas, limit: limit, render: render)
                    if let snapshot, case .success(let identity)? = prepared.identity, identity.size > 0 {
                        prepared.contentOnDisk = try? ContentIndex.lookUpOnDisk(content: identity.sha256, snapshot)
                    }
                    if case .orders? = prepared.content {
                        prepared.archiveName = NameCheck(destDir: archiveDay.relative, name: claimed.name,
                                                         absent: !FileSystem.exists(FileSystem.join(archiveDay.path, claimed.name)))
                    }
                    if !ahead.put(prepared) { return }
                }
            }
            // A batch read whole is looked up in one read snapshot. Not a batch read 32
            // files at a time: a snapshot held open while a put waits keeps the WAL from
            // starting over, and a read transaction per file cost more than the lookup it
            // moved (its first pages are read again after every commit); the commit looks
            // those files up itself.
            if wholeBatch && ledger.withReadSnapshot(prepare) { return }
            prepare(nil)
        }
        return BatchReading(batch: batch, ahead: ahead)
    }

    /// Up to this many bytes of input, a batch is read ahead whole (see `startReading`).
    static let wholeBatchReadBytes: Int64 = 4 << 20

    /// Commits a batch whose reading was started by `startReading`.
    func process(_ reading: BatchReading, receivedAt: Date) throws -> [FileRecord] {
        defer { mergeContentIndex() }
        guard let ahead = reading.ahead else {
            return try ledger.write { db in try reading.batch.map { try process($0, receivedAt: receivedAt, in: db) } }
        }
        return try ledger.write { db in
            try reading.batch.map { try process($0, receivedAt: receivedAt, in: db, prepared: ahead.take()) }
        }
    }

    /// A batch of claimed files and the thread reading them ahead of their commit. Closed
    /// once, by whoever holds it, on every way out. Started on the engine's claiming thread
    /// and handed over with the batch; from then on only the engine's thread uses it.
    final class BatchReading: @unchecked Sendable {
        let batch: [ClaimedFile]
        fileprivate let ahead: ReadAhead<PreparedFile>?
        private var closed = false

        fileprivate init(batch: [ClaimedFile], ahead: ReadAhead<PreparedFile>?) {
            self.batch = batch
            self.ahead = ahead
        }

        /// Stops the reading thread if it still runs, and waits for it.
        func close() {
            guard !closed else { return }
            closed = true
            ahead?.close()
        }

        deinit { close() }
    }

    /// What a file's processing can learn without the ledger, learnt ahead of time.
    struct PreparedFile {
        /// Nil: not read (not a regular file, or over the size limit).
        var identity: Result<FileIdentity, Error>?
        /// Nil: to be opened when committed (not an orders file, or a big one).
        var content: PreparedContent?
        /// Whether the file's name was free in the day's archive folder: looked up here, so
        /// that the committing thread need not (the kernel's lookup in a folder of
        /// thousands of names was 5% of a small-file run, all on that thread).
        var archiveName: NameCheck?
        /// The duplicate check's lookup in the ledger's on-disk index, from a read snapshot
        /// (`ContentIndex.earliestFile` tells when the commit can use it).
        var contentOnDisk: ContentIndex.OnDisk?
    }

    /// A name looked up on disk ahead of the commit. Only a hint, as the lookup at the
    /// commit would be: a name taken later is numbered when archived (`Archiver`).
    struct NameCheck {
        var destDir: String
        var name: String
        var absent: Bool
    }

    enum PreparedContent {
        case orders(format: DocumentFormat, encoding: String?, orders: [PreparedOrder], findings: [Diagnostic], skipped: [SkippedOrder])
        case failure(Diagnostic)
    }

    static func prepareFile(_ claimed: ClaimedFile, configuration: SpoolConfiguration, schemas: CompiledSchemas, limit: Int64,
                            render: (format: SpoolConfiguration.OutboxFormat, day: String)) -> PreparedFile {
        guard claimed.status.kind == .regular, claimed.status.size <= configuration.intake.maxFileSize else { return PreparedFile() }
        let identity: FileIdentity
        do {
            identity = try FileIdentity.read(path: claimed.workPath, fallbackEncoding: configuration.intake.fallbackEncoding)
        } catch {
            return PreparedFile(identity: .failure(error))
        }
        guard claimed.channel == .orders, identity.size > 0, identity.size < limit else { return PreparedFile(identity: .success(identity)) }
        switch DocumentOpener.open(path: claimed.workPath, identity: identity, channel: claimed.channel,
                                   schemas: schemas, configuration: configuration) {
        case .failure(let finding):
            return PreparedFile(identity: .success(identity), content: .failure(finding))
        case .success(let document):
            guard case .orders(var reader) = document.content else { return PreparedFile(identity: .success(identity)) }
            let validator = validator(for: document.format, configuration: configuration)
            var seen = 0
            var orders: [PreparedOrder] = []
            while let draft = reader.next() {
                orders.append(prepare(draft, reader: reader, seen: &seen, validator: validator, render: render))
            }
            return PreparedFile(identity: .success(identity),
                                content: .orders(format: document.format, encoding: document.encoding, orders: orders,
                                                 findings: reader.findings, skipped: reader.skipped))
        }
    }

    /// Reads a claimed file and records it within the caller's transaction.
    func process(_ claimed: ClaimedFile, receivedAt: Date, in db: Database, prepared: PreparedFile? = nil) throws -> FileRecord {
        let received = Timestamp.iso(receivedAt)
        var record = FileRecord(
            id: nil, channel: claimed.channel, name: claimed.name, workName: claimed.workName,
            sourcePath: claimed.sourcePath, size: claimed.status.size, sha256: nil, format: nil, encoding: nil,
            state: .rejected, destDir: spool.relative(spool.rejected), storedName: claimed.name,
            duplicateOf: nil, documents: 0, errorCount: 0, receivedAt: received,
            processedAt: received, archivedAt: nil, superseded: false)

        guard claimed.status.kind == .regular else {
            let what = claimed.status.kind == .symlink ? "a symbolic link" : "not a regular file (a FIFO, socket or device)"
            return try commitRejected(&record, db: db, [Diagnostic(.unreadable, message: "\(claimed.name) is \(what); edidrop never follows or opens such entries: drop the file itself")])
        }
        // Checked on the size the file system reports, before a single byte is read.
        if claimed.status.size > spool.configuration.intake.maxFileSize {
            return try commitRejected(&record, db: db, [Diagnostic(.tooLarge, message: "the file has \(claimed.status.size) bytes; the limit (max_file_size) is \(spool.configuration.intake.maxFileSize)")])
        }
        let identity: FileIdentity
        do {
            identity = try prepared?.identity?.get()
                ?? FileIdentity.read(path: claimed.workPath, fallbackEncoding: spool.configuration.intake.fallbackEncoding)
        } catch {
            return try commitRejected(&record, db: db, [Diagnostic(.unreadable, message: "the file could not be read: \(error)")])
        }
        crash.reached(.afterHash)
        record.sha256 = identity.sha256
        record.size = identity.size

        if identity.size == 0 {
            return try commitRejected(&record, db: db, [Diagnostic(.emptyFile, message: "the file is empty")])
        }
        if let (id, name) = try ledger.earliestFile(withContent: identity.sha256, onDisk: prepared?.contentOnDisk, db) {
            record.duplicateOf = id
            return try commitRejected(&record, db: db, [Diagnostic(.duplicateFile, message: "the same content was already received as file \(id) (\(name)); it is not processed again")])
        }
        record.encoding = identity.encoding.encoding.rawValue

        switch prepared?.content {
        case .failure(let finding):
            return try commitRejected(&record, db: db, Self.locatingDoctype([finding], head: identity.head))
        case .orders(let format, let encoding, let orders, let findings, let skipped):
            record.format = format.rawValue
            if let encoding { record.encoding = encoding }
            return try commitOrders(&record, format: format, head: identity.head, size: identity.size, db: db,
                                    source: .prepared(orders, findings: findings, skipped: skipped), nameCheck: prepared?.archiveName)
        case nil:
            break
        }
        let meter = progress?.begin(fileName: claimed.name, totalBytes: identity.size)
        let opened = DocumentOpener.open(path: claimed.workPath, identity: identity, channel: claimed.channel,
                                         schemas: schemas, configuration: spool.configuration, meter: meter)
        switch opened {
        case .failure(let finding):
            return try commitRejected(&record, db: db, Self.locatingDoctype([finding], head: identity.head))
        case .success(let document):
            record.format = document.format.rawValue
            // An XML document is decoded by its own declaration, not by the sniffer's guess.
            if let encoding = document.encoding { record.encoding = encoding }
            switch document.content {
            case .orders(let reader):
                return try commitOrders(&record, format: document.format, head: identity.head, size: identity.size, db: db,
                                        source: .reader(reader))
            case .stock(var reader):
                let validator = warehouseValidator(claimed)
                var feed = StockFeed()
                return try commitDocument(&record, noun: ("stock line", "stock lines"), head: identity.head, db: db) { db, fileID, now, tally in
                    while let draft = reader.next() {
                        progress?.tick(records: tally.documents + tally.skipped + tally.rejectedRecords, errors: tally.count)
                        let (line, problems) = validator.validate(draft)
                        tally.note(problems)
                        guard let line else { continue }
                        switch try StockLedger.apply(line, sourceLine: draft.line, fileID: fileID, db: db, now: now) {
                        case .applied(let changed):
                            tally.documents += 1
                            if changed { feed.add(line) }
                        case .stale:
                            tally.skipped += 1
                        }
                    }
                    if reader.findings.isEmpty && tally.count == 0, let content = feed.csv() {
                        try queueToShop(prefix: "stock", content: content, fileID: fileID, db: db, now: now)
                    }
                    return reader.findings
                }
            case .shipments(var reader):
                let validator = warehouseValidator(claimed)
                var feed = TrackingFeed()
                return try commitDocument(&record, noun: ("shipment", "shipments"), head: identity.head, db: db) { db, fileID, now, tally in
                    while let draft = reader.next() {
                        progress?.tick(records: tally.documents + tally.skipped + tally.rejectedRecords, errors: tally.count)
                        let (shipment, problems) = validator.validate(draft)
                        tally.note(problems)
                        guard let shipment else { continue }
                        switch try ShipmentLedger.record(shipment, sourceLine: draft.line, fileID: fileID, db: db, now: now) {
                        case .recorded:
                            tally.documents += 1
                            feed.add(shipment)
                        case .alreadyRecorded:
                            tally.skipped += 1
                        case .unknownOrder(let finding):
                            tally.note([finding])
                        }
                    }
                    if reader.findings.isEmpty && tally.count == 0, let content = feed.csv() {
                        try queueToShop(prefix: "tracking", content: content, fileID: fileID, db: db, now: now)
                    }
                    return reader.findings
                }
            }
        }
    }


    /// Where the orders of a file come from: its reader, or read and checked ahead.
    enum OrderSource {
        case reader(any OrderDraftReader)
        case prepared([PreparedOrder], findings: [Diagnostic], skipped: [SkippedOrder])
    }

    /// Date and amount conventions are settable only for the shop's own layout; every other
    /// format has fixed rules.
    static func validator(for format: DocumentFormat, configuration: SpoolConfiguration) -> OrderValidator {
        guard format == .customOrdersCSV else { return OrderValidator() }
        return OrderValidator(decimalSeparator: configuration.formats.ordersCSV.decimalSeparator,
                              dateFormats: configuration.formats.ordersCSV.dateFormats)
    }

    /// Commits an orders document: each order checked, stored with its warehouse file, or
    /// counted against the file.
    private func commitOrders(_ record: inout FileRecord, format: DocumentFormat, head: [UInt8], size: Int64, db: Database,
                              source: OrderSource, nameCheck: NameCheck? = nil) throws -> FileRecord {
        // Date and amount conventions are settable only for the shop's own layout;
        // every other format has fixed rules.
        let validator = Self.validator(for: format, configuration: spool.configuration)
        // In schema-checked XML a missing element is the schema's finding; the rules'
        // MISSING_FIELD for the same order would only restate it in other words. An
        // order's findings wait until the next order starts, since the schema error
        // may sit anywhere up to there (a missing child is reported at its parent).
        let schemaChecked = format == .ordersXML
        // Warehouse files carry the day the order was received, computed once a file.
        let day = Timestamp.localDay(clock.now())
        let recordPolicy = spool.configuration.intake.policy == .record
        var held: (line: Int, problems: [Diagnostic])?
        // The reader's file-level findings as far as the orders consumed so far.
        var findingsSoFar: [Diagnostic] = []
        func release(_ held: (line: Int, problems: [Diagnostic]), before next: Int?, _ tally: inout Tally) {
            var problems = held.problems
            if schemaChecked, problems.contains(where: { $0.code == .missingField }),
               findingsSoFar.contains(where: { $0.code == .schema && ($0.line ?? 0) >= held.line && ($0.line ?? 0) < (next ?? Int.max) }) {
                problems.removeAll { $0.code == .missingField }
            }
            tally.note(problems)
        }
        let outboxFormat = spool.configuration.outbox.format
        return try commitDocument(&record, noun: ("order", "orders"), head: head, db: db, nameCheck: nameCheck) { db, fileID, now, tally in
            func consume(_ p: PreparedOrder) throws {
                progress?.tick(records: tally.documents + tally.skipped + tally.rejectedRecords, errors: tally.count)
                findingsSoFar += p.newFindings
                if let previous = held { release(previous, before: p.line, &tally) }
                held = (p.line, p.problems)
                // Kept only for the `record` policy, so that memory does not grow
                // with the size of the file otherwise.
                if recordPolicy && schemaChecked { tally.orderStarts.append((p.line, p.id)) }
                let range = (first: p.line, lastRow: p.lastRow)
                if !p.problems.isEmpty { tally.rejectedRecords += 1 }
                if recordPolicy && !p.problems.isEmpty { tally.rejectedRanges.append(range) }
                guard let order = p.order else { return }
                let rendered = p.rendered ?? (OrderJSON.encode(order), Self.warehouseFile(order, format: outboxFormat, day: day))
                switch try store(order, rendered: rendered, line: p.line, fileID: fileID, db: db, now: now, day: day) {
                case .refused(let problem):
                    tally.note([problem])
                    tally.rejectedRecords += 1
                    if recordPolicy { tally.rejectedRanges.append(range) }
                case .stored:
                    tally.documents += 1
                case .merged:
                    // More rows of an order already counted.
                    break
                }
            }
            var fileFindings: [Diagnostic]
            var skipped: [SkippedOrder]
            switch source {
            case .prepared(let orders, let findings, let s):
                // A small file read and checked ahead, while the files before it were committed.
                for p in orders { try consume(p) }
                fileFindings = findings
                skipped = s
            case .reader(let reader) where size >= readAheadBytes:
                // A big file: reading, checking and rendering run on a second thread
                // while this one writes the ledger. The warehouse file and the order's JSON
                // are rendered there too: left to the ledger's thread, they kept it busy all
                // the time while the reader waited (a 100 000-line CSV: 100% against 47%);
                // moved, the first order file came 13% sooner (medians of six alternating runs).
                let box = ReaderBox(reader)
                // Handed over 64 at a time: one wake-up per order cost more than it saved.
                let ahead = ReadAhead<PreparedDocument>(capacity: 8) { [validator, outboxFormat, day] ahead in
                    var seen = 0
                    var chunk: [PreparedOrder] = []
                    chunk.reserveCapacity(64)
                    while let draft = box.reader.next() {
                        chunk.append(Self.prepare(draft, reader: box.reader, seen: &seen, validator: validator, render: (outboxFormat, day)))
                        if chunk.count == 64 {
                            if !ahead.put(.orders(chunk)) { return }
                            chunk.removeAll(keepingCapacity: true)
                        }
                    }
                    if !chunk.isEmpty && !ahead.put(.orders(chunk)) { return }
                    _ = ahead.put(.end(findings: box.reader.findings, skipped: box.reader.skipped))
                }
                defer { ahead.close() }
                fileFindings = []
                skipped = []
                while let item = ahead.take() {
                    switch item {
                    case .orders(let chunk): for p in chunk { try consume(p) }
                    case .end(let findings, let s):
                        fileFindings = findings
                        skipped = s
                    }
                }
            case .reader(var reader):
                var seen = 0
                while let draft = reader.next() {
                    try consume(Self.prepare(draft, reader: reader, seen: &seen, validator: validator, render: nil))
                }
                fileFindings = reader.findings
                skipped = reader.skipped
            }
            findingsSoFar = fileFindings
            if let last = held { release(last, before: nil, &tally) }
            if !skipped.isEmpty {
                tally.skipped += skipped.count
                tally.skippedDetail = SkippedOrder.summary(skipped)
            }
            return fileFindings
        }
    }

    /// What the consumer needs of one order: where it stands, the checked order and its
    /// findings, its ledger JSON and warehouse file when already rendered, and the
    /// reader's file-level findings that came up since the previous order.
    struct PreparedOrder {
        var line: Int
        var id: String?
        var lastRow: Int
        var order: Order?
        var problems: [Diagnostic]
        var rendered: (json: String, content: Data)?
        var newFindings: [Diagnostic]
    }

    enum PreparedDocument {
        case orders([PreparedOrder])
        case end(findings: [Diagnostic], skipped: [SkippedOrder])
    }

    /// Moves a reader to the reading thread; only that thread touches it until it is done.
    final class ReaderBox: @unchecked Sendable {
        var reader: any OrderDraftReader
        init(_ reader: any OrderDraftReader) { self.reader = reader }
    }

    /// Checks a draft and renders what a valid order needs: no ledger, no side effects.
    static func prepare(_ draft: OrderDraft, reader: any OrderDraftReader, seen: inout Int, validator: OrderValidator,
                        render: (format: SpoolConfiguration.OutboxFormat, day: String)?) -> PreparedOrder {
        let (order, found) = validator.validate(draft)
        var problems = found
        // Reports name the column as the file calls it ("Shipping Zip").
        for i in problems.indices {
            if let field = problems[i].field, let name = reader.columnName(for: field) { problems[i].field = name }
        }
        let all = reader.findings
        let newFindings = all.count > seen ? Array(all[seen...]) : []
        seen = all.count
        return PreparedOrder(line: draft.line, id: draft.id?.value, lastRow: draft.lines.map(\.line).max() ?? draft.line,
                             order: order, problems: problems,
                             rendered: render.flatMap { r in order.map { (OrderJSON.encode($0), warehouseFile($0, format: r.format, day: r.day)) } },
                             newFindings: newFindings)
    }

    /// libxml2 refuses a forbidden DOCTYPE before it has a line to give; the declaration is
    /// near the top, so find it in the file's first bytes and point there.
    static func locatingDoctype(_ findings: [Diagnostic], head: [UInt8]) -> [Diagnostic] {
        guard findings.contains(where: { $0.code == .forbiddenDTD && $0.line == nil }) else { return findings }
        let marker = Array("<!DOCTYPE".utf8)
        guard head.count >= marker.count,
              let at = (0...(head.count - marker.count)).first(where: { Array(head[$0..<($0 + marker.count)]) == marker }) else { return findings }
        let line = head[..<at].filter { $0 == 0x0A }.count + 1
        let lineStart = head[..<at].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return findings.map { f in
            guard f.code == .forbiddenDTD && f.line == nil else { return f }
            var located = f
            located.line = line
            located.column = at - lineStart + 1
            return located
        }
    }

    /// Counts what a document did while it is read; findings are capped, their count is not.
    struct Tally {
        var findings: [Diagnostic] = []
        var count = 0
        /// Records that took effect (orders stored, stock lines applied, shipments recorded).
        var documents = 0
        /// Records that were fine but changed nothing (stale stock, known shipments), or
        /// were deliberately not sent (a Shopify order with nothing to ship).
        var skipped = 0
        /// Says what `skipped` counts when the default wording does not fit.
        var skippedDetail: String?
        /// Orders that had findings (for progress).
        var rejectedRecords = 0
        /// Line ranges of the orders that had findings (for the `record` policy).
        var rejectedRanges: [(first: Int, lastRow: Int)] = []
        /// Where each order starts, and its id (for the `record` policy on XML).
        var orderStarts: [(line: Int, id: String?)] = []

        mutating func note(_ f: [Diagnostic]) {
            count += f.count
            for d in f where findings.count < Processor.maxStoredFindings { findings.append(d) }
        }
    }

    /// One transaction for one file: the file, everything it causes and its outgoing
    /// messages, or, when any finding comes up, the file as rejected with every finding
    /// and nothing else (a savepoint rolls the effects back).
    private func commitDocument(_ record: inout FileRecord, noun: (String, String), head: [UInt8] = [], db: Database,
                                nameCheck: NameCheck? = nil, _ apply: (Database, Int64, String, inout Tally) throws -> [Diagnostic]) throws -> FileRecord {
        let now = Timestamp.iso(clock.now())
        record.processedAt = now
        do {
            record.state = .accepted
            record.destDir = spool.archiveFolder(day: Timestamp.localDay(clock.now())).relative
            // The name the original keeps if accepted, when it is free now: the row holds it
            // from the start, and the outcome update leaves the destination index alone (a
            // placeholder replaced at the end cost a delete and an insert in that index, and
            // a random number, per file). Otherwise the name is chosen once the id is known.
            var nameHeld = false
            if record.name.utf8.count <= Self.nameLimit(withReports: false) {
                nameHeld = try !isTaken(record.name, id: 0, in: record.destDir, db: db, withReports: false, checked: nameCheck)
            }
            record.storedName = nameHeld ? record.name : Self.placeholderName()
            try ledger.insert(&record, db)
            let inserted = (state: record.state, destDir: record.destDir, storedName: record.storedName)
            let fileID = record.id!
            var tally = Tally()
            var findings: [Diagnostic] = []
            var findingCount = 0
            var partial = false
            try db.inStatementCachedSavepoint {
                var fileFindings = Self.locatingDoctype(try apply(db, fileID, now, &tally), head: head)
                // `record` policy on canonical XML: a schema error inside an order belongs to
                // that order (its lines run to the next order's start).
                let xmlRecord = spool.configuration.intake.policy == .record && record.format == DocumentFormat.ordersXML.rawValue
                    && record.encoding == TextEncoding.utf8.rawValue
                    && Set(tally.orderStarts.map(\.line)).count == tally.orderStarts.count
                    && (tally.orderStarts.first?.line ?? 0) > 1
                var xmlRanges: [String: (first: Int, lastRow: Int)] = [:]
                if xmlRecord {
                    let starts = tally.orderStarts
                    for (i, s) in starts.enumerated() {
                        let key = s.id ?? "line \(s.line)"
                        xmlRanges[key] = (s.line, i + 1 < starts.count ? starts[i + 1].line - 1 : Int.max)
                    }
                    if fileFindings.allSatisfy({ $0.code == .schema && ($0.line ?? 0) >= (starts.first?.line ?? Int.max) }) {
                        for i in fileFindings.indices {
                            let line = fileFindings[i].line!
                            if let owner = starts.last(where: { $0.line <= line }) {
                                fileFindings[i].orderID = owner.id ?? "line \(owner.line)"
                            }
                        }
                    }
                }
                progress?.tick(records: tally.documents + tally.skipped + tally.rejectedRecords,
                               errors: tally.count + fileFindings.count, finished: true)
                // A schema error already says what is wrong on its line; rule findings on the
                // same line would only repeat it in other words.
                let schemaLines = Set(fileFindings.filter { $0.code == .schema }.compactMap(\.line))
                let kept = tally.findings.filter { $0.line.map { !schemaLines.contains($0) } ?? true }
                findingCount = tally.count - (tally.findings.count - kept.count) + fileFindings.count
                findings = Array((fileFindings + kept).prefix(Self.maxStoredFindings))
                // `record` policy: findings that all belong to orders reject only those
                // orders; the rest of the file goes out. Anything about the file as a whole
                // (broken CSV, bad header, encoding) still rejects all of it.
                partial = spool.configuration.intake.policy == .record && record.channel == .orders
                    && findingCount > 0 && tally.documents > 0
                    && ((fileFindings.isEmpty && record.format.map { $0.hasSuffix("csv") } == true)
                        || (xmlRecord && fileFindings.allSatisfy { $0.orderID != nil }))
                    && findings.allSatisfy { $0.orderID != nil } && findings.count == findingCount
                if partial {
                    let rejectedIDs = Set(findings.compactMap(\.orderID))
                    for id in rejectedIDs {
                        // An order stored in part before a later row of it was found wrong.
                        try db.execute(sql: "DELETE FROM outbox WHERE order_ref IN (SELECT id FROM orders WHERE file_id = ? AND order_id = ?)", arguments: [fileID, id])
                        try db.execute(sql: "DELETE FROM orders WHERE file_id = ? AND order_id = ?", arguments: [fileID, id])
                    }
                    tally.documents = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders WHERE file_id = ?", arguments: [fileID]) ?? 0
                    if xmlRecord {
                        // The XML rejects keep the prolog and root start tag, then each
                        // rejected order from its start to the next order's start.
                        tally.rejectedRanges = [(1, (tally.orderStarts.first?.line ?? 2) - 1)]
                            + rejectedIDs.compactMap { xmlRanges[$0] }.sorted { $0.first < $1.first }
                    }
                    for r in tally.rejectedRanges {
                        try db.execute(sql: "INSERT INTO rejected_records (file_id, first_line, last_row_line) VALUES (?, ?, ?)",
                                       arguments: [fileID, r.first, r.lastRow])
                    }
                    return .commit
                }
                if tally.documents == 0 && tally.skipped == 0 && findingCount == 0 {
                    findings = [Diagnostic(.emptyFile, line: 2, message: "the file holds no \(noun.1)")]
                    findingCount = 1
                }
                return findingCount == 0 ? .commit : .rollback
            }
            if findingCount > 0 {
                if !partial {
                    record.state = .rejected
                    record.destDir = spool.relative(spool.rejected)
                }
                findings.sort { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) }
            }
            // Accepted: what took effect. Rejected: how many records the file held (orders
            // stored before the rollback, plus those with findings), for "2 of 41 orders".
            record.documents = findingCount == 0 || partial
                ? tally.documents
                : tally.documents + tally.skipped + Set(findings.compactMap(\.orderID)).count
            record.errorCount = findingCount
            if !(nameHeld && record.state == inserted.state && record.destDir == inserted.destDir) {
                record.storedName = try freeName(record.name, id: fileID, in: record.destDir, db: db, withReports: record.state == .rejected,
                                                 checked: nameCheck)
            }
            try record.updateOutcome(db, inserted: inserted)
            for (i, f) in findings.enumerated() { try f.insert(db, fileID: fileID, seq: i) }
            var detail: String
            if record.state == .accepted {
                detail = "\(tally.documents) \(tally.documents == 1 ? noun.0 : noun.1)"
                if partial {
                    let bad = Set(findings.compactMap(\.orderID)).count
                    detail += " sent; \(bad) \(bad == 1 ? noun.0 : noun.1) rejected (\(findingCount) error\(findingCount == 1 ? "" : "s"); policy record)"
                }
                if tally.skipped > 0 {
                    detail += tally.skippedDetail.map { ", " + $0 }
                        ?? (noun.0 == "stock line" ? ", \(tally.skipped) stale (older than recorded)" : ", \(tally.skipped) already recorded")
                }
            } else {
                detail = "\(findingCount) error\(findingCount == 1 ? "" : "s")"
            }
            try FileEvent.write(received(record, id: fileID), then: FileEvent(fileId: fileID, at: now, event: record.state.rawValue, detail: detail), db)
            try adoptIfAsked(&record, db: db, now: now)
            return record
        }
    }

    /// In the commit's own transaction, so that an adopted file's messages can never be
    /// seen as pending by a delivery pass.
    private func adoptIfAsked(_ record: inout FileRecord, db: Database, now: String) throws {
        guard let adoption, let id = record.id else { return }
        // In chunks: the writer's statement journal is in memory (see `Ledger`), and a big
        // file's messages in one statement would put all their pages there.
        repeat {
            try db.execute(sql: """
                UPDATE outbox SET state = 'delivered', delivered_at = ?, last_error = 'adopted: sent before the ledger was restored'
                WHERE id IN (SELECT id FROM outbox WHERE file_id = ? AND state != 'delivered' LIMIT ?)
                """, arguments: [now, id, Self.adoptionChunk])
        } while db.changesCount > 0
        repeat {
            try db.execute(sql: """
                UPDATE orders SET status = 'sent', sent_at = ?
                WHERE id IN (SELECT id FROM orders WHERE file_id = ? AND status = 'received' LIMIT ?)
                """, arguments: [now, id, Self.adoptionChunk])
        } while db.changesCount > 0
        record.destDir = adoption.destDir
        record.storedName = adoption.storedName
        record.archivedAt = now
        try record.update(db)
        try FileEvent(fileId: id, at: now, event: "adopted", detail: "found at \(adoption.destDir)/\(adoption.storedName); its effects are recorded as already delivered").write(db)
    }

    private func warehouseValidator(_ claimed: ClaimedFile) -> WarehouseValidator {
        let mtime = Date(timeIntervalSince1970: Double(claimed.status.modified) / 1e9)
        let fileTime = DateValue(iso: Timestamp.isoSeconds(mtime), hasTime: true)
        return WarehouseValidator(fileTime: fileTime, localOffsetSeconds: TimeZone.current.secondsFromGMT(for: clock.now()))
    }

    /// Queues a feed file for the shop: `PREFIX-<UTC time>-<N>.csv`, N the message's id,
    /// which keeps names unique and in order.
    private func queueToShop(prefix: String, content: String, fileID: Int64, db: Database, now: String) throws {
        var message = OutboxMessage(id: nil, fileId: fileID, orderRef: nil, target: .toShop, name: Self.placeholderName(),
                                    content: Data(content.utf8), state: .pending, attempts: 0, lastError: nil,
                                    nextAttemptAt: nil, createdAt: now, deliveredAt: nil)
        try message.insert(db)
        let name = "\(prefix)-\(Timestamp.compact(clock.now()))-\(message.id!).csv"
        try db.execute(sql: "UPDATE outbox SET name = ? WHERE id = ?", arguments: [name, message.id])
    }

    /// Records one valid order and its warehouse file, or says why it cannot be. The order
    /// id's uniqueness is the ledger's (a unique index): the insert is tried first and only
    /// a conflict costs a lookup.
    enum StoreOutcome {
        case stored
        /// Rows of an order stored earlier in the same file, added to it.
        case merged
        case refused(Diagnostic)
    }

    private func store(_ order: Order, rendered: (json: String, content: Data), line: Int, fileID: Int64, db: Database, now: String, day: String) throws -> StoreOutcome {
        // Plain cached statements: once per order, GRDB's record layer cost more than SQLite.
        try db.cachedStatement(sql: """
            INSERT INTO orders (order_id, file_id, line, status, data, received_at) VALUES (?, ?, ?, 'received', ?, ?)
            ON CONFLICT (order_id) DO NOTHING
            """).execute(arguments: [order.id, fileID, line, rendered.json, now])
        if db.changesCount == 0 {
            guard let existing = try OrderRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM orders WHERE order_id = ?"), arguments: [order.id]) else {
                throw SystemError("insert order", order.id, errno: EIO)
            }
            if existing.fileId == fileID {
                return try merge(order, into: existing, line: line, db: db, day: day).map(StoreOutcome.refused) ?? .merged
            }
            let earlier = try String.fetchOne(db, sql: "SELECT name FROM files WHERE id = ?", arguments: [existing.fileId]) ?? "?"
            return .refused(Diagnostic(.duplicateOrder, line: line, field: "order_id", value: order.id,
                              message: "order \(order.id) was already received in file \(existing.fileId) (\(earlier)) and is \(existing.status.rawValue); it is never sent twice",
                              orderID: order.id))
        }
        let orderRef = db.lastInsertedRowID
        // Made-safe names are distinct by construction but for a hash collision; should one
        // happen, it is this order's problem, not an error that stops the whole spool.
        let name = WarehouseOrderFile.fileName(forOrderID: order.id, format: spool.configuration.outbox.format)
        try db.cachedStatement(sql: """
            INSERT INTO outbox (file_id, order_ref, target, name, content, state, attempts, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?)
            ON CONFLICT (target, name) DO NOTHING
            """).execute(arguments: [fileID, orderRef, DeliveryTarget.outbox.rawValue, name, rendered.content, now])
        if db.changesCount == 0 {
            try db.cachedStatement(sql: "DELETE FROM orders WHERE id = ?").execute(arguments: [orderRef])
            return .refused(Diagnostic(.invalidValue, line: line, field: "order_id", value: order.id,
                              message: "order \(order.id) would be written to \(name), a name another order's file already has",
                              orderID: order.id))
        }
        return .stored
    }

    /// Rows of one order that are not next to each other in a file still form one order:
    /// the later part must agree on the order's fields and adds its lines.
    private func merge(_ part: Order, into existing: OrderRecord, line: Int, db: Database, day: String) throws -> Diagnostic? {
        var order = try JSONDecoder().decode(Order.self, from: Data(existing.data.utf8))
        var differing: [String] = []
        if part.customer != order.customer { differing.append("customer") }
        if part.shipTo != order.shipTo { differing.append("address") }
        if part.date != nil && part.date != order.date { differing.append("order_date") }
        if part.cod != nil && part.cod != order.cod { differing.append("cod_amount") }
        if part.carrier != nil && part.carrier != order.carrier { differing.append("carrier") }
        if !differing.isEmpty {
            return Diagnostic(.inconsistentOrder, line: line, field: differing[0], value: order.id,
                              message: "rows of order \(order.id) disagree (\(differing.joined(separator: ", "))) with line \(existing.line)",
                              orderID: order.id)
        }
        order.lines += part.lines
        try db.execute(sql: "UPDATE orders SET data = ? WHERE id = ?", arguments: [OrderJSON.encode(order), existing.id])
        try db.execute(sql: "UPDATE outbox SET content = ? WHERE order_ref = ?",
                       arguments: [warehouseFile(order, day: day), existing.id])
        return nil
    }

    /// The order's file for the warehouse, in the configured `[outbox] format`.
    private func warehouseFile(_ order: Order, day: String) -> Data {
        Self.warehouseFile(order, format: spool.configuration.outbox.format, day: day)
    }

    static func warehouseFile(_ order: Order, format: SpoolConfiguration.OutboxFormat, day: String) -> Data {
        WarehouseOrderFile.contentData(for: order, format: format, receivedOn: day)
    }

    /// A file's first event: where it was received.
    private func received(_ record: FileRecord, id: Int64) -> FileEvent {
        FileEvent(fileId: id, at: record.receivedAt, event: "received",
                  detail: "\(spool.relative(spool.inputFolder(for: record.channel)))/\(record.name)")
    }

    /// Records a file rejected before (or instead of) reading its documents.
    private func commitRejected(_ record: inout FileRecord, db: Database, _ findings: [Diagnostic]) throws -> FileRecord {
        let now = Timestamp.iso(clock.now())
        record.processedAt = now
        record.state = .rejected
        record.destDir = spool.relative(spool.rejected)
        record.errorCount = findings.count
        do {
            let placeholder = Self.placeholderName()
            record.storedName = placeholder
            try ledger.insert(&record, db)
            let id = record.id!
            record.storedName = try freeName(record.name, id: id, in: record.destDir, db: db, withReports: true)
            try record.updateOutcome(db, inserted: (record.state, record.destDir, placeholder))
            for (i, f) in findings.enumerated() { try f.insert(db, fileID: id, seq: i) }
            try FileEvent.write(received(record, id: id),
                                then: FileEvent(fileId: id, at: now, event: "rejected", detail: findings.first.map { "\($0.code.rawValue): \($0.message)" }), db)
            try adoptIfAsked(&record, db: db, now: now)
            return record
        }
    }

    /// The name the original keeps in its destination folder: as received, or with `~ID`
    /// before its last extension when that name is taken (on disk or by a file in flight).
    /// `checked`: the disk's answer for a name, when it was looked up ahead.
    func freeName(_ name: String, id: Int64, in destDir: String, db: Database, withReports: Bool,
                  checked: NameCheck? = nil) throws -> String {
        let limit = Self.nameLimit(withReports: withReports)
        if name.utf8.count > limit { return Self.shortenedName(name, id: id, limit: limit) }
        if try !isTaken(name, id: id, in: destDir, db: db, withReports: withReports, checked: checked) { return name }
        return Self.numberedName(name, id: id)
    }

    /// Whether a name is held in a destination folder by another file of the ledger
    /// (`id`: the asking file's own row, if it has one) or is on disk, with its reports.
    func isTaken(_ candidate: String, id: Int64, in destDir: String, db: Database, withReports: Bool,
                 checked: NameCheck?) throws -> Bool {
        if try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM files WHERE dest_dir = ? AND stored_name = ? AND id != ?"),
                            arguments: [destDir, candidate, id]) != nil { return true }
        // Resolved only when the disk is asked: an accepted small file's name was looked up
        // on disk ahead of the commit (`checked`), and this runs once per file on the
        // thread that commits.
        var folder: String?
        func onDisk(_ name: String) -> Bool {
            if folder == nil { folder = spool.resolve(relative: destDir) }
            return FileSystem.exists(FileSystem.join(folder!, name))
        }
        if let checked, checked.destDir == destDir, checked.name == candidate {
            if !checked.absent { return true }
        } else if onDisk(candidate) { return true }
        if withReports && RejectionReport.fileSuffixes.contains(where: { onDisk(candidate + $0) }) { return true }
        return false
    }

    /// The longest name kept as it is: room for the longest suffix added to it
    /// (".report.html", a ".…tmp" temp name) within the usual 255-byte limit.
    static func nameLimit(withReports: Bool) -> Int { withReports ? 255 - 18 : 255 - 6 }

    /// Held by a new row until its real name is chosen (which needs the row's id); it can
    /// never be a file's name, so the unique destination index never trips over it.
    static func placeholderName() -> String { "\u{0}pending-\(UInt64.random(in: 0...UInt64.max))" }

    /// A name cut to fit, kept unique by its ledger id: the start of the stem, `~ID`, and the
    /// last extension when it is a short one.
    static func shortenedName(_ name: String, id: Int64, limit: Int) -> String {
        var ext = ""
        if let dot = name.lastIndex(of: "."), name.distance(from: dot, to: name.endIndex) <= 10 { ext = String(name[dot...]) }
        let stem = name.dropLast(ext.count)
        let budget = limit - ext.utf8.count - "~\(id)".utf8.count
        var cut = ""
        for ch in stem {
            if cut.utf8.count + String(ch).utf8.count > budget { break }
            cut.append(ch)
        }
        return "\(cut)~\(id)\(ext)"
    }

    static func numberedName(_ name: String, id: Int64) -> String {
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot])~\(id)\(name[dot...])"
        }
        return "\(name)~\(id)"
    }
}
