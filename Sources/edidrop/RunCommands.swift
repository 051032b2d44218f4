import ArgumentParser
import EDIDrop
import Foundation
import Logging

extension Edidrop {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "init", abstract: "Create the spool folders and a commented edidrop.toml.")
        @OptionGroup var globals: GlobalOptions

        func run() throws {
            let spool = try globals.openSpool()
            try spool.createFolders()
            if !FileManager.default.fileExists(atPath: spool.configurationPath) {
                try Spool.configurationTemplate.write(toFile: spool.configurationPath, atomically: true, encoding: .utf8)
            }
            _ = try Ledger(path: spool.ledgerPath)
            print("spool ready at \(spool.root)")
            print("drop order files into \(spool.inbox) and run: edidrop --spool \(globals.spoolRoot) run")
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Watch the input folders and process files until stopped (SIGTERM/SIGINT).",
            discussion: "With --once: recover, handle every file present at start (waiting for each to settle), deliver, exit.")
        @OptionGroup var globals: GlobalOptions

        @Flag(help: "One pass, then exit.")
        var once = false

        @Option(help: ArgumentHelp("Seconds a file must stay unchanged before it is taken (overrides edidrop.toml).", valueName: "seconds"))
        var settle: Double?

        func validate() throws {
            if let settle, !(settle >= 0 && settle.isFinite) { throw ValidationError("--settle must be a number ≥ 0") }
        }

        func run() throws {
            let spool = try globals.openSpool()
            let logger = globals.makeLogger()
            try spool.createFolders()
            let lock: SpoolLock
            do {
                lock = try SpoolLock(path: spool.lockPath)
            } catch let failure as SpoolLock.Failure {
                FileHandle.standardError.write(Data("edidrop: \(failure)\n".utf8))
                throw ExitCode(3)
            }
            defer { withExtendedLifetime(lock) {} }
            var crash = CrashSwitch.disarmed
            if let spec = ProcessInfo.processInfo.environment[CrashSwitch.environmentVariable] {
                guard let armed = CrashSwitch(specification: spec) else {
                    throw ValidationError("\(CrashSwitch.environmentVariable)=\(spec) names no crash point")
                }
                crash = armed
            }
            let stop = StopFlag()
            let signals = SignalWatcher(stop: stop)
            defer { withExtendedLifetime(signals) {} }
            // Progress on a terminal only: never into a pipe or a log file.
            let progress = once && isatty(STDERR_FILENO) == 1 ? ProgressSink(show: TerminalProgress.show) : nil
            let engine = Engine(spool: spool, ledger: try Ledger(path: spool.ledgerPath), schemas: try CompiledSchemas(),
                                crash: crash, logger: logger, stop: stop, progress: progress)
            let settle = self.settle ?? spool.configuration.intake.settle
            if once {
                let s = try engine.runOnce(settle: settle)
                var line = "edidrop: \(s.accepted) accepted, \(s.rejected) rejected, \(s.delivered) delivered"
                if s.recovered > 0 { line += ", \(s.recovered) recovered" }
                if s.deliveryFailures > 0 { line += ", \(s.deliveryFailures) deliveries waiting for retry" }
                if !s.skippedUnsettled.isEmpty { line += ", \(s.skippedUnsettled.count) still changing (left for next run)" }
                print(line)
            } else {
                try engine.runUntilStopped(settle: settle)
            }
        }
    }

    /// Not part of the product's interface (hidden from help): the benchmark's measure of
    /// parsing alone, against `xmllint --stream`.
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "parse",
            abstract: "Read files as edidrop does (encoding, format, schema, records) without rules or ledger; for benchmarks.",
            shouldDisplay: false)
        @OptionGroup var globals: GlobalOptions

        @Option(help: "The folder the files would arrive in: orders or warehouse.")
        var channel: String = "orders"

        @Flag(help: "Also compute the content hash, as a run does before it parses (for comparison).")
        var contentHash = false

        @Argument(help: "Files to read.")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one file") }
            if Channel(rawValue: channel) == nil { throw ValidationError("--channel must be orders or warehouse") }
        }

        func run() throws {
            let configuration = (try? SpoolConfiguration.load(from: FileSystem.join(globals.spoolRoot, "edidrop.toml"))) ?? SpoolConfiguration()
            let schemas = try CompiledSchemas()
            for path in files {
                // No content hash unless asked: it serves the ledger's duplicate check, and
                // nothing is recorded here.
                let identity = try FileIdentity.read(path: path, fallbackEncoding: configuration.intake.fallbackEncoding,
                                                     contentHash: contentHash)
                let result = DocumentOpener.parseOnly(path: path, identity: identity, channel: Channel(rawValue: channel)!,
                                                      schemas: schemas, configuration: configuration)
                print("\(path): \(result.format?.rawValue ?? "unreadable"), \(result.records) records, \(result.findings) findings")
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Dry run: parse and check files on their own, print the report, touch nothing.",
            discussion: "Exit status: 0 all valid, 1 some invalid, 2 unusable arguments or unreadable file.")
        @OptionGroup var globals: GlobalOptions

        @Flag(help: "Print one JSON document.")
        var json = false

        @Argument(help: "Files to check.")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one file") }
        }

        func run() throws {
            let configuration: SpoolConfiguration
            do {
                configuration = try SpoolConfiguration.load(from: FileSystem.join(globals.spoolRoot, "edidrop.toml"))
            } catch let p as SpoolConfiguration.Problem {
                throw ValidationError(p.message)
            }
            let schemas = try CompiledSchemas()
            let dry = DryRun(schemas: schemas, configuration: configuration)
            var invalid = false
            var unreadable = false
            var documents: [JSONValue] = []
            for path in files {
                guard let status = try? FileSystem.status(path), status.kind != .directory else {
                    FileHandle.standardError.write(Data("edidrop: \(path): no such file\n".utf8))
                    unreadable = true
                    continue
                }
                let result = try dry.check(path: path)
                let r = result.record
                if r.errorCount > 0, result.report.diagnostics.first?.code == .unreadable { unreadable = true }
                let format = r.format.map { DocumentFormat(rawValue: $0)?.title ?? $0 }
                let identity = try? FileIdentity.read(path: path, fallbackEncoding: configuration.intake.fallbackEncoding)
                // The ledger keeps the encoding's name; whether the bytes proved it (BOM,
                // valid UTF-8) or it is the configured fallback is said here. An XML file's
                // own declaration, already noted in the record, stands as it is.
                var encoding = r.encoding
                if let identity, r.encoding == identity.encoding.encoding.rawValue { encoding = identity.encoding.description }
                // Orders that are read but deliberately not sent are no error, so the dry
                // run's record does not carry them; the reader lists them on a second look.
                var skipped: [SkippedOrder] = []
                if r.format == DocumentFormat.shopifyOrdersCSV.rawValue, let identity {
                    skipped = DocumentOpener.skippedOrders(path: path, identity: identity, channel: .orders,
                                                           schemas: schemas, configuration: configuration)
                }
                if json {
                    var document = JSONObject()
                    if case .object(let report) = result.report.jsonValue() {
                        for (key, value) in report.entries { document.add(key, value) }
                    }
                    document.add("formatTitle", format.map(JSONValue.string) ?? .null)
                    document.add("encodingDescription", encoding.map(JSONValue.string) ?? .null)
                    document.add("encodingFallback", .bool(identity?.encoding.fallbackUsed == true && r.encoding == identity?.encoding.encoding.rawValue))
                    document.add("valid", .bool(result.valid))
                    document.add("documents", .int(r.documents))
                    document.add("skippedOrders", .array(skipped.map { s in
                        var o = JSONObject()
                        o.add("orderId", .string(s.id))
                        o.add("line", .int(s.line))
                        o.add("reason", .string(s.reason))
                        return .object(o)
                    }))
                    documents.append(.object(document))
                } else {
                    // Format and encoding first, valid or not: a file read with the wrong
                    // encoding or taken for the wrong layout explains most surprises.
                    let detected = "\(format ?? "format not recognised"), \(encoding ?? "encoding unknown")"
                    let note = SkippedOrder.summary(skipped).map { "; \($0)" } ?? ""
                    if result.valid {
                        print("\(path): valid — \(detected), \(r.documents) order\(r.documents == 1 ? "" : "s")\(note)")
                    } else {
                        print("\(path): INVALID — \(detected)\(note)")
                        print(result.report.text(language: configuration.reportLanguage))
                    }
                }
                if !result.valid { invalid = true }
            }
            if json { printJSON(.array(documents)) }
            if unreadable { throw ExitCode(2) }
            if invalid { throw ExitCode(1) }
        }
    }

    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "backup", abstract: "Write a consistent copy of the ledger, safe while run is working.")
        @OptionGroup var globals: GlobalOptions

        @Argument(help: "Where to write the copy (must not exist).")
        var destination: String

        func run() throws {
            let spool = try globals.openSpool()
            if FileManager.default.fileExists(atPath: destination) {
                throw ValidationError("\(destination) already exists; name a new file")
            }
            let ledger = try globals.openLedger(spool, readOnly: true)
            try ledger.backup(to: destination)
            print("ledger copied to \(destination)")
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "schema", abstract: "Print an XML schema that ships with edidrop (orders).")
        @Argument(help: "orders") var name: String = "orders"

        func run() throws {
            guard let xsd = Schemas.all[name] else {
                throw ValidationError("no schema \"\(name)\"; known: \(Schemas.all.keys.sorted().joined(separator: ", "))")
            }
            print(xsd, terminator: "")
        }
    }
}

/// One status line on stderr, rewritten in place: records, MB/s, errors so far.
enum TerminalProgress {
    static func show(_ p: ProgressUpdate) {
        let mb = Double(p.bytesRead) / 1_048_576, total = Double(p.totalBytes) / 1_048_576
        let percent = p.totalBytes > 0 ? Int(Double(p.bytesRead) * 100 / Double(p.totalBytes)) : 100
        var line = String(format: "%@: %d records, %.1f of %.1f MB (%d%%), %.1f MB/s, %d error%@",
                          p.fileName, p.records, mb, total, percent, p.megabytesPerSecond, p.errors, p.errors == 1 ? "" : "s")
        if line.count > 110 { line = String(line.suffix(110)) }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (p.finished ? "\n" : "")).utf8))
    }
}

/// Turns SIGTERM and SIGINT into a stop request: the file in hand is finished first.
final class SignalWatcher {
    private var sources: [DispatchSourceSignal] = []

    init(stop: StopFlag) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.stop() }
            source.resume()
            sources.append(source)
        }
    }
}
