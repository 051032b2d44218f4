import Foundation
import GRDB

/// `edidrop retry ID`: hands a rejected original back to its input folder, so that it is
/// taken again (for example after a configuration change). The old record stays in the
/// ledger as history but no longer counts for duplicate detection.
public struct RetryRequest {
    let spool: Spool
    let ledger: Ledger
    let clock: any Clock

    public init(spool: Spool, ledger: Ledger, clock: any Clock = SystemClock()) {
        self.spool = spool
        self.ledger = ledger
        self.clock = clock
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknown(Int64)
        case notRejected(Int64, FileState)
        case stillInFlight(Int64)
        case originalMissing(String)

        public var description: String {
            switch self {
            case .unknown(let id): return "no file with id \(id)"
            case .notRejected(let id, let s): return "file \(id) was \(s.rawValue), not rejected; only rejected files can be retried"
            case .stillInFlight(let id): return "file \(id) is still being processed; try again after the run has archived it"
            case .originalMissing(let p): return "the original is no longer at \(p)"
            }
        }
    }

    /// Returns the path the file was put back at.
    public func retry(fileID: Int64) throws -> String {
        guard let file = try ledger.fileRecord(id: fileID) else { throw Failure.unknown(fileID) }
        guard file.state == .rejected else { throw Failure.notRejected(fileID, file.state) }
        guard file.archivedAt != nil else { throw Failure.stillInFlight(fileID) }
        let folder = spool.resolve(relative: file.destDir)
        let original = FileSystem.join(folder, file.storedName)
        guard try FileSystem.status(original) != nil else { throw Failure.originalMissing(original) }
        let now = Timestamp.iso(clock.now())
        // Superseded first: a crash before the move leaves a file that can be retried again.
        try ledger.write { db in
            try db.execute(sql: "UPDATE files SET superseded = 1 WHERE id = ?", arguments: [fileID])
            try FileEvent(fileId: fileID, at: now, event: "retried", detail: "handed back to \(spool.relative(spool.inputFolder(for: file.channel)))").insert(db)
        }
        let input = spool.inputFolder(for: file.channel)
        var name = file.name
        var n = 1
        while true {
            do {
                try FileSystem.renameNoReplace(from: original, to: FileSystem.join(input, name))
                break
            } catch let e as SystemError where e.errno == EEXIST {
                n += 1
                name = Processor.numberedName(file.name, id: fileID) + (n > 2 ? "~\(n)" : "")
            }
        }
        try FileSystem.syncDirectory(input)
        for suffix in RejectionReport.fileSuffixes {
            try FileSystem.removeFile(FileSystem.join(folder, file.storedName + suffix))
        }
        try FileSystem.syncDirectory(folder)
        return FileSystem.join(input, name)
    }
}
