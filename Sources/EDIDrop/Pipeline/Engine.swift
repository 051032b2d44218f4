import Foundation
import GRDB
import HandOff
import Logging
import SFTPSupport

/// A stop request from a signal handler, checked between files; waits can be cut short.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private let semaphore = DispatchSemaphore(value: 0)

    public init() {}

    public var isStopped: Bool { lock.withLock { stopped } }

    public func stop() {
        lock.withLock { stopped = true }
        semaphore.signal()
    }

    /// Sleeps up to `seconds`, returning early when stopped.
    public func wait(_ seconds: Double) {
        if isStopped { return }
        _ = semaphore.wait(timeout: .now() + seconds)
        if isStopped { semaphore.signal() }
    }
}

/// What one pass did, for the command line's summary and for tests.
public struct RunSummary: Sendable, Equatable {
    public var accepted = 0
    public var rejected = 0
    public var delivered = 0
    public var deliveryFailures = 0
    public var recovered = 0
    public var archiveFailures = 0
    /// Messages that already failed once in this pass: not tried again before the next pass.
    public var failedMessages: Set<Int64> = []
    public var skippedUnsettled: [String] = []
}

/// Ties the stages together: recovery, intake, processing, delivery, archiving.
public final class Engine {
    public let spool: Spool
    public let ledger: Ledger
    let clock: any Clock
    let crash: CrashSwitch
    let logger: Logger
    let stop: StopFlag
    let processor: Processor
    let deliverer: Deliverer
    let archiver: Archiver
    /// Connections for `sftp://` folders, when the configuration has any.
    let remotes: RemoteFolders?

    public init(spool: Spool, ledger: Ledger, schemas: CompiledSchemas, clock: any Clock = SystemClock(),
                crash: CrashSwitch = .disarmed, logger: Logger, stop: StopFlag = StopFlag(), progress: ProgressSink? = nil) {
        self.spool = spool
        self.ledger = ledger
        self.clock = clock
        self.crash = crash
        self.logger = logger
        self.stop = stop
        var processor = Processor(spool: spool, ledger: ledger, schemas: schemas, clock: clock, crash: crash, logger: logger)
        processor.progress = progress
        self.processor = processor
        if !spool.remote.isEmpty, let identity = spool.configuration.sftp.identityFile, let known = spool.configuration.sftp.knownHosts {
            remotes = RemoteFolders(credentials: SFTPCredentials(identityFile: spool.resolve(relative: identity), knownHostsFile: spool.resolve(relative: known)),
                                    timeout: spool.configuration.sftp.timeout)
        } else {
            remotes = nil
        }
        var deliverer = Deliverer(spool: spool, ledger: ledger, clock: clock, crash: crash, logger: logger)
        deliverer.remotes = remotes
        self.deliverer = deliverer
        archiver = Archiver(spool: spool, ledger: ledger, clock: clock, crash: crash, logger: logger)
    }

    // MARK: Recovery

    /// Repairs whatever a crash left in flight, then returns the files that were claimed
    /// but never committed, to be processed again from the start.
    func recover(summary: inout RunSummary) throws -> [ClaimedFile] {
        // Messages marked `delivering` finish first, whatever their retry time.
        let delivering = try ledger.read { db in
            try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox WHERE state != 'delivered' AND state = 'delivering' ORDER BY id")
        }
        for message in delivering {
            do {
                try deliverer.deliver(message)
                summary.recovered += 1
            } catch {
                logger.warning("could not finish an interrupted delivery", metadata: ["message.name": "\(message.name)", "error": "\(error)"])
            }
        }
        crash.reached(.duringRecovery)
        let unarchived = try ledger.read { db in
            try FileRecord.fetchAll(db, sql: "SELECT * FROM files WHERE archived_at IS NULL ORDER BY id")
        }
        var committedWorkNames = Set<String>()
        for file in unarchived {
            committedWorkNames.insert("\(file.channel.rawValue)/\(file.workName)")
            removeCopiedSource(file)
        }
        if let first = unarchived.first?.id, let last = unarchived.last?.id {
            _ = try? deliverer.deliverDue(files: first...last)
        }
        var start = 0
        while start < unarchived.count {
            let chunk = Array(unarchived[start..<min(unarchived.count, start + Self.batchLimit)])
            start += chunk.count
            summary.recovered += archive(chunk, summary: &summary)
        }
        var orphans: [ClaimedFile] = []
        for channel in Channel.allCases {
            let folder = spool.workFolder(for: channel)
            let names = try FileSystem.list(folder).sorted()
            let present = Set(names)
            for name in names {
                let path = FileSystem.join(folder, name)
                if name.hasPrefix(".") {
                    // A remote origin note stays with its download; anything else hidden is an
                    // interrupted copy or download whose original is still in its folder.
                    if name.hasSuffix(".origin"), present.contains(String(name.dropFirst().dropLast(".origin".count))) { continue }
                    try FileSystem.removeFile(path)
                    continue
                }
                if committedWorkNames.contains("\(channel.rawValue)/\(name)") { continue }
                guard let status = try FileSystem.status(path) else { continue }
                let origin = try? String(contentsOfFile: RemoteIntake.originPath(folder, name), encoding: .utf8)
                orphans.append(ClaimedFile(channel: channel, name: Claim.receivedName(fromWorkName: name),
                                           workName: name, workPath: path, sourcePath: origin, status: status))
            }
        }
        return orphans
    }

    /// After a commit, the original of a cross-file-system claim (or the remote original
    /// of a download) can go.
    private func removeCopiedSource(_ file: FileRecord) {
        guard let source = file.sourcePath else { return }
        if source.hasPrefix("sftp://") {
            guard let remotes else { return }
            do {
                try RemoteIntake.finish(source, spool: spool, remotes: remotes)
                try FileSystem.removeFile(RemoteIntake.originPath(spool.workFolder(for: file.channel), file.workName))
            } catch {
                // Retried: recovery finishes committed files, and a remote file the ledger
                // already holds is never downloaded again.
                logger.warning("could not finish the remote original", metadata: ["source": "\(source)", "error": "\(error)"])
            }
            return
        }
        do {
            try FileSystem.removeFile(source)
            try? FileSystem.syncDirectory(FileSystem.parentPath(of: source))
        } catch {
            logger.warning("could not remove the original after copying it", metadata: ["path": "\(source)", "error": "\(error)"])
        }
    }

    // MARK: Batches of files

    /// At most this many files share one ledger transaction (group commit).
    public static let batchLimit = 256
    /// A batch closes early once its files hold this many bytes, so that one big file
    /// does not wait behind (or hold back) many others.
    static let batchBytes: Int64 = 16 << 20

    /// Claimed files → one commit → deliveries and archive moves, for a batch. Every step is
    /// the protocol's, with its durability work shared by the batch: one ledger commit,
    /// one syncfs for the outgoing files, one fsync per folder.
    func handle(batch claimed: [ClaimedFile], summary: inout RunSummary) throws {
        guard !claimed.isEmpty else { return }
        let reading = processor.startReading(claimed)
        defer { reading.close() }
        try finish(try commit(reading, summary: &summary), summary: &summary)
    }

    /// Step 3 for a batch being read ahead: one commit, and what it recorded, logged.
    private func commit(_ reading: Processor.BatchReading, summary: inout RunSummary) throws -> [FileRecord] {
        let records = try processor.process(reading, receivedAt: clock.now())
        for record in records {
            crash.reached(.afterCommit)
            if record.state == .accepted { summary.accepted += 1 } else { summary.rejected += 1 }
            logger.info("\(record.state.rawValue)", metadata: [
                "file.id": "\(record.id ?? 0)", "file.name": "\(record.name)", "documents": "\(record.documents)",
                "errors": "\(record.errorCount)",
            ])
            removeCopiedSource(record)
        }
        return records
    }

    /// What starts on other threads as soon as a batch is committed, in a batch of some
    /// size (`concurrentArchiveMinimum`): the temp files of its first page of messages
    /// written and made durable, and its originals moved to the archive. Both need only the
    /// commit, and both run while the engine commits the next batch; every mark and every
    /// ledger record stays on the engine's thread, in order.
    struct AfterCommit {
        var firstPage: Deliverer.PageWrittenAhead?
        var moving: ReadAhead<Archiver.Moves>?

        /// For a batch that will not be finished now (an error came first): the temp files
        /// written go (the messages stay pending), and the moves made stay unrecorded, as
        /// after a crash; recovery and the next pass finish both.
        func discard() {
            firstPage?.discard()
            _ = moving?.close()
        }
    }

    /// `after`: the batch before's renames, if still under way; both wait for them (see
    /// `claimAndHandle(local:)`).
    private func startAfterCommit(_ records: [FileRecord], excluding failedMessages: Set<Int64>,
                                  after renames: Deliverer.RenamesInFlight? = nil) -> AfterCommit {
        guard records.count >= Self.concurrentArchiveMinimum, let first = records.first?.id, let last = records.last?.id else {
            return AfterCommit()
        }
        let renamed = renames?.done
        return AfterCommit(
            firstPage: deliverer.writeFirstPage(files: first...last, excluding: failedMessages, after: renamed),
            moving: ReadAhead<Archiver.Moves>(capacity: 1, threadName: "edidrop-archive") { [archiver] ahead in
                renamed?.wait()
                _ = ahead.put(archiver.move(batch: records))
            })
    }

    /// Steps 4 and 5 for a committed batch: its messages delivered, its originals archived.
    /// `started`: what `startAfterCommit` started for it; nil to start it here.
    ///
    /// Archiving needs only the commit, not the deliveries (recovery finishes each on its
    /// own), and the two touch different folders: in a batch of some size the originals
    /// move on a thread of their own while the messages are delivered, and the moves are
    /// recorded after the deliveries, in the ledger's one writer. Should a delivery fail
    /// with a ledger error, the moves are waited for and left unrecorded, as after a crash.
    private func finish(_ records: [FileRecord], started: AfterCommit? = nil, summary: inout RunSummary) throws {
        guard !records.isEmpty else { return }
        let work = started ?? startAfterCommit(records, excluding: summary.failedMessages)
        defer { _ = work.moving?.close() }
        if let first = records.first?.id, let last = records.last?.id {
            let d = try deliverer.deliverDue(files: first...last, excluding: summary.failedMessages, firstPage: work.firstPage)
            summary.delivered += d.delivered
            summary.deliveryFailures += d.failed
            summary.failedMessages.formUnion(d.failedIDs)
        }
        archive(records, moved: work.moving?.take(), summary: &summary)
    }

    /// From this many files a batch's originals move and its first temp files are written
    /// on threads of their own (see `startAfterCommit`); for fewer, a thread costs more
    /// than it saves.
    public static let concurrentArchiveMinimum = 16

    /// Archives committed files. A folder that is full, read-only or gone does not stop
    /// anything else: the file waits, committed, in work/, and is archived by a later pass.
    /// A ledger failure still stops processing. Returns how many were archived. `moved`:
    /// the moves, already made (by `handle`); nil to make them here.
    @discardableResult
    private func archive(_ files: [FileRecord], moved: Archiver.Moves? = nil, summary: inout RunSummary) -> Int {
        do {
            let failures = try moved.map { try archiver.record($0) } ?? archiver.archive(batch: files)
            noteArchiveFailures(failures, summary: &summary)
            return files.filter { $0.archivedAt == nil }.count - failures.count
        } catch {
            summary.archiveFailures += files.count
            logger.error("archiving failed", metadata: ["files": "\(files.compactMap(\.id))", "error": "\(error)"])
            return 0
        }
    }

    /// Originals that could not be moved (a full, read-only or missing folder) wait,
    /// committed, in work/ for a later pass.
    private func noteArchiveFailures(_ failures: [(file: FileRecord, error: Error)], summary: inout RunSummary) {
        for (file, error) in failures {
            summary.archiveFailures += 1
            logger.warning("archiving failed; will retry", metadata: ["file.id": "\(file.id ?? 0)", "file.name": "\(file.name)", "error": "\(error)"])
        }
    }

    /// Files committed but not archived (an archive or rejected folder that failed): try again.
    private func retryUnarchived(summary: inout RunSummary) throws {
        let pending = try ledger.read { db in
            try FileRecord.fetchAll(db, sql: "SELECT * FROM files WHERE archived_at IS NULL ORDER BY id")
        }
        var start = 0
        while start < pending.count {
            let chunk = Array(pending[start..<min(pending.count, start + Self.batchLimit)])
            start += chunk.count
            archive(chunk, summary: &summary)
        }
    }

    /// Claims and handles ready candidates in batches (see `batchLimit`, `batchBytes`).
    /// Remote candidates are downloaded and handled one at a time, in their turn.
    private func claimAndHandle(_ candidates: [Candidate], summary: inout RunSummary) throws {
        var start = candidates.startIndex
        while start < candidates.endIndex && !stop.isStopped {
            if candidates[start].path.hasPrefix("sftp://") {
                try claimRemoteAndHandle(candidates[start], summary: &summary)
                start += 1
                continue
            }
            let end = candidates[start...].firstIndex { $0.path.hasPrefix("sftp://") } ?? candidates.endIndex
            try claimAndHandle(local: Array(candidates[start..<end]), summary: &summary)
            start = end
        }
    }

    /// A batch of local files claimed and made durable: what the claiming thread hands over.
    struct ClaimedBatch: Sendable {
        var files: [ClaimedFile] = []
        /// The candidates they were claimed from (for their done markers).
        var from: [Candidate] = []
        var bytes: Int64 = 0
        /// Its files being read ahead of their commit (`Processor.startReading`).
        var reading: Processor.BatchReading?
    }

    /// Claims batches on a thread of its own: each file moved into work/, then per batch one
    /// fsync of each work folder and input folder it touched, so that the claims are durable
    /// before anything about them is committed. Stops between files once a stop is asked
    /// for, handing over what it has claimed; the engine finishes every batch handed over.
    /// What is claimed but never handed over or taken (an error on the engine's side) stays
    /// in work/ as after a crash, and recovery handles it at the next start.
    private func startClaiming(_ candidates: [Candidate]) -> ReadAhead<Result<ClaimedBatch, Error>> {
        ReadAhead(capacity: 1, threadName: "edidrop-claim") { [spool, stop, crash, processor] ahead in
            func makeDurable(_ batch: ClaimedBatch) throws {
                var folders: [String] = []
                for f in batch.files.map({ spool.workFolder(for: $0.channel) }) where !folders.contains(f) { folders.append(f) }
                for f in folders { try FileSystem.syncDirectory(f) }
                var inputs: [String] = []
                for f in batch.from.map({ FileSystem.parentPath(of: $0.path) }) where !inputs.contains(f) { inputs.append(f) }
                for f in inputs { try? FileSystem.syncDirectory(f) }
                for _ in batch.files { crash.reached(.afterClaim) }
            }
            // A batch is read from the moment it is claimed, so that its reading runs ahead
            // during the commit of the batch before, not in step with its own.
            func handOver(_ batch: ClaimedBatch) -> Bool {
                var batch = batch
                batch.reading = processor.startReading(batch.files)
                return ahead.put(.success(batch))
            }
            var batch = ClaimedBatch()
            do {
                for candidate in candidates {
                    if stop.isStopped { break }
                    guard let claimed = try Claim.take(candidate, spool: spool, sync: false) else { continue }
                    batch.files.append(claimed)
                    batch.from.append(candidate)
                    batch.bytes += max(0, claimed.status.size)
                    if batch.files.count >= Self.batchLimit || batch.bytes >= Self.batchBytes {
                        try makeDurable(batch)
                        guard handOver(batch) else { return }
                        batch = ClaimedBatch()
                    }
                }
                if !batch.files.isEmpty {
                    try makeDurable(batch)
                    _ = handOver(batch)
                }
            } catch {
                _ = ahead.put(.failure(error))
            }
        }
    }

    /// A committed batch on its way through `claimAndHandle(local:)`.
    private struct CommittedBatch {
        var records: [FileRecord]
        /// The candidates its files were claimed from (for their done markers).
        var from: [Candidate]
        /// Its temp files and archive moves, once started.
        var started: AfterCommit?
        /// Its renames, once its messages are marked `delivering`.
        var renaming: Deliverer.RenamesInFlight?

        /// Its archive moves, waited for; taken once (the thread is closed and forgotten, so
        /// that `abandon` does not close it again).
        mutating func takeMoves() -> Archiver.Moves? {
            guard let moving = started?.moving else { return nil }
            started?.moving = nil
            defer { moving.close() }
            return moving.take()
        }

        /// For a batch that will not be finished now (an error came first): what runs for it
        /// is waited for, and left as a crash would leave it, for recovery.
        func abandon() {
            renaming?.abandon()
            started?.discard()
        }
    }

    /// Local candidates, in batches, in a pipeline whose steps overlap on threads of their
    /// own. While the engine's thread commits batch n, batch n+1 is claimed
    /// (`startClaiming`) and batch n read ahead (`Processor.startReading`); batch n-2's
    /// messages, marked `delivering` before that commit, are renamed into the outbox; then,
    /// on the same folders, batch n-1's temp files are written and its originals moved
    /// (`startAfterCommit`, waiting for those renames so that the two never share a
    /// folder's lock or the file system's rename lock). After the commit the engine's
    /// thread marks batch n-2 `delivered` and records its archive moves, marks batch n-1
    /// `delivering` and starts its renames (`Deliverer.startDelivering`), and starts what
    /// follows batch n's commit. Every ledger write stays on the engine's thread, in order.
    /// A crash in between leaves states recovery already repairs: claimed files not yet
    /// committed, committed batches not yet delivered or archived (with temp files a retry
    /// writes again, originals moved but not recorded), messages marked `delivering` whether
    /// renamed or not.
    private func claimAndHandle(local candidates: [Candidate], summary: inout RunSummary) throws {
        let claiming = startClaiming(candidates)
        defer { for case .success(let unused) in claiming.close() { unused.reading?.close() } }
        // Committed and not yet finished, oldest first: at most one renaming (the oldest),
        // then one with its temp files started, then the one just committed.
        var committed: [CommittedBatch] = []
        defer { for c in committed { c.abandon() } }
        func removeDoneMarkers(_ done: CommittedBatch) {
            if spool.configuration.intake.doneMarker {
                for c in done.from { try? FileSystem.removeFile(c.path + CandidateRules.doneSuffix) }
            }
        }
        func archiveAndMark(_ done: CommittedBatch) {
            var done = done
            archive(done.records, moved: done.takeMoves(), summary: &summary)
            removeDoneMarkers(done)
        }
        func add(_ d: Deliverer.Summary) {
            summary.delivered += d.delivered
            summary.deliveryFailures += d.failed
            summary.failedMessages.formUnion(d.failedIDs)
        }
        // One step along for every batch: after a commit, or to drain the pipeline. The
        // oldest batch, renamed, is marked delivered and its archive moves recorded, and the
        // next one is marked delivering, in one transaction (`Deliverer.step`).
        func advance(draining: Bool) throws {
            let finishing = committed.first.flatMap {
                $0.renaming != nil && (draining || committed.count > Self.batchesCommittedAhead) ? $0 : nil
            }
            var marking: (index: Int, messages: Deliverer.WrittenMessages)?
            if let i = committed.firstIndex(where: { $0.renaming == nil }), draining || i < committed.count - 1,
               let first = committed[i].records.first?.id, let last = committed[i].records.last?.id {
                var started = committed[i].started ?? startAfterCommit(committed[i].records, excluding: summary.failedMessages)
                // Handed over: the deliverer takes the page or discards it, on every way out.
                let firstPage = started.firstPage
                started.firstPage = nil
                committed[i].started = started
                switch try deliverer.startDelivering(files: first...last, excluding: summary.failedMessages, firstPage: firstPage) {
                case .written(let messages):
                    marking = (i, messages)
                case .finished(let d):
                    add(d)
                    archiveAndMark(committed.remove(at: i))
                }
            }
            if finishing != nil || marking != nil {
                let moved = finishing != nil ? committed[0].takeMoves() : nil
                if let moved { archiver.reachRecording(moved) }
                let (d, renaming) = try deliverer.step(finishing: finishing?.renaming, marking: marking?.messages,
                                                       alsoRecording: moved.map { moved in { db in try self.archiver.record(moved, in: db) } })
                add(d)
                if let marking { committed[marking.index].renaming = renaming }
                if finishing != nil {
                    let done = committed.removeFirst()
                    if let moved {
                        noteArchiveFailures(archiver.recorded(moved), summary: &summary)
                        removeDoneMarkers(done)
                    } else {
                        archiveAndMark(done)
                    }
                }
            }
            if let last = committed.indices.last, committed[last].started == nil, committed[last].renaming == nil {
                let before = last > 0 ? committed[last - 1].renaming : nil
                committed[last].started = startAfterCommit(committed[last].records, excluding: summary.failedMessages, after: before)
            }
        }
        while let next = claiming.take() {
            let batch = try next.get()
            let reading = batch.reading ?? processor.startReading(batch.files)
            defer { reading.close() }
            let records = try commit(reading, summary: &summary)
            if records.isEmpty { continue }
            committed.append(CommittedBatch(records: records, from: batch.from))
            try advance(draining: false)
        }
        while !committed.isEmpty { try advance(draining: true) }
    }

    /// How many committed batches wait, their temp files written or being written, while
    /// the next one is committed: with two, a batch's temp files are written (and made
    /// durable) while the next batch is read and committed, so delivering it seldom waits
    /// for them, and its renames run while the one after that is committed.
    static let batchesCommittedAhead = 2

    private func claimRemoteAndHandle(_ candidate: Candidate, summary: inout RunSummary) throws {
        guard let remotes, let location = spool.remoteLocation(for: candidate.channel) else { return }
        let claimed: ClaimedFile?
        do {
            claimed = try RemoteIntake.claim(candidate, location: location, spool: spool, ledger: ledger, remotes: remotes)
        } catch let e as SFTPError {
            logger.warning("could not download; will retry", metadata: ["source": "\(candidate.path)", "error": "\(e)"])
            return
        }
        guard let claimed else { return }
        crash.reached(.afterClaim)
        try handle(batch: [claimed], summary: &summary)
    }

    /// Files claimed before a crash and never committed, in batches.
    private func handle(orphans: [ClaimedFile], summary: inout RunSummary) throws {
        var start = 0
        while start < orphans.count {
            let chunk = Array(orphans[start..<min(orphans.count, start + Self.batchLimit)])
            start += chunk.count
            try handle(batch: chunk, summary: &summary)
        }
    }

    private func scanInputs() -> [Candidate] {
        var all: [Candidate] = []
        for channel in Channel.allCases {
            do {
                if let location = spool.remoteLocation(for: channel) {
                    guard let remotes else { continue }
                    all += try RemoteIntake.scan(location, channel: channel, doneMarker: spool.configuration.intake.doneMarker, remotes: remotes)
                    continue
                }
                all += try CandidateRules.scan(folder: spool.inputFolder(for: channel), channel: channel,
                                               doneMarker: spool.configuration.intake.doneMarker)
            } catch {
                logger.warning("cannot read input folder", metadata: ["folder": "\(spool.inputFolder(for: channel))", "error": "\(error)"])
            }
        }
        return all
    }

    private func monotonicSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    /// The candidates still there, with their status now (a local lstat, or a fresh
    /// remote listing).
    private func lookAgain(at waiting: [Candidate]) -> [Candidate] {
        let current = waiting.contains { $0.path.hasPrefix("sftp://") }
            ? Dictionary(scanInputs().map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }) : [:]
        return waiting.compactMap { c in
            if c.path.hasPrefix("sftp://") { return current[c.path] }
            guard let status = try? FileSystem.status(c.path), status.kind != .directory else { return nil }
            var local = c
            local.status = status
            return local
        }
    }

    // MARK: Runs

    /// `run --once`: recover, take every candidate present now (waiting for each to
    /// settle), deliver, return.
    public func runOnce(settle: Double) throws -> RunSummary {
        var summary = RunSummary()
        ledger.preloadContentIndex()
        try handle(orphans: try recover(summary: &summary), summary: &summary)
        var tracker = SettleTracker(settle: settle)
        var waiting = scanInputs()
        // A file still changing after this long is left for the next run rather than
        // holding the pass forever.
        let deadline = monotonicSeconds() + max(60, settle * 10)
        // The listing just made is the first look; later passes look again.
        var justListed = true
        while !waiting.isEmpty && !stop.isStopped {
            if !justListed { waiting = lookAgain(at: waiting) }
            justListed = false
            let now = monotonicSeconds()
            var still: [Candidate] = []
            var ready: [Candidate] = []
            for c in waiting {
                if tracker.observe(c, now: now) {
                    ready.append(c)
                } else {
                    still.append(c)
                }
            }
            try claimAndHandle(ready, summary: &summary)
            if stop.isStopped { break }
            waiting = still
            if waiting.isEmpty { break }
            if monotonicSeconds() > deadline {
                summary.skippedUnsettled = waiting.map(\.name)
                logger.warning("files still changing; left for the next run", metadata: ["files": "\(summary.skippedUnsettled)"])
                break
            }
            stop.wait(min(0.25, max(0.02, settle / 4)))
        }
        // A one-off pass delivers whatever is pending, whatever its retry time.
        let d = try deliverer.deliverDue(ignoringBackoff: true, excluding: summary.failedMessages)
        summary.delivered += d.delivered
        summary.deliveryFailures += d.failed
        if summary.archiveFailures > 0 { try retryUnarchived(summary: &summary) }
        return summary
    }

    /// `run`: poll the input folders until stopped; the file in hand is always finished.
    public func runUntilStopped(settle: Double) throws {
        var summary = RunSummary()
        ledger.preloadContentIndex()
        try handle(orphans: try recover(summary: &summary), summary: &summary)
        var tracker = SettleTracker(settle: settle)
        let poll = spool.configuration.intake.pollInterval
        var lastArchiveRetry = monotonicSeconds()
        logger.info("watching", metadata: ["inbox": "\(spool.inbox)", "from_warehouse": "\(spool.fromWarehouse)", "settle": "\(settle)"])
        while !stop.isStopped {
            let candidates = scanInputs()
            tracker.keepOnly(Set(candidates.map(\.path)))
            let now = monotonicSeconds()
            var nextCheck = poll
            var ready: [Candidate] = []
            for c in candidates {
                if tracker.observe(c, now: now) {
                    ready.append(c)
                    tracker.forget(c.path)
                } else {
                    nextCheck = min(nextCheck, max(0.05, settle / 4))
                }
            }
            do {
                try claimAndHandle(ready, summary: &summary)
            } catch {
                // The ledger or the disk failed: stop cleanly rather than guess.
                logger.error("processing stopped", metadata: ["error": "\(error)"])
                throw error
            }
            if stop.isStopped { break }
            do {
                try deliverer.deliverDue()
            } catch {
                logger.error("delivery pass failed", metadata: ["error": "\(error)"])
            }
            if summary.archiveFailures > 0 && monotonicSeconds() - lastArchiveRetry > 5 {
                lastArchiveRetry = monotonicSeconds()
                summary.archiveFailures = 0
                try retryUnarchived(summary: &summary)
            }
            stop.wait(nextCheck)
        }
        logger.info("stopped")
    }
}
