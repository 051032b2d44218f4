/// Every failure of `SFTPConnection`, with a message a person can act on.
///
/// `description` is the message, so `"\(error)"` prints it. (SFTPSupport does not import
/// Foundation, so the type is not a `LocalizedError`; `localizedDescription` would print
/// Foundation's generic text.)
public struct SFTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// TCP connection, name resolution, SSH handshake or SFTP subsystem start failed.
        case connect
        /// The server's host key is not in known_hosts: refused (strict checking).
        case hostKeyUnknown
        /// known_hosts has a different key for this host (or lists the key as revoked).
        case hostKeyMismatch
        /// The identity file is unusable or the server refused the key.
        case authentication
        case noSuchFile
        case alreadyExists
        case permission
        /// The connection broke (server gone, socket closed). The connection object is
        /// unusable from then on; open a new one.
        case connectionLost
        /// Anything else the server or libssh2 reported (for example SFTP status FAILURE).
        case protocolError
        /// No answer within the connection's timeout. Like `connectionLost`, the
        /// connection is unusable from then on.
        case timeout
        /// Reading or writing the local side of a transfer failed (for example ENOSPC).
        case localFile
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// True when the failure says nothing about the file but about the link: the caller
    /// should reconnect (with backoff) and try again.
    public var isConnectionFailure: Bool {
        switch kind {
        case .connect, .connectionLost, .timeout: return true
        default: return false
        }
    }
}
