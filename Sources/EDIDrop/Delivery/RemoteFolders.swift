import Foundation
import SFTPSupport

/// Connections to the SFTP servers that `sftp://` folders name: opened when first needed,
/// kept open, and reopened with backoff after a failure, so that a server that is down
/// costs one quick refusal per retry period instead of a hang per file.
public final class RemoteFolders: @unchecked Sendable {
    let credentials: SFTPCredentials
    let timeout: Double
    private let lock = NSLock()
    private var connections: [String: SFTPConnection] = [:]
    private var retryAt: [String: Date] = [:]
    private var failures: [String: Int] = [:]
    private var lastError: [String: String] = [:]

    public init(credentials: SFTPCredentials, timeout: Double) {
        self.credentials = credentials
        self.timeout = timeout
    }

    static func key(_ l: SFTPLocation) -> String { "\(l.user)@\(l.host):\(l.port)" }

    /// An open connection to the location's server, or the reason there is none now.
    func connection(for location: SFTPLocation) throws -> SFTPConnection {
        let key = Self.key(location)
        return try lock.withLock {
            if let c = connections[key], c.isUsable { return c }
            connections[key] = nil
            if let at = retryAt[key], at > Date() {
                throw SFTPError(.connect, "\(key): not connected (\(lastError[key] ?? "earlier failure")); next attempt in \(Int(at.timeIntervalSinceNow.rounded(.up))) s")
            }
            do {
                let c = try SFTPConnection(location: location, credentials: credentials, timeout: timeout)
                connections[key] = c
                failures[key] = 0
                retryAt[key] = nil
                return c
            } catch {
                let n = (failures[key] ?? 0) + 1
                failures[key] = n
                lastError[key] = "\(error)"
                // 1 s doubling to 60 s between attempts.
                retryAt[key] = Date().addingTimeInterval(min(60, pow(2, Double(min(n - 1, 6)))))
                throw error
            }
        }
    }

    /// Forgets a connection that failed, so the next call opens a new one.
    func drop(_ location: SFTPLocation) {
        lock.withLock {
            connections[Self.key(location)]?.close()
            connections[Self.key(location)] = nil
        }
    }

    /// Runs `body` on the location's connection; a lost connection is dropped so the next
    /// attempt reconnects.
    func with<T>(_ location: SFTPLocation, _ body: (SFTPConnection) throws -> T) throws -> T {
        let c = try connection(for: location)
        do {
            return try body(c)
        } catch let e as SFTPError where e.isConnectionFailure || !c.isUsable {
            drop(location)
            throw e
        }
    }

    public func closeAll() {
        lock.withLock {
            for c in connections.values { c.close() }
            connections = [:]
        }
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }
}
