import CLibSSH2
import Glibc

/// One SSH connection with its SFTP session, used synchronously.
///
/// - Every call blocks until the server answered, at most `timeout` seconds per wait
///   (libssh2's blocking mode with a session timeout).
/// - Calls are serialised by a mutex: a libssh2 session must never be used by two
///   threads at once. Open several connections for parallel transfers.
/// - After a `connectionLost` or `timeout` error the connection is unusable and every
///   later call fails at once with `connectionLost`: the stream may be cut in the middle
///   of a packet, so the only safe continuation is a new connection (see `isUsable`).
/// - Paths are server paths, absolute or relative to the login directory.
public final class SFTPConnection: @unchecked Sendable {
    public let host: String
    public let port: Int
    public let user: String
    /// Seconds to wait for the server at each step.
    public let timeout: Double

    /// Bytes per libssh2 read/write call. libssh2 pipelines one call's bytes as several SFTP
    /// requests of about 30 kB, so a bigger chunk means fewer round trips; the chunk (plus
    /// libssh2's bounded read-ahead) is all a transfer holds in memory.
    static let chunkSize = 256 * 1024

    private let mutex = PthreadMutex()
    private var socket: Int32 = -1
    private var session: OpaquePointer?
    private var sftp: OpaquePointer?
    /// The first connection-level failure; from then on every call fails.
    private var broken: SFTPError?
    private var closed = false

    /// Connects, checks the server's host key strictly against `credentials.knownHostsFile`
    /// (before anything else is sent), authenticates with the identity file and starts
    /// the SFTP subsystem.
    public init(host: String, port: Int = 22, user: String, credentials: SFTPCredentials, timeout: Double = 30) throws {
        self.host = host
        self.port = port
        self.user = user
        self.timeout = timeout
        try LibSSH2Setup.prepare()
        do {
            try open(credentials)
        } catch {
            teardown()
            throw error
        }
    }

    public convenience init(location: SFTPLocation, credentials: SFTPCredentials, timeout: Double = 30) throws {
        try self.init(host: location.host, port: location.port, user: location.user,
                      credentials: credentials, timeout: timeout)
    }

    deinit {
        teardown()
    }

    /// False once the connection was closed or broke; a caller then opens a new one.
    public var isUsable: Bool {
        mutex.withLock { !closed && broken == nil }
    }

    /// The directory's entries, without "." and "..". Attributes are those of each entry
    /// itself (OpenSSH's server answers READDIR with lstat), so symbolic links are listed
    /// as links. Names that are not UTF-8 are shown with replacement characters.
    public func list(_ directory: String) throws -> [SFTPEntry] {
        try perform("cannot list \(directory)", paths: [directory]) { sftp, what in
            guard let handle = libssh2_sftp_open_ex(sftp, directory, length(directory), 0, 0, LIBSSH2_SFTP_OPENDIR) else {
                throw failure(what)
            }
            defer { closeHandle(handle) }
            let capacity = 4096  // longer than any name a Linux server can hold (255 bytes)
            let name = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
            defer { name.deallocate() }
            var entries: [SFTPEntry] = []
            while true {
                var attributes = LIBSSH2_SFTP_ATTRIBUTES()
                let count = libssh2_sftp_readdir_ex(handle, name, capacity, nil, 0, &attributes)
                if count == 0 { break }
                if count < 0 { throw failure(what) }
                let text = String(decoding: UnsafeRawBufferPointer(start: name, count: Int(count)), as: UTF8.self)
                if text == "." || text == ".." { continue }
                entries.append(Self.entry(text, attributes))
            }
            return entries
        }
    }

    /// The entry at `path` (lstat: a link is reported as a link), nil when nothing is there.
    public func stat(_ path: String) throws -> SFTPEntry? {
        try perform("cannot stat \(path)", paths: [path]) { sftp, what in
            try lstat(sftp, path, what)
        }
    }

    /// Copies the remote file to `localPath` (created or truncated, mode 0644) in chunks,
    /// then fsyncs it, so the bytes are on the local disk when this returns. On any
    /// failure the local file is removed: a partial download never looks like a file.
    /// Returns the number of bytes copied.
    @discardableResult
    public func download(_ remote: String, to localPath: String) throws -> Int64 {
        try perform("cannot download \(remote)", paths: [remote]) { sftp, what in
            guard let handle = libssh2_sftp_open_ex(sftp, remote, length(remote), UInt(LIBSSH2_FXF_READ), 0,
                                                    LIBSSH2_SFTP_OPENFILE) else {
                throw failure(what)
            }
            defer { closeHandle(handle) }

            var fd = Glibc.open(localPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw SFTPError(.localFile, "\(what): cannot create \(localPath): \(errorText(errno))")
            }
            var succeeded = false
            defer {
                if fd >= 0 { Glibc.close(fd) }
                if !succeeded { unlink(localPath) }
            }

            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Self.chunkSize)
            defer { buffer.deallocate() }
            var total: Int64 = 0
            while true {
                let count = libssh2_sftp_read(handle, buffer, Self.chunkSize)
                if count == 0 { break }  // end of file; a cut connection is an error, never 0
                if count < 0 { throw failure(what) }
                try writeAll(fd, UnsafeRawPointer(buffer), count, localPath, what)
                total += Int64(count)
            }
            guard fsync(fd) == 0 else {
                throw SFTPError(.localFile, "\(what): cannot fsync \(localPath): \(errorText(errno))")
            }
            let closeStatus = Glibc.close(fd)
            fd = -1
            guard closeStatus == 0 else {
                throw SFTPError(.localFile, "\(what): cannot close \(localPath): \(errorText(errno))")
            }
            succeeded = true
            return total
        }
    }

    /// Creates `remote` (mode 0644) and writes the bytes. `exclusive` creates with O_EXCL:
    /// it fails with `alreadyExists` when the name is taken; otherwise an existing file is
    /// truncated and replaced. Then fsync (fsync@openssh.com, when the server has it), and
    /// close, whose answer is checked too (a server may report a write error only there).
    /// When the upload fails and the connection still works, the partial file is removed;
    /// after a cut connection it may remain, which is why callers upload under a temporary
    /// name and `rename` afterwards.
    public func upload(_ localBytes: [UInt8], to remote: String, exclusive: Bool) throws {
        try perform("cannot upload \(remote)", paths: [remote]) { sftp, what in
            let flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | (exclusive ? LIBSSH2_FXF_EXCL : LIBSSH2_FXF_TRUNC)
            guard let handle = libssh2_sftp_open_ex(sftp, remote, length(remote), UInt(flags), 0o644,
                                                    LIBSSH2_SFTP_OPENFILE) else {
                let error = failure(what)
                throw exclusive ? existingTarget(sftp, remote, instead: error, what) : error
            }
            var handleOpen = true
            do {
                try localBytes.withUnsafeBufferPointer { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let count = min(Self.chunkSize, bytes.count - offset)
                        let sent = bytes.baseAddress!.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: count) {
                            libssh2_sftp_write(handle, $0, count)
                        }
                        if sent < 0 { throw failure(what) }
                        offset += sent
                    }
                }
                if libssh2_sftp_fsync(handle) != 0 && !lastFailureIs(sftp, status: LIBSSH2_FX_OP_UNSUPPORTED) {
                    throw failure("\(what) (fsync)")
                }
                handleOpen = false
                if libssh2_sftp_close_handle(handle) != 0 {
                    throw failure("\(what) (close)")
                }
            } catch {
                if handleOpen { closeHandle(handle) }
                // A partial file under the target name must not pass for a complete one.
                if broken == nil { _ = libssh2_sftp_unlink_ex(sftp, remote, length(remote)) }
                throw error
            }
        }
    }

    /// Plain SFTP rename (SSH_FXP_RENAME). It never replaces an existing file: OpenSSH's
    /// server links the new name and unlinks the old one, so the rename fails when `to`
    /// exists, and that is reported as `alreadyExists`. The "posix-rename@openssh.com"
    /// extension, which would silently overwrite, is deliberately not used: a delivery
    /// must never destroy a file the other side has not taken yet.
    public func rename(_ from: String, _ to: String) throws {
        try perform("cannot rename \(from) to \(to)", paths: [from, to]) { sftp, what in
            // Flags are only sent from SFTP version 5 on; OpenSSH speaks version 3.
            if libssh2_sftp_rename_ex(sftp, from, length(from), to, length(to), 0) != 0 {
                let error = failure(what)
                throw existingTarget(sftp, to, instead: error, what)
            }
        }
    }

    /// Removes a file (or symbolic link); `noSuchFile` when nothing is there.
    public func remove(_ path: String) throws {
        try perform("cannot remove \(path)", paths: [path]) { sftp, what in
            if libssh2_sftp_unlink_ex(sftp, path, length(path)) != 0 {
                throw failure(what)
            }
        }
    }

    /// Creates a directory (mode 0755); succeeds when a directory of that name exists
    /// already, fails with `alreadyExists` when something else has the name. The parent
    /// must exist.
    public func makeDirectory(_ path: String) throws {
        try perform("cannot create the directory \(path)", paths: [path]) { sftp, what in
            if libssh2_sftp_mkdir_ex(sftp, path, length(path), 0o755) != 0 {
                let error = failure(what)
                // OpenSSH answers EEXIST with the generic FAILURE status: look.
                guard !error.isConnectionFailure, let existing = try lstat(sftp, path, what) else { throw error }
                if existing.isDirectory { return }
                throw SFTPError(.alreadyExists, "\(what): \(path) exists and is not a directory")
            }
        }
    }

    /// Ends the SFTP session and the SSH connection. Safe to call more than once; also
    /// done when the object goes away.
    public func close() {
        mutex.withLock { teardown() }
    }

    // MARK: - Internals

    private var displayName: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private func open(_ credentials: SFTPCredentials) throws {
        socket = try TCPSocket.connect(host: host, port: port, timeout: timeout)
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
            throw SFTPError(.connect, "cannot connect to \(displayName): libssh2 cannot create a session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, Int(timeout * 1000))

        let knownHosts = KnownHosts(path: credentials.knownHostsFile, host: host, port: port)
        let askedKeyTypes = knownHosts.preferKnownKeyTypes(session: session)
        if libssh2_session_handshake(session, socket) != 0 {
            let error = failure("SSH handshake with \(displayName) failed")
            if error.kind == .timeout { throw error }
            var message = error.message
            if !askedKeyTypes.isEmpty {
                message += "; the server was asked for a host key of the type known_hosts lists for it ("
                    + askedKeyTypes.joined(separator: ", ") + ")"
                if askedKeyTypes == ["ssh-rsa"] {
                    // Debian 12's libssh2 1.10 has no rsa-sha2-256/512 host key methods.
                    message += ", but this libssh2 checks RSA host keys only with SHA-1 signatures, which OpenSSH 8.8 "
                        + "and later refuse: record the server's ed25519 or ECDSA key instead"
                }
            }
            throw SFTPError(.connect, message)
        }
        try knownHosts.verify(session: session)
        try authenticate(session, credentials)
        guard let sftp = libssh2_sftp_init(session) else {
            let error = failure("cannot start SFTP on \(displayName)")
            throw error.isConnectionFailure ? error : SFTPError(.connect, error.message + " (is the sftp subsystem enabled on the server?)")
        }
        self.sftp = sftp
    }

    private func authenticate(_ session: OpaquePointer, _ credentials: SFTPCredentials) throws {
        let identity = credentials.identityFile
        // libssh2 reports a missing or unreadable file with the same vague text as a bad
        // passphrase; say which it is.
        guard access(identity, R_OK) == 0 else {
            throw SFTPError(.authentication, "cannot log in to \(displayName) as \(user): identity file \(identity) cannot be read (\(errorText(errno)))")
        }
        // The public half is derived from the private key (nil public key file). An empty
        // passphrase, never NULL: libssh2 hands it to OpenSSL's callback, which would
        // crash on NULL for an encrypted key.
        let status = libssh2_userauth_publickey_fromfile_ex(session, user, length(user), nil, identity,
                                                            credentials.passphrase ?? "")
        if status == 0 { return }
        let error = failure("cannot log in to \(displayName) as \(user)")
        if error.isConnectionFailure { throw error }
        if status == LIBSSH2_ERROR_FILE {
            throw SFTPError(.authentication, "cannot log in to \(displayName) as \(user): identity file \(identity) is unusable "
                            + "(wrong passphrase, or a key format libssh2 cannot read): \(lastErrorMessage(session))")
        }
        throw SFTPError(.authentication, "cannot log in to \(displayName) as \(user): the server refused the key in \(identity) "
                        + "(\(lastErrorMessage(session)))")
    }

    /// Runs one operation under the mutex, on a usable connection, with checked paths.
    /// `what` ("cannot list /x on host:port") starts every message of the operation.
    private func perform<T>(_ action: String, paths: [String],
                            _ body: (OpaquePointer, String) throws -> T) throws -> T {
        try mutex.withLock {
            let what = "\(action) on \(displayName)"
            if closed {
                throw SFTPError(.connectionLost, "\(what): the connection was closed")
            }
            if let broken {
                throw SFTPError(.connectionLost, "\(what): the connection is no longer usable (\(broken.message)); open a new one")
            }
            guard let sftp else { throw SFTPError(.connectionLost, "\(what): not connected") }
            for path in paths where path.isEmpty || path.utf8.contains(0) {
                throw SFTPError(.protocolError, "\(what): the path is empty or contains a NUL byte")
            }
            return try body(sftp, what)
        }
    }

    private func lstat(_ sftp: OpaquePointer, _ path: String, _ what: String) throws -> SFTPEntry? {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        if libssh2_sftp_stat_ex(sftp, path, length(path), LIBSSH2_SFTP_LSTAT, &attributes) != 0 {
            let error = failure(what)
            if error.kind == .noSuchFile { return nil }
            throw error
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return Self.entry(name, attributes)
    }

    /// OpenSSH's server answers an exclusive create or a rename onto an existing name
    /// with the generic FAILURE status (SFTP version 3 has no "already exists" code);
    /// when the name is indeed taken, say so.
    private func existingTarget(_ sftp: OpaquePointer, _ path: String, instead error: SFTPError, _ what: String) -> SFTPError {
        guard error.kind == .protocolError, case .some(.some) = try? lstat(sftp, path, what) else { return error }
        return SFTPError(.alreadyExists, "\(what): \(path) already exists")
    }

    private func lastFailureIs(_ sftp: OpaquePointer, status: UInt) -> Bool {
        guard let session else { return false }
        return libssh2_session_last_errno(session) == LIBSSH2_ERROR_SFTP_PROTOCOL && libssh2_sftp_last_error(sftp) == status
    }

    /// libssh2's last error as an SFTPError. Connection-level failures also mark the
    /// connection broken.
    private func failure(_ what: String) -> SFTPError {
        guard let session else { return SFTPError(.connectionLost, "\(what): not connected") }
        var message: UnsafeMutablePointer<CChar>?
        var messageLength: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &messageLength, 0)
        let detail = message.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "libssh2 error \(code)"
        let error: SFTPError
        switch code {
        case LIBSSH2_ERROR_SFTP_PROTOCOL:
            let status = sftp.map { libssh2_sftp_last_error($0) } ?? LIBSSH2_FX_FAILURE
            error = Self.statusError(status, what)
        case LIBSSH2_ERROR_TIMEOUT:
            error = SFTPError(.timeout, "\(what): no answer within \(seconds(timeout)) (\(detail))")
        case LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND,
             LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
             LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_BAD_SOCKET, LIBSSH2_ERROR_CHANNEL_CLOSED,
             LIBSSH2_ERROR_CHANNEL_EOF_SENT, LIBSSH2_ERROR_CHANNEL_FAILURE, LIBSSH2_ERROR_INVALID_MAC,
             LIBSSH2_ERROR_DECRYPT, LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE,
             LIBSSH2_ERROR_PROTO:
            // The transport is gone or can no longer be trusted to be in step.
            error = SFTPError(.connectionLost, "\(what): connection lost (\(detail))")
        default:
            error = SFTPError(.protocolError, "\(what): \(detail)")
        }
        if error.isConnectionFailure && broken == nil {
            broken = error
            // Every later libssh2 call on this session (closing handles, the final
            // teardown) now fails at once instead of waiting out the timeout again.
            if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
        }
        return error
    }

    private static func statusError(_ status: UInt, _ what: String) -> SFTPError {
        switch status {
        case LIBSSH2_FX_NO_SUCH_FILE, LIBSSH2_FX_NO_SUCH_PATH:
            return SFTPError(.noSuchFile, "\(what): no such file or directory")
        case LIBSSH2_FX_PERMISSION_DENIED, LIBSSH2_FX_WRITE_PROTECT:
            return SFTPError(.permission, "\(what): permission denied")
        case LIBSSH2_FX_FILE_ALREADY_EXISTS:
            return SFTPError(.alreadyExists, "\(what): it already exists")
        case LIBSSH2_FX_NO_CONNECTION, LIBSSH2_FX_CONNECTION_LOST:
            return SFTPError(.connectionLost, "\(what): connection lost")
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
            return SFTPError(.protocolError, "\(what): no space left on the server")
        case LIBSSH2_FX_QUOTA_EXCEEDED:
            return SFTPError(.protocolError, "\(what): quota exceeded on the server")
        case LIBSSH2_FX_OP_UNSUPPORTED:
            return SFTPError(.protocolError, "\(what): the server does not support this operation")
        case LIBSSH2_FX_FAILURE:
            return SFTPError(.protocolError, "\(what): the server reported a failure (SFTP status FAILURE)")
        default:
            return SFTPError(.protocolError, "\(what): the server answered with SFTP status \(status)")
        }
    }

    /// Closing a handle on a broken connection is skipped: the socket is shut down and the
    /// handle goes away with the session.
    private func closeHandle(_ handle: OpaquePointer) {
        if broken == nil { _ = libssh2_sftp_close_handle(handle) }
    }

    private func writeAll(_ fd: Int32, _ start: UnsafeRawPointer, _ count: Int, _ path: String, _ what: String) throws {
        var done = 0
        while done < count {
            let written = Glibc.write(fd, start + done, count - done)
            if written < 0 {
                if errno == EINTR { continue }
                throw SFTPError(.localFile, "\(what): cannot write \(path): \(errorText(errno))")
            }
            done += written
        }
    }

    private func teardown() {
        if closed { return }
        closed = true
        if let sftp {
            libssh2_sftp_shutdown(sftp)
            self.sftp = nil
        }
        if let session {
            if broken == nil {
                libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "closing", "")
            }
            libssh2_session_free(session)
            self.session = nil
        }
        if socket >= 0 {
            Glibc.close(socket)
            socket = -1
        }
    }

    private static func entry(_ name: String, _ attributes: LIBSSH2_SFTP_ATTRIBUTES) -> SFTPEntry {
        let flags = attributes.flags
        let hasPermissions = flags & UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0
        let mode = hasPermissions ? UInt32(truncatingIfNeeded: attributes.permissions) : 0
        let type = mode & UInt32(LIBSSH2_SFTP_S_IFMT)
        return SFTPEntry(
            name: name,
            size: flags & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0 ? Int64(truncatingIfNeeded: attributes.filesize) : 0,
            modified: flags & UInt(LIBSSH2_SFTP_ATTR_ACMODTIME) != 0 ? Int64(truncatingIfNeeded: attributes.mtime) : 0,
            permissions: mode & 0o7777,
            isRegularFile: hasPermissions && type == UInt32(LIBSSH2_SFTP_S_IFREG),
            isDirectory: hasPermissions && type == UInt32(LIBSSH2_SFTP_S_IFDIR),
            isSymlink: hasPermissions && type == UInt32(LIBSSH2_SFTP_S_IFLNK))
    }
}

/// A Swift string's length in bytes as libssh2's `unsigned int` length arguments want it.
private func length(_ text: String) -> UInt32 {
    UInt32(text.utf8.count)
}
