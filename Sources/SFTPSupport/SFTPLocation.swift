/// A folder (or file) on an SFTP server, as written in a configuration:
/// `sftp://USER@HOST[:PORT]/PATH`.
///
/// - The user is required: an unattended program should not guess which account it logs
///   in as. A password in the URL (`USER:PASS@`) is refused; authentication is by key.
/// - HOST may be a name, an IPv4 address or a bracketed IPv6 address (`[::1]`); names are
///   lower-cased, as OpenSSH does before looking them up in known_hosts.
/// - PORT defaults to 22.
/// - PATH is percent-decoded (`%20` is a space) and must be UTF-8. It is absolute on the
///   server; `/~/x` (the sftp URI draft's spelling) means `x` relative to the login
///   directory, and an empty path means `/`.
/// - Queries and fragments (`?`, `#`) have no meaning here and make the URL invalid.
public struct SFTPLocation: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var host: String
    public var port: Int
    public var path: String

    public init(user: String, host: String, port: Int = 22, path: String) {
        self.user = user
        self.host = host
        self.port = port
        self.path = path
    }

    public init?(url: String) {
        let scheme = "sftp://"
        guard url.count > scheme.count, url.prefix(scheme.count).lowercased() == scheme else { return nil }
        let rest = url.dropFirst(scheme.count)
        guard !rest.contains("?"), !rest.contains("#") else { return nil }

        let authority: Substring
        let rawPath: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            rawPath = rest[slash...]
        } else {
            authority = rest
            rawPath = "/"
        }

        // Userinfo ends at the last "@": a stray "@" in a user name is more likely than
        // one in a host name.
        guard let at = authority.lastIndex(of: "@") else { return nil }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        guard !userInfo.isEmpty, !userInfo.contains(":"),
              let user = Self.percentDecoded(userInfo), !user.isEmpty else { return nil }

        var hostPart: Substring
        var portPart: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            hostPart = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
        } else if let colon = hostPort.firstIndex(of: ":") {
            hostPart = hostPort[..<colon]
            portPart = hostPort[hostPort.index(after: colon)...]
        } else {
            hostPart = hostPort
        }
        guard !hostPart.isEmpty, let host = Self.percentDecoded(hostPart), !host.isEmpty,
              !host.contains(where: { $0 == " " || $0 == "/" || $0 == "@" }) else { return nil }

        var port = 22
        if let portPart, !portPart.isEmpty {
            guard portPart.allSatisfy({ $0.isASCII && $0.isNumber }), portPart.count <= 5,
                  let value = Int(portPart), (1...65535).contains(value) else { return nil }
            port = value
        }

        guard var path = Self.percentDecoded(rawPath) else { return nil }
        if path == "/~" {
            path = "."
        } else if path.hasPrefix("/~/") {
            path = String(path.dropFirst(3))
            if path.isEmpty { path = "." }
        }

        self.init(user: user, host: host.lowercased(), port: port, path: path)
    }

    /// The location as a URL again (percent-encoding what needs it), for logs and messages.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        let portText = port == 22 ? "" : ":\(port)"
        let pathText = path.hasPrefix("/") ? path : "/~/" + (path == "." ? "" : path)
        return "sftp://\(Self.percentEncoded(user, keep: ""))@\(hostText)\(portText)\(Self.percentEncoded(pathText, keep: "/"))"
    }

    /// nil for a malformed escape, invalid UTF-8 or a NUL byte (which no remote path can hold).
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard !bytes.contains(0) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func percentEncoded(_ text: String, keep: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let kept = Set(keep.utf8)
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || kept.contains(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}
