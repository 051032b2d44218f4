import ArgumentParser
import EDIDrop
import Foundation

extension Edidrop {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts per state, pending deliveries, last activity and problems.")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Print one JSON document.") var json = false

        func run() throws {
            let spool = try globals.openSpool()
            let s = try globals.openLedger(spool, readOnly: true).status(spool: spool)
            if json { return printJSON(s.json()) }
            let accepted = s.filesByState["accepted"] ?? 0, rejected = s.filesByState["rejected"] ?? 0
            print("spool       \(spool.root)")
            print("files       \(accepted) accepted, \(rejected) rejected, \(s.inFlight) in flight")
            print("orders      " + OrderStatus.allCases.map { "\(s.ordersByStatus[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
            print("deliveries  \(s.pendingDeliveries) pending")
            print("last activity \(s.lastActivity ?? "none")")
            if s.workLeftovers > 0 { print("work/       \(s.workLeftovers) file(s) in flight (finished at the next start)") }
            for n in s.notes { print("note: \(n)") }
            if s.problems.isEmpty { print("problems    none") }
            for p in s.problems { print("PROBLEM: \(p)") }
        }
    }

    struct Files: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The ledger's files, newest first.")
        @OptionGroup var globals: GlobalOptions
        @Option(help: "Only files in this state: accepted or rejected.") var state: String?
        @Flag(help: "Print one JSON document.") var json = false

        func validate() throws {
            if let state, FileState(rawValue: state) == nil {
                throw ValidationError("--state must be one of: \(FileState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let spool = try globals.openSpool()
            let files = try globals.openLedger(spool, readOnly: true).files(state: state.flatMap(FileState.init(rawValue:)))
            if json { return printJSON(.array(files.map { $0.json() })) }
            printFileTable(files)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One file's history: states with times, documents, deliveries, errors.")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "The file's ledger id.") var id: Int64
        @Flag(help: "Print one JSON document.") var json = false

        func run() throws {
            let spool = try globals.openSpool()
            guard let d = try globals.openLedger(spool, readOnly: true).detail(fileID: id) else {
                FileHandle.standardError.write(Data("edidrop: no file with id \(id)\n".utf8))
                throw ExitCode(1)
            }
            if json { return printJSON(d.json()) }
            let f = d.record
            print("file \(f.id ?? 0): \(f.name) (\(f.channel.rawValue))")
            print("  state      \(f.state.rawValue)\(f.archivedAt == nil ? ", in flight" : "")")
            print("  stored as  \(f.destDir)/\(f.storedName)")
            if let fmt = f.format { print("  format     \(fmt), \(f.encoding ?? "?")") }
            if let sha = f.sha256 { print("  sha256     \(sha)") }
            print("  size       \(f.size) bytes")
            print("history")
            for e in d.events { print("  \(e.at)  \(e.event)\(e.detail.map { "  \($0)" } ?? "")") }
            if !d.orders.isEmpty {
                print("orders")
                for o in d.orders { print("  \(o.orderID)  \(o.status)  (line \(o.line))") }
            }
            if !d.deliveries.isEmpty {
                print("deliveries")
                for x in d.deliveries {
                    print("  \(x.target)/\(x.name)  \(x.state)\(x.deliveredAt.map { " at \($0)" } ?? "")\(x.lastError.map { "  last error: \($0)" } ?? "")")
                }
            }
            if !d.diagnostics.isEmpty {
                print("errors (\(f.errorCount))")
                for e in d.diagnostics {
                    let place = [e.line.map { "line \($0)" }, e.column.map { "column \($0)" }, e.field].compactMap { $0 }.joined(separator: ", ")
                    print("  \(e.code.rawValue)  \(place): \(e.message)\(e.value.map { " (value \"\($0)\")" } ?? "")")
                }
            }
        }
    }

    struct Rejected: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rejected files and their reports.", subcommands: [List.self, ShowReport.self], defaultSubcommand: List.self)

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List rejected files, newest first.")
            @OptionGroup var globals: GlobalOptions
            @Flag(help: "Print one JSON document.") var json = false

            func run() throws {
                let spool = try globals.openSpool()
                let files = try globals.openLedger(spool, readOnly: true).files(state: .rejected)
                if json { return printJSON(.array(files.map { $0.json() })) }
                printFileTable(files)
            }
        }

        struct ShowReport: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a rejected file's report.")
            @OptionGroup var globals: GlobalOptions
            @Argument(help: "The file's ledger id.") var id: Int64
            @Flag(help: "Print the JSON report.") var json = false

            func run() throws {
                let spool = try globals.openSpool()
                let ledger = try globals.openLedger(spool, readOnly: true)
                guard let f = try ledger.fileRecord(id: id), f.state == .rejected else {
                    FileHandle.standardError.write(Data("edidrop: no rejected file with id \(id)\n".utf8))
                    throw ExitCode(1)
                }
                let original = f.archivedAt == nil
                    ? FileSystem.join(spool.workFolder(for: f.channel), f.workName)
                    : FileSystem.join(spool.resolve(relative: f.destDir), f.storedName)
                let report = try RejectionReport.load(f, ledger: ledger, original: original)
                print(json ? report.json() : report.text(), terminator: "")
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand a rejected file back to its input folder to be taken again.")
        @OptionGroup var globals: GlobalOptions
        @Argument(help: "The rejected file's ledger id.") var id: Int64

        func run() throws {
            let spool = try globals.openSpool()
            do {
                let path = try RetryRequest(spool: spool, ledger: try globals.openLedger(spool, readOnly: true)).retry(fileID: id)
                print("file \(id) handed back as \(path); the next run takes it")
            } catch let failure as RetryRequest.Failure {
                FileHandle.standardError.write(Data("edidrop: \(failure)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

func printFileTable(_ files: [FileSummary]) {
    if files.isEmpty { return print("no files") }
    print("ID     STATE     DOCS  ERRORS  RECEIVED                  NAME")
    for s in files {
        let f = s.record
        let id = String(f.id ?? 0).padding(toLength: 6, withPad: " ", startingAt: 0)
        let state = (f.state.rawValue + (f.archivedAt == nil ? "*" : "")).padding(toLength: 9, withPad: " ", startingAt: 0)
        let docs = String(f.documents).padding(toLength: 5, withPad: " ", startingAt: 0)
        let errors = String(f.errorCount).padding(toLength: 7, withPad: " ", startingAt: 0)
        print("\(id) \(state) \(docs) \(errors) \(f.receivedAt)  \(f.name)")
    }
}
