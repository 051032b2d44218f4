import Foundation
import Logging

/// `edidrop validate`: the same reading and rules as `run`, on a file where it lies,
/// against a throwaway ledger (SQLite's private temporary database, deleted when it
/// closes). Nothing of the spool is read or written.
public struct DryRun {
    public struct Result: Sendable {
        public var record: FileRecord
        public var report: RejectionReport
        public var valid: Bool { record.state == .accepted }
    }

    let schemas: CompiledSchemas
    let configuration: SpoolConfiguration
    let channel: Channel

    public init(schemas: CompiledSchemas, configuration: SpoolConfiguration, channel: Channel = .orders) {
        self.schemas = schemas
        self.configuration = configuration
        self.channel = channel
    }

    public func check(path: String) throws -> Result {
        guard let status = try FileSystem.status(path) else {
            throw SystemError("lstat", path, errno: ENOENT)
        }
        let ledger = try Ledger(scratch: ())
        // A spool root that does not exist: name choices look at the disk and find nothing.
        let spool = Spool(root: "/nonexistent/edidrop-dry-run", configuration: configuration)
        let processor = Processor(spool: spool, ledger: ledger, schemas: schemas, clock: SystemClock(),
                                  crash: .disarmed, logger: Logger(label: "edidrop.validate", factory: { _ in SwiftLogNoOpLogHandler() }))
        let claimed = ClaimedFile(channel: channel, name: FileSystem.fileName(of: path), workName: FileSystem.fileName(of: path),
                                  workPath: path, sourcePath: nil, status: status)
        let record = try processor.process(claimed, receivedAt: Date())
        let report = try RejectionReport.load(record, ledger: ledger, original: path)
        return Result(record: record, report: report)
    }
}
