import Foundation
import GRDB
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
            try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox WHERE state = 'delivering' ORDER BY id")
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
            _ = try? deliverer.deliverDue(fileID: file.id)
            if archive(file, summary: &summary) { summary.recovered += 1 }
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

    // MARK: One file

    /// Claim → identify → parse, validate, commit → deliver → archive.
    func handle(_ claimed: ClaimedFile, summary: inout RunSummary) throws {
        let record = try processor.process(claimed, receivedAt: clock.now())
        crash.reached(.afterCommit)
        if record.state == .accepted { summary.accepted += 1 } else { summary.rejected += 1 }
        logger.info("\(record.state.rawValue)", metadata: [
            "file.id": "\(record.id ?? 0)", "file.name": "\(record.name)", "documents": "\(record.documents)",
            "errors": "\(record.errorCount)",
        ])
        removeCopiedSource(record)
        let d = try deliverer.deliverDue(fileID: record.id)
        summary.delivered += d.delivered
        summary.deliveryFailures += d.failed
        summary.failedMessages.formUnion(d.failedIDs)
        archive(record, summary: &summary)
    }

    /// Archives a committed file. A folder that is full, read-only or gone does not stop
    /// anything else: the file waits, committed, in work/, and is archived by a later pass.
    /// A ledger failure still stops processing.
    @discardableResult
    private func archive(_ file: FileRecord, summary: inout RunSummary) -> Bool {
        do {
            try archiver.archive(file)
            return true
        } catch let error as SystemError {
            summary.archiveFailures += 1
            logger.warning("archiving failed; will retry", metadata: ["file.id": "\(file.id ?? 0)", "file.name": "\(file.name)", "error": "\(error)"])
            return false
        } catch {
            summary.archiveFailures += 1
            logger.error("archiving failed", metadata: ["file.id": "\(file.id ?? 0)", "error": "\(error)"])
            return false
        }
    }

    /// Files committed but not archived (an archive or rejected folder that failed): try again.
    private func retryUnarchived(summary: inout RunSummary) throws {
        let pending = try ledger.read { db in
            try FileRecord.fetchAll(db, sql: "SELECT * FROM files WHERE archived_at IS NULL ORDER BY id")
        }
        for file in pending { archive(file, summary: &summary) }
    }

    private func claimAndHandle(_ candidate: Candidate, summary: inout RunSummary) throws {
        let claimed: ClaimedFile?
        if candidate.path.hasPrefix("sftp://") {
            guard let remotes, let location = spool.remoteLocation(for: candidate.channel) else { return }
            do {
                claimed = try RemoteIntake.claim(candidate, location: location, spool: spool, ledger: ledger, remotes: remotes)
            } catch let e as SFTPError {
                logger.warning("could not download; will retry", metadata: ["source": "\(candidate.path)", "error": "\(e)"])
                return
            }
        } else {
            claimed = try Claim.take(candidate, spool: spool)
        }
        guard let claimed else { return }
        crash.reached(.afterClaim)
        try handle(claimed, summary: &summary)
        if spool.configuration.intake.doneMarker && !candidate.path.hasPrefix("sftp://") {
            try? FileSystem.removeFile(candidate.path + CandidateRules.doneSuffix)
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

    // MARK: Runs

    /// `run --once`: recover, take every candidate present now (waiting for each to
    /// settle), deliver, return.
    public func runOnce(settle: Double) throws -> RunSummary {
        var summary = RunSummary()
        for orphan in try recover(summary: &summary) {
            try handle(orphan, summary: &summary)
        }
        var tracker = SettleTracker(settle: settle)
        var waiting = scanInputs()
        // A file still changing after this long is left for the next run rather than
        // holding the pass forever.
        let deadline = monotonicSeconds() + max(60, settle * 10)
        while !waiting.isEmpty && !stop.isStopped {
            let now = monotonicSeconds()
            var still: [Candidate] = []
            // Look again at what was there at the start (a local lstat, or a fresh remote listing).
            let current = waiting.contains { $0.path.hasPrefix("sftp://") }
                ? Dictionary(scanInputs().map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }) : [:]
            for c in waiting {
                let fresh: Candidate
                if c.path.hasPrefix("sftp://") {
                    guard let seen = current[c.path] else { continue }
                    fresh = seen
                } else {
                    guard let status = try? FileSystem.status(c.path), status.kind != .directory else { continue }
                    var local = c
                    local.status = status
                    fresh = local
                }
                if tracker.observe(fresh, now: now) {
                    try claimAndHandle(fresh, summary: &summary)
                    if stop.isStopped { break }
                } else {
                    still.append(fresh)
                }
            }
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
        for orphan in try recover(summary: &summary) {
            try handle(orphan, summary: &summary)
        }
        var tracker = SettleTracker(settle: settle)
        let poll = spool.configuration.intake.pollInterval
        var lastArchiveRetry = monotonicSeconds()
        logger.info("watching", metadata: ["inbox": "\(spool.inbox)", "from_warehouse": "\(spool.fromWarehouse)", "settle": "\(settle)"])
        while !stop.isStopped {
            let candidates = scanInputs()
            tracker.keepOnly(Set(candidates.map(\.path)))
            let now = monotonicSeconds()
            var nextCheck = poll
            for c in candidates {
                if stop.isStopped { break }
                if tracker.observe(c, now: now) {
                    do {
                        try claimAndHandle(c, summary: &summary)
                    } catch {
                        // The ledger or the disk failed: stop cleanly rather than guess.
                        logger.error("processing stopped", metadata: ["file.name": "\(c.name)", "error": "\(error)"])
                        throw error
                    }
                    tracker.forget(c.path)
                } else {
                    nextCheck = min(nextCheck, max(0.05, settle / 4))
                }
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
