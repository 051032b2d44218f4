import EDIDrop
import Foundation
import Hummingbird
import Logging

/// Runs the console as an HTTP server until SIGTERM or SIGINT (then finishes the requests
/// in hand and returns).
public enum WebServer {
    /// `onListening` gets the address actually bound (with `port` 0, the port chosen).
    public static func run(console: WebConsole, host: String, port: Int, logger: Logger,
                           onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void) async throws {
        let app = Application(
            router: console.router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "edidrop"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? port) },
            logger: logger
        )
        try await app.runService()
    }

    /// `http://HOST:PORT/`, with an IPv6 address in brackets.
    public static func url(host: String, port: Int) -> String {
        let h = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "http://\(h):\(port)/"
    }
}
