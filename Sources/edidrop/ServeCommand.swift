import ArgumentParser
import EDIDrop
import EDIDropWeb
import Foundation

extension Edidrop {
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the web console: dashboard, files and reports, orders, stock, JSON under /api/ and /metrics.",
            discussion: """
            Bound to 127.0.0.1 by default. Any other address requires a token (--token, $EDIDROP_WEB_TOKEN or [web] token \
            in edidrop.toml, in that order), and every request must then carry it: Authorization: Bearer TOKEN, or a \
            browser visits /?token=TOKEN once. Stop with Ctrl-C or SIGTERM.
            """)

        @OptionGroup var globals: GlobalOptions
        @Option(help: ArgumentHelp("The address to listen on.", valueName: "address")) var host = "127.0.0.1"
        @Option(help: ArgumentHelp("The port to listen on (0: any free port, printed at start).", valueName: "port")) var port = 8470
        @Option(help: ArgumentHelp("The token every request must carry (prefer $EDIDROP_WEB_TOKEN: arguments are visible to other users).",
                                   valueName: "token"))
        var token: String?

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        }

        func run() throws {
            let spool = try globals.openSpool()
            let chosen = [token, ProcessInfo.processInfo.environment["EDIDROP_WEB_TOKEN"], spool.configuration.web.token]
                .compactMap { $0 }.first { !$0.isEmpty }
            let access: WebAccess
            do {
                access = try WebAccess.check(host: host, token: chosen)
            } catch let refusal as WebAccess.Refusal {
                throw ValidationError(refusal.message)
            }
            let ledger = try globals.openLedger(spool, readOnly: true)
            let logger = globals.makeLogger()
            let console = WebConsole(spool: spool, ledger: ledger, access: access, logger: logger)
            let outcome = Outcome()
            let done = DispatchSemaphore(value: 0)
            Task.detached {
                do {
                    try await WebServer.run(console: console, host: host, port: port, logger: logger) { host, port in
                        print("edidrop web console for \(spool.root) on \(WebServer.url(host: host, port: port))"
                              + (access.token == nil ? "" : " (token required)"))
                        fflush(stdout)
                    }
                } catch {
                    outcome.set(error)
                }
                done.signal()
            }
            done.wait()
            if let error = outcome.error {
                FileHandle.standardError.write(Data("edidrop: the web console stopped: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }

        /// The server task's error, handed to the waiting thread.
        final class Outcome: @unchecked Sendable {
            private let lock = NSLock()
            private var stored: Error?
            var error: Error? { lock.withLock { stored } }
            func set(_ e: Error) { lock.withLock { stored = e } }
        }
    }
}
