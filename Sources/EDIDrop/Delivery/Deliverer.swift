import Foundation
import GRDB
import HandOff
import Logging
import SFTPSupport

/// Step 4 of the protocol: puts each recorded outgoing message into its folder exactly
/// once. Write `.NAME.tmp`, fsync it, mark `delivering`, rename to `NAME`, fsync the
/// folder, mark `delivered`. A crash anywhere is finished by `resume`.
public struct Deliverer {
    let spool: Spool
    let ledger: Ledger
    let clock: any Clock
    let crash: CrashSwitch
    let logger: Logger
    /// Connections for `sftp://` target folders.
    var remotes: RemoteFolders? = nil

    public struct Summary: Sendable, Equatable {
        public var delivered = 0
        public var failed = 0
        /// Messages that failed in this call (each counts one attempt).
        public var failedIDs: Set<Int64> = []
    }

    static func tempName(_ name: String) -> String { ".\(name).tmp" }

    /// Delivers every message that is due (pending or delivering, and not waiting for a retry).
    @discardableResult
    public func deliverDue(fileID: Int64? = nil, ignoringBackoff: Bool = false, excluding: Set<Int64> = []) throws -> Summary {
        try deliverDue(files: fileID.map { $0...$0 }, ignoringBackoff: ignoringBackoff, excluding: excluding)
    }

    /// The same for the messages of the files whose ids are in `files` (a batch committed
    /// together has consecutive ids). Messages are read a page at a time, so a file that
    /// caused a million messages needs no more memory than one that caused a hundred.
    ///
    /// `firstPage`: the first page of new messages, already being fetched and written by
    /// `writeFirstPage` (the engine starts it right after a batch's commit).
    @discardableResult
    public func deliverDue(files: ClosedRange<Int64>?, ignoringBackoff: Bool = false, excluding: Set<Int64> = [],
                           firstPage: PageWrittenAhead? = nil) throws -> Summary {
        var firstPage = firstPage
        // Not reached (an error before the new messages): its temp files go, as a retry writes them again.
        defer { firstPage?.discard() }
        let now = ignoringBackoff ? "9999" : Timestamp.iso(clock.now())
        var summary = Summary()
        var failedFolders = Set<DeliveryTarget>()
        // Interrupted deliveries first, then new ones, each state in id order. One state at
        // a time, so that the undelivered index (state, id) hands the rows over in order: with
        // both states in one query SQLite sorted every pending row for each page, which made
        // a file of a million orders quadratic.
        for state in [DeliveryState.delivering, .pending] {
            var after: Int64 = 0
            // The next page of new messages, fetched and its temp files written while this
            // page is renamed and marked (see `writeAhead`).
            var ahead: ReadAhead<Result<WrittenPage, Error>>?
            // The first page, when `startDelivering` took it and handed the batch back here.
            var taken: WrittenPage?
            // The last page's batches, renamed, waiting to be marked `delivered`.
            var unrecorded: [RenamedBatch] = []
            if state == .pending, let first = firstPage {
                switch first.source {
                case .ahead(let pending): ahead = pending
                case .taken(let page): taken = page
                }
                firstPage = nil
            }
            defer {
                // Left by an error on this thread: a page written ahead but never taken.
                if let ahead { Self.discard(ahead) }
            }
            while true {
                let written: WrittenPage
                if let page = taken {
                    taken = nil
                    written = page
                } else if let pending = ahead {
                    ahead = nil
                    defer { pending.close() }
                    guard let next = pending.take() else { break }
                    written = try next.get()
                } else {
                    let page = try fetchPage(state: state, after: after, due: now, files: files)
                    written = writePage(page, skipping: failedFolders, excluding: excluding)
                }
                guard let last = written.page.last?.id else { break }
                after = last
                if state == .pending && written.page.count == Self.batchSize && !written.batches.isEmpty {
                    ahead = writeAhead(after: after, due: now, files: files, skipping: failedFolders, excluding: excluding)
                }
                for message in written.page {
                    // One failure in a folder (full, gone, read-only) will fail the rest there too:
                    // leave them for the next retry instead of hammering it.
                    if failedFolders.contains(message.target) || excluding.contains(message.id ?? -1) { continue }
                    if isBatched(message) { continue }
                    do {
                        try deliver(message)
                        summary.delivered += 1
                    } catch {
                        summary.failed += 1
                        summary.failedIDs.insert(message.id ?? -1)
                        failedFolders.insert(message.target)
                        try recordFailure(message, error)
                    }
                }
                let live = written.batches.filter { batch in
                    guard failedFolders.contains(batch.target) else { return true }
                    // Written ahead before its folder failed: the messages stay pending, and
                    // their temp files go, as a retry writes them again.
                    Self.removeTemps(batch)
                    return false
                }
                // The page before's renames recorded and this page marked, in one synced
                // commit instead of two (see `recordAndMark`).
                try recordAndMark(unrecorded, marking: live, into: &summary)
                unrecorded = []
                for batch in live {
                    let renamed = try rename(batch)
                    if renamed.failure != nil { failedFolders.insert(batch.target) }
                    unrecorded.append(renamed)
                }
                if written.page.count < Self.batchSize { break }
            }
            try recordAndMark(unrecorded, marking: [], into: &summary)
        }
        return summary
    }

    /// One transaction for a page of a big delivery: the batches of the page before, renamed
    /// and their folders fsynced, marked `delivered` (their failures recorded), and this
    /// page's batches, their temp files durable, marked `delivering`. Each message passes
    /// through the same states in the same order as with a transaction for each step; a
    /// renamed message only waits longer in `delivering`, which a crash leaves for recovery
    /// as it would any renamed message. A file of 33 334 orders has 33 pages, and a synced
    /// commit cost about 10 ms on the VM where this was measured, while temp files were being
    /// made durable in the same file system.
    ///
    /// `alsoRecording`: written in the same transaction, between the two (`step`'s archive
    /// record).
    private func recordAndMark(_ renamed: [RenamedBatch], alsoRecording other: ((Database) throws -> Void)? = nil,
                               marking batches: [WrittenBatch], into summary: inout Summary) throws {
        let marking = batches.filter { !$0.written.isEmpty }
        guard !renamed.isEmpty || !marking.isEmpty || other != nil else { return }
        for batch in marking { for _ in batch.written { crash.reached(.afterTempWrite) } }
        var delays: [Int64: Double] = [:]
        do {
            try ledger.write { db in
                delays = try record(renamed, in: db)
                try other?(db)
                for batch in marking { try markDelivering(batch, in: db) }
            }
        } catch {
            // Not marked: these messages stay pending, and their temp files go.
            marking.forEach(Self.removeTemps)
            throw error
        }
        recorded(renamed, retryIn: delays, into: &summary)
        if !marking.isEmpty { crash.reached(.afterMarkDelivering) }
    }

    /// Up to `batchSize` undelivered messages in `state` after id `after`, in id order.
    private func fetchPage(state: DeliveryState, after: Int64, due now: String, files: ClosedRange<Int64>?) throws -> [OutboxMessage] {
        try ledger.read { db in
            try OutboxMessage.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM outbox WHERE state != 'delivered' AND state = ? AND id > ?
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                  AND file_id BETWEEN ? AND ?
                ORDER BY id LIMIT ?
                """), arguments: [state, after, now, files?.lowerBound ?? 0, files?.upperBound ?? Int64.max, Self.batchSize])
        }
    }

    /// A page of messages with the first half of the batch protocol done for its new
    /// messages to local folders: temp files written and made durable, nothing recorded.
    /// The rest of the page (interrupted deliveries, remote folders) goes one by one.
    struct WrittenPage {
        var page: [OutboxMessage]
        var batches: [WrittenBatch]
    }

    /// New messages for a local folder go out in batches; interrupted ones and remote
    /// folders one by one.
    private func isBatched(_ message: OutboxMessage) -> Bool {
        message.state == .pending && spool.remoteLocation(for: message.target) == nil
    }

    private func writePage(_ page: [OutboxMessage], skipping failedFolders: Set<DeliveryTarget>, excluding: Set<Int64>) -> WrittenPage {
        var grouped: [DeliveryTarget: [OutboxMessage]] = [:]
        for message in page where isBatched(message) {
            if failedFolders.contains(message.target) || excluding.contains(message.id ?? -1) { continue }
            grouped[message.target, default: []].append(message)
        }
        let batches = DeliveryTarget.allCases.compactMap { target in grouped[target].map { write($0, target: target) } }
        return WrittenPage(page: page, batches: batches)
    }

    /// The next page, fetched and written on a thread of its own while the caller renames
    /// and marks the page before it. Only the protocol's first step runs ahead (temp files
    /// written and made durable, which a crash leaves as pending messages whose temp files a
    /// retry writes again); every mark and rename stays on the caller's thread, in order. A
    /// file of 33 334 orders has 33 pages, and the temp files are a third of their time.
    private func writeAhead(after: Int64, due now: String, files: ClosedRange<Int64>?, skipping failedFolders: Set<DeliveryTarget>,
                            excluding: Set<Int64>, waitingFor renames: DispatchGroup? = nil) -> ReadAhead<Result<WrittenPage, Error>> {
        let deliverer = self
        return ReadAhead(capacity: 1, threadName: "edidrop-deliver-ahead") { handOff in
            renames?.wait()
            let next = Result { try deliverer.fetchPage(state: .pending, after: after, due: now, files: files) }
                .map { deliverer.writePage($0, skipping: failedFolders, excluding: excluding) }
            if !handOff.put(next), case .success(let unused) = next {
                // The caller stopped (an error): leave no temp files behind for these.
                unused.batches.forEach(Self.removeTemps)
            }
        }
    }

    /// The first page of a committed batch's new messages, fetched and written ahead (see
    /// `writeFirstPage`); handed to `deliverDue`, which takes it or removes its temp files.
    public struct PageWrittenAhead {
        fileprivate enum Source {
            case ahead(ReadAhead<Result<WrittenPage, Error>>)
            /// Already taken (by `startDelivering`), its temp files written.
            case taken(WrittenPage)
        }
        fileprivate let source: Source

        /// For a page that will not be delivered now (an error came first): waits for its
        /// writing and removes its temp files; its messages stay pending for a retry.
        public func discard() {
            switch source {
            case .ahead(let ahead): Deliverer.discard(ahead)
            case .taken(let page): page.batches.forEach(Deliverer.removeTemps)
            }
        }
    }

    /// Stops a page's writing ahead, waits for it, and removes the temp files of a page it
    /// wrote that was never taken.
    private static func discard(_ ahead: ReadAhead<Result<WrittenPage, Error>>) {
        for case .success(let page) in ahead.close() { page.batches.forEach(removeTemps) }
    }

    /// Starts fetching and writing the first page of new messages of `files` on a thread of
    /// its own, the protocol's first step only (temp files written and made durable, nothing
    /// recorded), as `writeAhead` does for a big file's next page: the engine starts it after
    /// a batch's commit and claims the next batch meanwhile, then delivers with it.
    ///
    /// `after`: renames into the same folders still under way (`RenamesInFlight.done`),
    /// waited for before the first temp file is created, so that the two never contend for
    /// a folder's lock.
    public func writeFirstPage(files: ClosedRange<Int64>, excluding: Set<Int64>, after: DispatchGroup? = nil) -> PageWrittenAhead {
        PageWrittenAhead(source: .ahead(writeAhead(after: 0, due: Timestamp.iso(clock.now()), files: files, skipping: [],
                                                   excluding: excluding, waitingFor: after)))
    }

    // MARK: A batch's renames on a thread of their own

    /// How `startDelivering` left a batch: delivered here (the general path), or with its
    /// temp files written and durable and nothing marked, for `step`.
    public enum DeliveryStart {
        case finished(Summary)
        case written(WrittenMessages)
    }

    /// A batch's new messages whose temp files are durable, none of them marked yet.
    public struct WrittenMessages {
        fileprivate let batches: [WrittenBatch]

        /// For messages that will not be marked now (an error came first): their temp files
        /// go; they stay pending for a retry.
        public func discard() { batches.forEach(Deliverer.removeTemps) }
    }

    /// A batch's messages between their mark `delivering` and their mark `delivered`: the
    /// renames and the folder's fsync, running on a thread of their own. `step` records
    /// them; `abandon` leaves them marked `delivering`, as a crash would, for recovery
    /// (which finds each renamed or its temp file still there) to finish.
    public final class RenamesInFlight {
        fileprivate let renaming: ReadAhead<Result<[RenamedBatch], Error>>
        /// Left once the renames and the folder's fsync are done, whatever their outcome.
        public let done: DispatchGroup
        private var closed = false

        fileprivate init(renaming: ReadAhead<Result<[RenamedBatch], Error>>, done: DispatchGroup) {
            self.renaming = renaming
            self.done = done
        }

        /// Waits for the renames and records nothing. Once is enough: later calls (after
        /// `step`, or from a caller cleaning up) do nothing.
        public func abandon() {
            guard !closed else { return }
            closed = true
            renaming.close()
        }
    }

    /// The protocol for a committed batch's new messages, split so that its renames run on
    /// a thread of their own while the caller commits the next batch, and so that its marks
    /// share transactions with other batches' (see `step`). Here: the first page taken from
    /// `writeFirstPage`, its temp files durable, nothing marked. Every ledger write stays
    /// with the caller, in order, and each message passes through exactly the states of
    /// `deliverDue`, so recovery is unchanged.
    ///
    /// Only a batch whose new messages fit in one page and all go to local folders takes this
    /// path, and only when none of its messages was interrupted before; anything else is
    /// delivered here by `deliverDue`, as before.
    public func startDelivering(files: ClosedRange<Int64>, excluding: Set<Int64>, firstPage: PageWrittenAhead?) throws -> DeliveryStart {
        guard let firstPage, case .ahead(let ahead) = firstPage.source else {
            return .finished(try deliverDue(files: files, excluding: excluding, firstPage: firstPage))
        }
        let written: WrittenPage
        do {
            defer { ahead.close() }
            guard let next = ahead.take() else {
                return .finished(try deliverDue(files: files, excluding: excluding))
            }
            written = try next.get()
        }
        let simple = written.page.count < Self.batchSize && !written.batches.isEmpty
            && written.page.allSatisfy { isBatched($0) && !excluding.contains($0.id ?? -1) }
        let handedBack = PageWrittenAhead(source: .taken(written))
        let interrupted: Bool
        do {
            interrupted = try !fetchPage(state: .delivering, after: 0, due: "9999", files: files).isEmpty
        } catch {
            handedBack.discard()
            throw error
        }
        guard simple, !interrupted else {
            return .finished(try deliverDue(files: files, excluding: excluding, firstPage: handedBack))
        }
        return .written(WrittenMessages(batches: written.batches))
    }

    /// One ledger transaction between two of the caller's commits, in protocol order for
    /// each message: the batch whose renames are done (`finishing`, waited for) marked
    /// `delivered`, with its failures recorded; whatever `alsoRecording` writes (the
    /// engine's archive record); the next batch (`marking`) marked `delivering`. Then that
    /// batch's renames start on a thread of their own, and are returned. Sharing the
    /// transaction saves two synced commits per batch; a crash before it commits leaves
    /// each part as its own crash would.
    public func step(finishing renames: RenamesInFlight?, marking next: WrittenMessages?,
                     alsoRecording other: ((Database) throws -> Void)? = nil) throws -> (summary: Summary, renaming: RenamesInFlight?) {
        var renamed: [RenamedBatch] = []
        if let renames {
            defer { renames.abandon() }
            // Nil only if the thread was stopped, which only `abandon` does: nothing to record.
            renamed = try renames.renaming.take()?.get() ?? []
        }
        var summary = Summary()
        try recordAndMark(renamed, alsoRecording: other, marking: next?.batches ?? [], into: &summary)
        guard let next, !next.batches.isEmpty else { return (summary, nil) }
        let done = DispatchGroup()
        done.enter()
        let deliverer = self, batches = next.batches
        let renaming = ReadAhead<Result<[RenamedBatch], Error>>(capacity: 1, threadName: "edidrop-rename") { handOff in
            defer { done.leave() }
            _ = handOff.put(Result { try batches.map(deliverer.rename) })
        }
        return (summary, RenamesInFlight(renaming: renaming, done: done))
    }

    /// The temp files of a batch written but not delivered. Its messages stay `pending`
    /// with no attempt counted; a retry writes them again (and would replace a temp file
    /// this leaves behind), so a removal that fails is no loss.
    private static func removeTemps(_ batch: WrittenBatch) {
        removeTemps(of: batch.written, in: batch.folder)
    }

    private static func removeTemps(of messages: some Sequence<OutboxMessage>, in folder: String) {
        for m in messages { try? FileSystem.removeFile(FileSystem.join(folder, tempName(m.name))) }
    }

    /// At most this many messages share one `delivering` and one `delivered` commit.
    public static let batchSize = 1024

    /// The same protocol for a batch of new messages into one local folder, with the
    /// durability work shared: write every temp file, make them all durable together (one
    /// syncfs, see `DurableBatch`), mark them all `delivering` in one transaction, rename
    /// each, fsync the folder once, mark them all `delivered` in one transaction. Each
    /// message passes through exactly the states of the single-message path, so recovery
    /// is the same. `write` does the part before the first mark and records nothing;
    /// `markDelivering`, `rename` and `record` do the rest.
    struct WrittenBatch {
        var target: DeliveryTarget
        var folder: String
        /// The run of messages up to the first failure, their temp files durable.
        var written: [OutboxMessage]
        /// The message that could not be written, or the batch's first message when the
        /// folder itself failed.
        var failure: (message: OutboxMessage, error: Error)?
    }

    private func write(_ batch: [OutboxMessage], target: DeliveryTarget) -> WrittenBatch {
        let folder = spool.folder(for: target)
        do {
            guard try FileSystem.status(folder)?.kind == .directory else {
                throw SystemError("deliver", folder, errno: ENOENT)
            }
            if spool.configuration.folders.requireMount && !FileSystem.isMountPoint(folder) {
                throw SystemError("deliver (require_mount: the share is not mounted)", folder, errno: ENOTCONN)
            }
        } catch {
            return WrittenBatch(target: target, folder: folder, written: [], failure: (batch[0], error))
        }
        let durable = DurableBatch(folder: folder)
        // Creating a file is most of a delivery's cost, and half of it is outside the
        // folder's lock: two threads write the temp files of a large batch. What counts as
        // written is the run of messages up to the first failure, as if written in order.
        let errors = Self.writeTemps(batch, folder: folder, durable: durable)
        var written: [OutboxMessage] = []
        var failure: (message: OutboxMessage, error: Error)?
        for (m, error) in zip(batch, errors) {
            if let error {
                failure = (m, error)
                break
            }
            written.append(m)
        }
        // The failed message and those after it wait for a retry, which writes their temp
        // files again: what was written of them goes now. On a full disk, temp files kept
        // for messages that wait would hold the very room their retry needs.
        Self.removeTemps(of: batch[written.count...], in: folder)
        if !written.isEmpty {
            do {
                try durable.makeDurable()
            } catch {
                Self.removeTemps(of: written, in: folder)
                return WrittenBatch(target: target, folder: folder, written: [], failure: (written[0], error))
            }
        }
        return WrittenBatch(target: target, folder: folder, written: written, failure: failure)
    }

    /// The rest of the batch protocol, in three steps on one or two threads: `markDelivering`
    /// and `record` in the caller's transactions (`recordAndMark`), `rename` (with the
    /// folder's fsync) between them.
    private func markDelivering(_ batch: WrittenBatch, in db: Database) throws {
        guard !batch.written.isEmpty else { return }
        try db.cachedStatement(sql: "UPDATE outbox SET state = 'delivering' WHERE id IN (SELECT value FROM json_each(?))")
            .execute(arguments: [Self.idList(batch.written)])
    }

    /// A batch's messages renamed into place (the run before a failure, which is kept),
    /// the folder made durable, nothing recorded.
    struct RenamedBatch {
        var renamed: [OutboxMessage]
        var failure: (message: OutboxMessage, error: Error)?
    }

    private func rename(_ batch: WrittenBatch) throws -> RenamedBatch {
        var failure = batch.failure
        var renamed: [OutboxMessage] = []
        for m in batch.written {
            do {
                try renameIntoPlace(temp: FileSystem.join(batch.folder, Self.tempName(m.name)),
                                    final: FileSystem.join(batch.folder, m.name), message: m)
                // Held until the next page's transaction records it (`recordAndMark`), so
                // without its content, which nothing after the rename reads: with it, a
                // 1 000 000-line file peaked at 54.0 MiB instead of 45.7.
                var done = m
                done.content = Data()
                renamed.append(done)
                crash.reached(.afterRename)
            } catch {
                if failure == nil { failure = (m, error) }
            }
        }
        if !renamed.isEmpty {
            crash.reached(.beforeFolderSync)
            try FileSystem.syncDirectory(batch.folder)
        }
        return RenamedBatch(renamed: renamed, failure: failure)
    }

    /// In the caller's transaction: each batch's renamed messages marked `delivered`, its
    /// failure counted against its message. Returns each failed message's delay until its
    /// retry, by id, for `recorded`.
    private func record(_ batches: [RenamedBatch], in db: Database) throws -> [Int64: Double] {
        var delays: [Int64: Double] = [:]
        for batch in batches where !batch.renamed.isEmpty { try markDelivered(batch.renamed, in: db) }
        for batch in batches {
            if let (m, error) = batch.failure { delays[m.id ?? -1] = try recordFailure(m, error, in: db) }
        }
        return delays
    }

    /// After that transaction's commit: crash points, logs, counts.
    private func recorded(_ batches: [RenamedBatch], retryIn delays: [Int64: Double], into summary: inout Summary) {
        for batch in batches {
            if !batch.renamed.isEmpty {
                crash.reached(.afterMarkDelivered)
                logDelivered(batch.renamed)
                summary.delivered += batch.renamed.count
            }
            if let (m, error) = batch.failure {
                logFailure(m, error, retryIn: delays[m.id ?? -1] ?? 0)
                summary.failed += 1
                summary.failedIDs.insert(m.id ?? -1)
            }
        }
    }

    /// Writes the temp file of each message; the error of each, nil where it worked.
    static func writeTemps(_ batch: [OutboxMessage], folder: String, durable: DurableBatch) -> [Error?] {
        let results = TempWriteResults(count: batch.count)
        let lanes = batch.count >= 64 ? 2 : 1
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            var i = lane
            while i < batch.count {
                let m = batch[i]
                do {
                    try durable.write(Array(m.content), to: FileSystem.join(folder, tempName(m.name)))
                } catch {
                    results.set(i, error)
                }
                i += lanes
            }
        }
        return results.errors
    }

    func deliver(_ message: OutboxMessage) throws {
        if let location = spool.remoteLocation(for: message.target) {
            guard let remotes else { throw SFTPError(.connect, "no SFTP credentials configured") }
            return try remotes.with(location) { try deliverRemote(message, location: location, over: $0) }
        }
        let folder = spool.folder(for: message.target)
        let temp = FileSystem.join(folder, Self.tempName(message.name))
        let final = FileSystem.join(folder, message.name)
        if message.state == .delivering {
            // A crash after marking: the temp file is complete. If it is gone, the rename
            // already happened (the warehouse may even have taken the file): never write again.
            if try FileSystem.status(temp) != nil {
                try renameIntoPlace(temp: temp, final: final, message: message)
            }
            try FileSystem.syncDirectory(folder)
            try markDelivered(message)
            return
        }
        guard try FileSystem.status(folder)?.kind == .directory else {
            throw SystemError("deliver", folder, errno: ENOENT)
        }
        if spool.configuration.folders.requireMount && !FileSystem.isMountPoint(folder) {
            throw SystemError("deliver (require_mount: the share is not mounted)", folder, errno: ENOTCONN)
        }
        do {
            try FileSystem.writeDurably(Array(message.content), to: temp)
        } catch {
            // The message stays pending; what was written of it holds no room its retry needs.
            try? FileSystem.removeFile(temp)
            throw error
        }
        crash.reached(.afterTempWrite)
        try ledger.write { db in
            try db.execute(sql: "UPDATE outbox SET state = 'delivering' WHERE id = ?", arguments: [message.id])
        }
        crash.reached(.afterMarkDelivering)
        try renameIntoPlace(temp: temp, final: final, message: message)
        crash.reached(.afterRename)
        crash.reached(.beforeFolderSync)
        try FileSystem.syncDirectory(folder)
        try markDelivered(message)
        crash.reached(.afterMarkDelivered)
    }

    /// The same protocol over SFTP: upload under the temp name (fsync@openssh.com where the
    /// server has it), mark `delivering`, rename (plain SFTP rename, which refuses to replace),
    /// mark `delivered`. SFTP has no folder fsync; the rename is the server's.
    private func deliverRemote(_ message: OutboxMessage, location: SFTPLocation, over c: SFTPConnection) throws {
        let temp = RemoteFolders.join(location.path, Self.tempName(message.name))
        let final = RemoteFolders.join(location.path, message.name)
        if message.state == .delivering {
            let t = try c.stat(temp), f = try c.stat(final)
            if t != nil && f == nil {
                try c.rename(temp, final)
            } else if t != nil, f != nil {
                // OpenSSH renames by link + unlink: a cut in between leaves both names on
                // the same bytes. Anything else there is not ours.
                guard try sameContent(c, final, message.content) else {
                    throw DeliveryConflict(name: message.name, folder: location.description)
                }
                try c.remove(temp)
            }
            try markDelivered(message)
            return
        }
        if try c.stat(temp) != nil { try c.remove(temp) }
        try c.upload(Array(message.content), to: temp, exclusive: true)
        crash.reached(.afterTempWrite)
        try ledger.write { db in
            try db.execute(sql: "UPDATE outbox SET state = 'delivering' WHERE id = ?", arguments: [message.id])
        }
        crash.reached(.afterMarkDelivering)
        do {
            try c.rename(temp, final)
        } catch let e as SFTPError where e.kind == .alreadyExists {
            throw DeliveryConflict(name: message.name, folder: location.description)
        }
        crash.reached(.afterRename)
        crash.reached(.beforeFolderSync)
        try markDelivered(message)
        crash.reached(.afterMarkDelivered)
    }

    private func sameContent(_ c: SFTPConnection, _ remote: String, _ content: Data) throws -> Bool {
        guard let entry = try c.stat(remote), entry.size == Int64(content.count) else { return false }
        let local = NSTemporaryDirectory() + "edidrop-compare-\(UUID().uuidString)"
        defer { try? FileSystem.removeFile(local) }
        _ = try c.download(remote, to: local)
        return (try? Data(contentsOf: URL(fileURLWithPath: local))) == content
    }

    private func renameIntoPlace(temp: String, final: String, message: OutboxMessage) throws {
        do {
            try FileSystem.renameNoReplace(from: temp, to: final)
        } catch let e as SystemError where e.errno == EEXIST {
            // Where renames go through link + unlink, a crash between the two leaves the
            // temp name and the final name on the same file: the delivery did happen.
            if let t = try FileSystem.status(temp), let f = try FileSystem.status(final),
               t.inode == f.inode, t.device == f.device {
                try FileSystem.removeFile(temp)
                return
            }
            // Something else already holds the name. Overwriting could replace a file the
            // warehouse has not read yet; keep ours aside and let a person decide.
            throw DeliveryConflict(name: message.name, folder: spool.folder(for: message.target))
        }
    }

    private func markDelivered(_ message: OutboxMessage) throws {
        try ledger.write { db in try markDelivered([message], in: db) }
        logDelivered([message])
    }

    /// The messages' ids as a JSON array, for `json_each` in set-based statements.
    static func idList(_ messages: [OutboxMessage]) -> String {
        "[" + messages.compactMap(\.id).map(String.init).joined(separator: ",") + "]"
    }

    private func markDelivered(_ messages: [OutboxMessage], in db: Database) throws {
        let now = Timestamp.iso(clock.now())
        // Set-based: three statements for the whole batch instead of three per message.
        let ids = Self.idList(messages)
        try db.cachedStatement(sql: """
            UPDATE outbox SET state = 'delivered', delivered_at = ?, last_error = NULL, next_attempt_at = NULL
            WHERE id IN (SELECT value FROM json_each(?))
            """).execute(arguments: [now, ids])
        try db.cachedStatement(sql: """
            UPDATE orders SET status = 'sent', sent_at = ?
            WHERE id IN (SELECT order_ref FROM outbox WHERE id IN (SELECT value FROM json_each(?))) AND status = 'received'
            """).execute(arguments: [now, ids])
        for target in DeliveryTarget.allCases {
            let some = messages.filter { $0.target == target }
            guard !some.isEmpty else { continue }
            let folder = spool.folder(for: target)
            let prefix = spool.isRemote(folder) ? RemoteFolders.join(folder, "") : "\(spool.relative(folder))/"
            try db.cachedStatement(sql: """
                INSERT INTO file_events (file_id, at, event, detail)
                SELECT file_id, ?, 'delivered', ? || name FROM outbox WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id
                """).execute(arguments: [now, prefix, Self.idList(some)])
        }
    }

    /// After the commit: one line per batch at info (a big file causes a million messages);
    /// each message at debug.
    private func logDelivered(_ messages: [OutboxMessage]) {
        if messages.count == 1, let message = messages.first {
            logger.info("delivered", metadata: ["file.id": "\(message.fileId)", "message.name": "\(message.name)"])
        } else if let first = messages.first, let last = messages.last {
            logger.info("delivered", metadata: ["messages": "\(messages.count)", "first": "\(first.name)", "last": "\(last.name)",
                                                "files": "\(first.fileId)…\(last.fileId)"])
            if logger.logLevel <= .debug {
                for message in messages {
                    logger.debug("delivered", metadata: ["file.id": "\(message.fileId)", "message.name": "\(message.name)"])
                }
            }
        }
    }

    private func recordFailure(_ message: OutboxMessage, _ error: Error) throws {
        let delay = try ledger.write { db in try recordFailure(message, error, in: db) }
        logFailure(message, error, retryIn: delay)
    }

    /// Counts the attempt and sets the next one; returns the delay until then.
    private func recordFailure(_ message: OutboxMessage, _ error: Error, in db: Database) throws -> Double {
        let attempts = message.attempts + 1
        // Exponential backoff from 1 s, capped at 5 minutes.
        let delay = min(300.0, pow(2.0, Double(min(attempts - 1, 12))))
        let next = Timestamp.iso(clock.now().addingTimeInterval(delay))
        try db.execute(sql: "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                       arguments: [attempts, "\(error)", next, message.id])
        return delay
    }

    private func logFailure(_ message: OutboxMessage, _ error: Error, retryIn delay: Double) {
        logger.warning("delivery failed; will retry", metadata: [
            "message.name": "\(message.name)", "error": "\(error)", "attempt": "\(message.attempts + 1)", "retry.in": "\(Int(delay))s",
        ])
    }
}

/// The target name is taken by a file edidrop did not put there.
public struct DeliveryConflict: Error, CustomStringConvertible {
    public var name: String
    public var folder: String
    public var description: String {
        "\(folder)/\(name) already exists and was not written by this delivery; it is left untouched"
    }
}

/// Per-message outcomes filled in by the writing threads (each index by one thread).
private final class TempWriteResults: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Error?]

    init(count: Int) { stored = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ error: Error) { lock.withLock { stored[index] = error } }

    var errors: [Error?] { lock.withLock { stored } }
}
