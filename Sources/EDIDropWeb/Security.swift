import Crypto
import Foundation

/// Who may reach the console. On the loopback interface only people (and programs) on this
/// machine can connect, so no token is needed; on any other address the console would be
/// open to the network, so a token is required and every request must carry it.
public struct WebAccess: Sendable, Equatable {
    /// The shared secret every request must carry (nil: none required).
    public var token: String?

    public init(token: String?) { self.token = token }

    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    /// Tokens shorter than this are refused: a token guards the console on a network.
    public static let minimumTokenLength = 16

    /// Decides whether `serve` may start on `host` with `token` (from --token,
    /// `EDIDROP_WEB_TOKEN` or `[web] token`, already chosen by the caller).
    public static func check(host: String, token: String?) throws -> WebAccess {
        let token = token.flatMap { $0.isEmpty ? nil : $0 }
        if let token {
            guard token.count >= minimumTokenLength else {
                throw Refusal(message: "the web token must be at least \(minimumTokenLength) characters long (for example the output of `openssl rand -hex 16`)")
            }
            guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw Refusal(message: "the web token must be printable ASCII without spaces")
            }
        }
        if !isLoopback(host) && token == nil {
            throw Refusal(message: "refusing to serve on \(host): only 127.0.0.1 (or another loopback address) may be used without a token; "
                          + "set one with --token, EDIDROP_WEB_TOKEN or [web] token in edidrop.toml")
        }
        return WebAccess(token: token)
    }

    /// 127.0.0.0/8, ::1 and localhost: reachable from this machine only.
    public static func isLoopback(_ host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }

    /// Whether a presented value is the token, compared in constant time.
    public func accepts(_ presented: String?) -> Bool {
        guard let token else { return true }
        guard let presented else { return false }
        let a = Array(token.utf8), b = Array(presented.utf8)
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<a.count { diff |= a[i] ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }
}

/// CSRF tokens for the console's only state-changing request (retry). A token is
/// HMAC-SHA256(secret, "retry:<id>") under a secret made at random when the process
/// starts, so a form is good for one file and for this server's life, and nothing has to
/// be stored per visitor. Another site cannot read the page, so it cannot learn the token.
/// (`@unchecked`: SymmetricKey is an immutable value that swift-crypto does not mark Sendable.)
public struct CSRFTokens: @unchecked Sendable {
    private let key: SymmetricKey

    public init() { key = SymmetricKey(size: .bits256) }
    /// A fixed secret, for tests.
    public init(secret: [UInt8]) { key = SymmetricKey(data: secret) }

    private static func message(retry id: Int64) -> Data { Data("retry:\(id)".utf8) }

    /// The hidden form field's value for retrying file `id` (lowercase hex).
    public func token(retry id: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.message(retry: id), using: key)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a presented token in constant time; nil, malformed or wrong is false.
    public func verify(_ presented: String?, retry id: Int64) -> Bool {
        guard let presented, presented.utf8.count == 64, let bytes = Self.hexBytes(presented) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Self.message(retry: id), using: key)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var high: UInt8?
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return high == nil ? out : nil
    }
}
