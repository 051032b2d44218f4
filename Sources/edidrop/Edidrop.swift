import ArgumentParser
import EDIDrop
import Foundation
import Logging

/// Every command names itself (`commandName:`): without it ArgumentParser derives each
/// name from its type with `String(describing:)` on every start, and those first
/// descriptions of 20 types searched the runtime's conformance tables, about 30 million
/// instructions (some 8 ms) before any work began, for `run --once` on two files as for
/// `parse` on a big one (measured with callgrind).
@main
struct Edidrop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edidrop",
        abstract: "Links an online shop to its logistics warehouse through files, exactly once.",
        discussion: "Drop order files into <spool>/inbox; edidrop validates them, records them in its ledger and delivers one file per order into <spool>/outbox.",
        version: "0.1.0",
        subcommands: [Init.self, Run.self, Validate.self, Status.self, Files.self, Show.self,
                      Rejected.self, Retry.self, Orders.self, Stock.self, Backup.self, Restore.self, Release.self, Doctor.self, Schema.self, Serve.self, Parse.self]
    )

    @OptionGroup var globals: GlobalOptions

    /// DESIGN.md: usage errors exit 2 with a one-line reason (ArgumentParser's default is 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
                FileHandle.standardError.write(Data("edidrop: \(message)\n".utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command understands.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The spool folder (default: $EDIDROP_SPOOL or ./spool).", valueName: "dir"))
    var spool: String?

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String?

    @Option(name: .long, help: ArgumentHelp("Log lines as text (default) or json (one object per line).", valueName: "format"))
    var logFormat: String?

    var spoolRoot: String {
        spool ?? ProcessInfo.processInfo.environment["EDIDROP_SPOOL"] ?? "spool"
    }

    /// Loads the spool and its configuration; a bad configuration is a usage error.
    func openSpool() throws -> Spool {
        do {
            return try Spool.open(root: spoolRoot)
        } catch let problem as SpoolConfiguration.Problem {
            throw ValidationError(problem.message)
        }
    }

    /// Opens the ledger of an initialised spool.
    func openLedger(_ spool: Spool, readOnly: Bool = false) throws -> Ledger {
        guard FileManager.default.fileExists(atPath: spool.ledgerPath) || !readOnly else {
            throw ValidationError("no ledger at \(spool.ledgerPath): run 'edidrop --spool \(spoolRoot) init' and 'edidrop run' first")
        }
        return try Ledger(path: spool.ledgerPath)
    }

    func makeLogger() -> Logger {
        let level = (logLevel ?? ProcessInfo.processInfo.environment["EDIDROP_LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? .info
        let json = (logFormat ?? ProcessInfo.processInfo.environment["EDIDROP_LOG_FORMAT"]) == "json"
        var logger = Logger(label: "edidrop") { label -> LogHandler in
            json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
        }
        logger.logLevel = level
        return logger
    }
}

/// Prints one JSON document on stdout.
func printJSON(_ value: JSONValue) {
    print(value.render(pretty: true))
}
