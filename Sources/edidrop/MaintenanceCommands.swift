import ArgumentParser
import EDIDrop
import Foundation

extension Edidrop {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check the ledger against the folders; with --repair, fix what is safe to fix.",
            discussion: "Exit status: 0 nothing found (or everything found was repaired), 1 something needs a person.")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Fix what can be fixed without any risk of sending twice.") var repair = false
        @Flag(help: "Print one JSON document.") var json = false

        func run() throws {
            let spool = try globals.openSpool()
            // Repairs move files: never while a run works on the spool.
            var lock: SpoolLock?
            if repair { lock = try holdLock(spool) }
            defer { withExtendedLifetime(lock) {} }
            let findings = try EDIDrop.Doctor(spool: spool, ledger: try globals.openLedger(spool, readOnly: true),
                                              schemas: try CompiledSchemas(), logger: globals.makeLogger()).examine(repair: repair)
            if json {
                printJSON(.array(findings.map { $0.json() }))
            } else if findings.isEmpty {
                print("the ledger and the folders agree")
            } else {
                for f in findings { print("\(f.repaired ? "repaired" : "found   ")  \(f.code)  \(f.message)") }
            }
            if findings.contains(where: { !$0.repaired }) { throw ExitCode(1) }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Put a ledger backup in place, keeping the exactly-once promise (see README: Restoring a backup).")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "A file written by `edidrop backup`.") var backup: String

        func run() throws {
            let spool = try globals.openSpool()
            let lock = try holdLock(spool)
            defer { withExtendedLifetime(lock) {} }
            let outcome = try EDIDrop.Restore(spool: spool, schemas: try CompiledSchemas(), logger: globals.makeLogger()).restore(from: backup)
            if let r = outcome.replacedLedger { print("the previous ledger was kept as \(r)") }
            print("ledger restored from \(backup)")
            for d in outcome.markedDelivered { print("delivered  \(d) (found in its folder)") }
            for f in outcome.findings where f.repaired { print("repaired   \(f.code)  \(f.message)") }
            for f in outcome.findings where !f.repaired { print("found      \(f.code)  \(f.message)") }
            if !outcome.held.isEmpty {
                print("HELD: \(outcome.held.count) message(s) were pending when the backup was taken and may have gone out since:")
                for h in outcome.held { print("  \(h)") }
                print("Ask the warehouse, then `edidrop release` (send them) or `edidrop release --as-delivered`.")
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "release", abstract: "Decide about messages held after a restore: send them, or record them as delivered.")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Record them as delivered without sending (the warehouse has them).") var asDelivered = false
        @Argument(help: "Message ids (from `edidrop show`); all held messages when none are given.") var ids: [Int64] = []

        func run() throws {
            let spool = try globals.openSpool()
            let released = try EDIDrop.Release(ledger: try globals.openLedger(spool, readOnly: true)).release(ids: ids, asDelivered: asDelivered)
            if released.isEmpty { return print("no held messages") }
            for r in released { print("\(asDelivered ? "recorded as delivered" : "will be sent by the next run"): \(r)") }
        }
    }
}

/// Holds the spool's lock for maintenance, or explains who has it.
func holdLock(_ spool: Spool) throws -> SpoolLock {
    do {
        return try SpoolLock(path: spool.lockPath)
    } catch let failure as SpoolLock.Failure {
        FileHandle.standardError.write(Data("edidrop: \(failure); stop it first\n".utf8))
        throw ExitCode(3)
    }
}
