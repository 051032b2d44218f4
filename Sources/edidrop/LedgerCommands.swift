import ArgumentParser
import EDIDrop
import Foundation

extension Edidrop {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Counts per state, pending deliveries, last activity, problems and what is overdue.",
            discussion: "With --check: exit 1 when anything is overdue, stuck or broken (for cron or monitoring).")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Print one JSON document.") var json = false
        @Flag(help: "Exit 1 when anything is overdue, stuck or broken.") var check = false

        func run() throws {
            let spool = try globals.openSpool()
            let s = try globals.openLedger(spool, readOnly: true).status(spool: spool)
            defer { if check && s.needsAttention { Foundation.exit(1) } }
            if json { return printJSON(s.json()) }
            let accepted = s.filesByState["accepted"] ?? 0, rejected = s.filesByState["rejected"] ?? 0
            print("spool       \(spool.root)")
            print("files       \(accepted) accepted, \(rejected) rejected, \(s.inFlight) in flight")
            print("orders      " + OrderStatus.allCases.map { "\(s.ordersByStatus[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
            print("deliveries  \(s.pendingDeliveries) pending")
            print("last activity \(s.lastActivity ?? "none")")
            if s.workLeftovers > 0 { print("work/       \(s.workLeftovers) file(s) in flight (finished at the next start)") }
            for n in s.notes { print("note: \(n)") }
            print("run         \(s.runActive ? "active" : "not running")")
            for o in s.overdue {
                print("OVERDUE: \(o.message)\(o.orders.isEmpty ? "" : ": " + o.orders.prefix(10).joined(separator: ", ") + (o.orders.count > 10 ? ", …" : ""))")
            }
            for x in s.stuck { print("STUCK: \(x)") }
            for p in s.problems { print("PROBLEM: \(p)") }
            if !s.needsAttention { print("attention   nothing needs attention") }
        }
    }

    struct Files: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "files", abstract: "The ledger's files, newest first.")
        @OptionGroup var globals: GlobalOptions
        @Option(help: "Only files in this state: accepted or rejected.") var state: String?
        @Option(help: "At most this many, newest first (0: all of them).") var limit: Int = 1000
        @Flag(help: "Print one JSON document.") var json = false

        func validate() throws {
            if let state, FileState(rawValue: state) == nil {
                throw ValidationError("--state must be one of: \(FileState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if limit < 0 { throw ValidationError("--limit must be 0 (all) or more") }
        }

        func run() throws {
            let spool = try globals.openSpool()
            let files = try globals.openLedger(spool, readOnly: true).files(state: state.flatMap(FileState.init(rawValue:)),
                                                                             limit: limit == 0 ? -1 : limit)
            if json { return printJSON(.array(files.map { $0.json() })) }
            printFileTable(files)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One file's history: states with times, documents, deliveries, errors.")
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
                    print("  [\(x.id)] \(x.target)/\(x.name)  \(x.state)\(x.deliveredAt.map { " at \($0)" } ?? "")\(x.lastError.map { "  last error: \($0)" } ?? "")")
                }
            }
            let stale = try globals.openLedger(spool, readOnly: true).staleStockLines(fileID: id)
            if !stale.isEmpty {
                print("stale stock lines (older than what was recorded; not applied)")
                for l in stale { print("  line \(l.line)  \(l.sku)  as of \(l.asOf); recorded \(l.recordedAsOf)") }
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
        static let configuration = CommandConfiguration(commandName: "rejected", abstract: "Rejected files and their reports.", subcommands: [List.self, ShowReport.self], defaultSubcommand: List.self)

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
                print(json ? report.json() : report.text(language: spool.configuration.reportLanguage), terminator: "")
            }
        }
    }

    struct Orders: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "orders", abstract: "Orders and their journey to the warehouse and the customer.",
                                                        subcommands: [List.self, ShowOrder.self], defaultSubcommand: List.self)

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "Orders, newest first.")
            @OptionGroup var globals: GlobalOptions
            @Option(help: "Only orders with this status: received, sent or shipped.") var status: String?
            @Flag(help: "Print one JSON document.") var json = false

            func validate() throws {
                if let status, OrderStatus(rawValue: status) == nil {
                    throw ValidationError("--status must be one of: received, sent, shipped")
                }
            }

            func run() throws {
                let spool = try globals.openSpool()
                let orders = try globals.openLedger(spool, readOnly: true).orders(status: status.flatMap(OrderStatus.init(rawValue:)))
                if json { return printJSON(.array(orders.map { $0.json() })) }
                if orders.isEmpty { return print("no orders") }
                print("ORDER                STATUS    RECEIVED                  SENT                      FILE")
                for o in orders {
                    print("\(o.orderID.padding(toLength: 20, withPad: " ", startingAt: 0)) \(o.status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(o.receivedAt)  \((o.sentAt ?? "-").padding(toLength: 24, withPad: " ", startingAt: 0))  \(o.fileName) (\(o.fileID))")
                }
            }
        }

        struct ShowOrder: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "One order's journey.")
            @OptionGroup var globals: GlobalOptions
            @Argument(help: "The order id as the shop wrote it.") var id: String
            @Flag(help: "Print one JSON document.") var json = false

            func run() throws {
                let spool = try globals.openSpool()
                guard let j = try globals.openLedger(spool, readOnly: true).journey(orderID: id) else {
                    FileHandle.standardError.write(Data("edidrop: no order \(id)\n".utf8))
                    throw ExitCode(1)
                }
                if json { return printJSON(j.json()) }
                print("order \(j.orderID): \(j.status)")
                print("  received   \(j.receivedAt) in file \(j.fileID) (\(j.fileName)), line \(j.line)")
                print("  sent       \(j.sentAt ?? "not yet")\(j.warehouseFile.map { " as \($0)" } ?? "")")
                print("  shipped    \(j.shippedAt ?? "not yet")")
                for p in j.parcels {
                    print("  parcel     \(p.tracking)\(p.carrier.map { " (\($0))" } ?? "")\(p.shippedAt.map { " shipped \($0)" } ?? "") from file \(p.fileID)")
                }
                if let o = j.order {
                    print("  to         \(o.customer.name), \(o.shipTo.street), \(o.shipTo.postcode) \(o.shipTo.city), \(o.shipTo.country)")
                    for l in o.lines { print("  line       \(l.quantity) × \(l.sku)\(l.name.map { " \($0)" } ?? "")") }
                }
            }
        }
    }

    struct Stock: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stock", abstract: "Current stock per SKU, as the warehouse last reported it.")
        @OptionGroup var globals: GlobalOptions
        @Flag(help: "Print one JSON document.") var json = false

        func run() throws {
            let spool = try globals.openSpool()
            let stock = try globals.openLedger(spool, readOnly: true).stock()
            if json { return printJSON(.array(stock.map { $0.json() })) }
            if stock.isEmpty { return print("no stock reported yet") }
            print("SKU                  AVAILABLE  RESERVED  AS OF                 FILE")
            for s in stock {
                print("\(s.sku.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(s.available).padding(toLength: 10, withPad: " ", startingAt: 0)) \((s.reserved.map(String.init) ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)) \(s.asOf.padding(toLength: 21, withPad: " ", startingAt: 0)) \(s.fileName) (\(s.fileID))")
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Hand a rejected file back to its input folder to be taken again.")
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
