import CLibSSH2
import Glibc

/// Strict host-key checking against an OpenSSH known_hosts file, as
/// `ssh -o StrictHostKeyChecking=yes` does it: a key that is not listed, or that differs
/// from the listed one, is refused; nothing is ever added to the file.
struct KnownHosts {
    let path: String
    /// The server's name as OpenSSH writes it in known_hosts: "HOST" for port 22,
    /// "[HOST]:PORT" otherwise. Only that name is looked up (libssh2's own port handling
    /// would also accept a plain "HOST" entry for another port, which OpenSSH does not).
    let entryName: String
    /// "HOST:PORT", for messages.
    let displayName: String
    private var lines: [String] = []
    /// Why the file could not be read, when it could not.
    private var problem: String?

    init(path: String, host originalHost: String, port: Int) {
        // OpenSSH lower-cases host names before it looks them up or records them.
        let host = originalHost.lowercased()
        self.path = path
        entryName = port == 22 ? host : "[\(host)]:\(port)"
        displayName = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard let file = fopen(path, "r") else {
            problem = errno == ENOENT ? "does not exist" : "cannot be read (\(errorText(errno)))"
            return
        }
        defer { fclose(file) }
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        while getline(&buffer, &capacity, file) >= 0, let buffer {
            lines.append(String(cString: buffer))
        }
    }

    /// Called before the handshake: asks the server for a host key of a type that
    /// known_hosts already lists for it. Without this, a server with several host keys
    /// (ed25519, ecdsa, rsa) may present one whose type is not the one recorded, and a
    /// perfectly known server would be refused as unknown. Returns the key types asked
    /// for (empty when libssh2's default order stays), for the message of a failed
    /// handshake.
    @discardableResult
    func preferKnownKeyTypes(session: OpaquePointer) -> [String] {
        guard problem == nil, let list = makeList(session: session) else { return [] }
        defer { libssh2_knownhost_free(list.hosts) }
        var known = Set<Int32>()
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        var previous: UnsafeMutablePointer<libssh2_knownhost>?
        while libssh2_knownhost_get(list.hosts, &entry, previous) == 0, let current = entry {
            previous = current
            let keyType = current.pointee.typemask & Int32(LIBSSH2_KNOWNHOST_KEY_MASK)
            guard KeyType(knownHostMask: keyType) != nil, let key = current.pointee.key else { continue }
            // Hashed host names cannot be compared by name; asking libssh2 whether this
            // entry's own key matches our name works for plain and hashed entries alike.
            let result = libssh2_knownhost_checkp(list.hosts, entryName, -1, key, 0,
                                                  LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64 | keyType, nil)
            if result == LIBSSH2_KNOWNHOST_CHECK_MATCH { known.insert(keyType) }
        }
        let types = KeyType.all.filter { known.contains($0.knownHostMask) }
        guard !types.isEmpty else { return [] }
        // Unsupported names are dropped by libssh2; a failure leaves its default order,
        // and the check after the handshake still decides.
        let status = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY,
                                                 types.flatMap(\.algorithms).joined(separator: ","))
        return status == 0 ? types.map(\.name) : []
    }

    /// Called after the handshake, before anything is sent to the server (authentication
    /// included, so a key or user name never reaches an impostor).
    func verify(session: OpaquePointer) throws {
        var keyLength = 0
        var rawType: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &keyLength, &rawType), keyLength > 0 else {
            throw SFTPError(.protocolError, "\(displayName) sent no host key")
        }
        let keyBytes = Array(UnsafeRawBufferPointer(start: key, count: keyLength))
        guard let type = KeyType(hostKeyType: rawType) else {
            throw SFTPError(.hostKeyUnknown, "host key for \(displayName) is of a type libssh2 cannot check (\(rawType)): refusing to connect")
        }
        let described = "\(type.name) \(Self.fingerprint(session: session))"

        if let problem {
            throw SFTPError(.hostKeyUnknown,
                            "cannot check the host key for \(displayName) (\(described)): known_hosts file \(path) \(problem); refusing to connect")
        }
        guard let list = makeList(session: session) else {
            throw SFTPError(.hostKeyUnknown, "cannot check the host key for \(displayName): libssh2 cannot allocate a known-hosts list")
        }
        defer { libssh2_knownhost_free(list.hosts) }

        if list.revoked.contains(Base64.encode(keyBytes)) {
            throw SFTPError(.hostKeyMismatch,
                            "host key for \(displayName) (\(described)) is marked @revoked in known_hosts (\(path)): refusing to connect")
        }
        let result = libssh2_knownhost_checkp(list.hosts, entryName, -1, key, keyLength,
                                              LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type.knownHostMask, nil)
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            throw SFTPError(.hostKeyMismatch,
                            "host key for \(displayName) has CHANGED: the server offers \(described), but known_hosts (\(path)) "
                            + "lists a different \(type.name) key for \"\(entryName)\": refusing to connect. Either the server was "
                            + "reinstalled or someone is intercepting the connection; ask the server's administrator, and only then "
                            + "replace the entry (ssh-keygen -R '\(entryName)' -f \(path))")
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
            let skipped = list.skippedLines > 0 ? " (\(list.skippedLines) line(s) of it could not be read)" : ""
            throw SFTPError(.hostKeyUnknown,
                            "host key for \(displayName) (\(described)) is not in known_hosts (\(path))\(skipped): refusing to connect. "
                            + "Check the fingerprint with the server's administrator, then add the line "
                            + "\"\(entryName) \(type.name) \(Base64.encode(keyBytes))\"")
        default:
            throw SFTPError(.hostKeyUnknown,
                            "cannot check the host key for \(displayName) against \(path): \(lastErrorMessage(session)); refusing to connect")
        }
    }

    private struct List {
        var hosts: OpaquePointer
        /// Base64 keys of "@revoked" lines, which libssh2 does not understand.
        var revoked: Set<String>
        var skippedLines: Int
    }

    /// Feeds the file to libssh2 line by line rather than with libssh2_knownhost_readfile,
    /// which gives up on the whole file at the first line it cannot parse (a newer key
    /// type, a marker): one odd line must not make every server "unknown".
    private func makeList(session: OpaquePointer) -> List? {
        guard let hosts = libssh2_knownhost_init(session) else { return nil }
        var list = List(hosts: hosts, revoked: [], skippedLines: 0)
        for line in lines {
            let text = line.drop(while: { $0 == " " || $0 == "\t" })
            if text.isEmpty || text.hasPrefix("#") || text.allSatisfy(\.isWhitespace) { continue }
            if text.hasPrefix("@") {
                // "@revoked HOSTS TYPE KEY": remembered and refused whatever the host.
                // "@cert-authority": host certificates are not used here; skipped.
                let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                if fields.first == "@revoked", fields.count >= 4 { list.revoked.insert(String(fields[3])) }
                continue
            }
            let status = line.withCString { libssh2_knownhost_readline(hosts, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
            if status != 0 { list.skippedLines += 1 }
        }
        return list
    }

    /// "SHA256:…" as OpenSSH prints it, so that a person can compare it with `ssh-keygen -lf`.
    private static func fingerprint(session: OpaquePointer) -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return "(no fingerprint)" }
        let bytes = Array(UnsafeRawBufferPointer(start: hash, count: 32))
        return "SHA256:" + Base64.encode(bytes).filter { $0 != "=" }
    }
}

/// The host key types libssh2 can check, in OpenSSH's order of preference.
struct KeyType {
    var name: String
    var hostKeyType: Int32
    var knownHostMask: Int32
    /// Host key algorithms that yield this key type, for libssh2_session_method_pref.
    var algorithms: [String]

    static let all: [KeyType] = [
        KeyType(name: "ssh-ed25519", hostKeyType: LIBSSH2_HOSTKEY_TYPE_ED25519,
                knownHostMask: LIBSSH2_KNOWNHOST_KEY_ED25519, algorithms: ["ssh-ed25519"]),
        KeyType(name: "ecdsa-sha2-nistp256", hostKeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_256,
                knownHostMask: LIBSSH2_KNOWNHOST_KEY_ECDSA_256, algorithms: ["ecdsa-sha2-nistp256"]),
        KeyType(name: "ecdsa-sha2-nistp384", hostKeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_384,
                knownHostMask: LIBSSH2_KNOWNHOST_KEY_ECDSA_384, algorithms: ["ecdsa-sha2-nistp384"]),
        KeyType(name: "ecdsa-sha2-nistp521", hostKeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_521,
                knownHostMask: LIBSSH2_KNOWNHOST_KEY_ECDSA_521, algorithms: ["ecdsa-sha2-nistp521"]),
        KeyType(name: "ssh-rsa", hostKeyType: LIBSSH2_HOSTKEY_TYPE_RSA,
                knownHostMask: LIBSSH2_KNOWNHOST_KEY_SSHRSA, algorithms: ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]),
        KeyType(name: "ssh-dss", hostKeyType: LIBSSH2_HOSTKEY_TYPE_DSS,
                knownHostMask: LIBSSH2_KNOWNHOST_KEY_SSHDSS, algorithms: ["ssh-dss"]),
    ]

    init(name: String, hostKeyType: Int32, knownHostMask: Int32, algorithms: [String]) {
        self.name = name
        self.hostKeyType = hostKeyType
        self.knownHostMask = knownHostMask
        self.algorithms = algorithms
    }

    init?(hostKeyType: Int32) {
        guard let found = KeyType.all.first(where: { $0.hostKeyType == hostKeyType }) else { return nil }
        self = found
    }

    init?(knownHostMask: Int32) {
        guard let found = KeyType.all.first(where: { $0.knownHostMask == knownHostMask }) else { return nil }
        self = found
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(group >> 18 & 63)])
            output.append(alphabet[Int(group >> 12 & 63)])
            output.append(index + 1 < bytes.count ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
            output.append(index + 2 < bytes.count ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// libssh2's own description of its last error on this session.
func lastErrorMessage(_ session: OpaquePointer) -> String {
    var message: UnsafeMutablePointer<CChar>?
    var length: Int32 = 0
    let code = libssh2_session_last_error(session, &message, &length, 0)
    let text = message.map { String(cString: $0) } ?? ""
    return text.isEmpty ? "libssh2 error \(code)" : text
}
