/// What authenticates the client and the server. Only public-key authentication is
/// supported: an unattended daemon has no one to type a password.
public struct SFTPCredentials: Sendable, Equatable {
    /// Private key file (OpenSSH or PEM format); its public half is derived from it.
    public var identityFile: String
    /// OpenSSH known_hosts file (plain or hashed host names). The server's host key must be
    /// listed in it for the server's name ("[HOST]:PORT" when the port is not 22).
    public var knownHostsFile: String
    /// Passphrase of the identity file, when it is encrypted.
    public var passphrase: String?

    public init(identityFile: String, knownHostsFile: String, passphrase: String? = nil) {
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
        self.passphrase = passphrase
    }
}

/// One remote directory entry or `stat` result. Attributes are those of the entry itself
/// (lstat): a symbolic link is reported as a link, never as what it points to, so that a
/// caller never takes a link for a file.
public struct SFTPEntry: Sendable, Equatable {
    /// The entry's name (for `stat`, the last component of the path asked for).
    public var name: String
    /// Size in bytes (0 when the server did not say).
    public var size: Int64
    /// Modification time, seconds since 1970 (0 when the server did not say).
    public var modified: Int64
    /// Permission bits (e.g. 0o644), without the file type.
    public var permissions: UInt32
    public var isRegularFile: Bool
    public var isDirectory: Bool
    public var isSymlink: Bool

    public init(name: String, size: Int64, modified: Int64, permissions: UInt32 = 0,
                isRegularFile: Bool, isDirectory: Bool, isSymlink: Bool) {
        self.name = name
        self.size = size
        self.modified = modified
        self.permissions = permissions
        self.isRegularFile = isRegularFile
        self.isDirectory = isDirectory
        self.isSymlink = isSymlink
    }
}
