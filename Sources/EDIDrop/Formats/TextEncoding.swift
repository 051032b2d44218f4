/// The text encodings edidrop reads. Polish shops' Excel exports come as windows-1250
/// (or ISO-8859-2 from older systems), UTF-16 with a BOM ("Unicode text") or UTF-8.
public enum TextEncoding: String, Sendable, Codable, CaseIterable {
    case utf8 = "UTF-8"
    case utf16LE = "UTF-16LE"
    case utf16BE = "UTF-16BE"
    case windows1250 = "windows-1250"
    case iso8859_2 = "ISO-8859-2"

    /// The ledger's `encoding` column may hold a note after the name, e.g. "ISO-8859-2
    /// (declared in the XML document)" for an XML file libxml2 decoded by its declaration;
    /// whoever reads the column back (to quote a rejected file's lines) gets the encoding
    /// from the name in front of the note.
    public init?(rawValue: String) {
        let name = rawValue.split(separator: " ", maxSplits: 1).first.map(String.init) ?? rawValue
        switch name {
        case "UTF-8": self = .utf8
        case "UTF-16LE": self = .utf16LE
        case "UTF-16BE": self = .utf16BE
        case "windows-1250": self = .windows1250
        case "ISO-8859-2": self = .iso8859_2
        default: return nil
        }
    }

    /// Reads an `encoding` setting as people write it: case, dashes, underscores and
    /// spaces are ignored, and the usual aliases are accepted. Plain "UTF-16" is refused
    /// because without a BOM its byte order would be a guess.
    public init?(configName: String) {
        let key = String(configName.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " })
        switch key {
        case "utf8":
            self = .utf8
        case "utf16le":
            self = .utf16LE
        case "utf16be":
            self = .utf16BE
        case "windows1250", "cp1250", "win1250", "ms1250", "xcp1250":
            self = .windows1250
        case "iso88592", "latin2", "l2", "iso885921987", "isoir101", "csisolatin2":
            self = .iso8859_2
        default:
            return nil
        }
    }
}

/// What `EncodingSniffer` decided about a file.
public struct EncodingDetection: Sendable, Equatable {
    public var encoding: TextEncoding
    /// Bytes of byte-order mark at the start of the file, which readers skip.
    public var bomLength: Int
    /// True when the file had no BOM and was not valid UTF-8, so `encoding` is the
    /// configured (or default) fallback rather than something the bytes proved.
    public var fallbackUsed: Bool

    public init(encoding: TextEncoding, bomLength: Int, fallbackUsed: Bool) {
        self.encoding = encoding
        self.bomLength = bomLength
        self.fallbackUsed = fallbackUsed
    }

    /// What reports and `edidrop validate` say about how the file was read, e.g.
    /// "UTF-16LE (with BOM)" or "windows-1250 (not valid UTF-8, no BOM: read with the
    /// configured encoding)": a person who sees garbled letters must be able to tell at
    /// once that the bytes were a guess and where to change it.
    public var description: String {
        if fallbackUsed {
            return "\(encoding.rawValue) (not valid UTF-8, no BOM: read with the configured encoding)"
        }
        return bomLength > 0 ? "\(encoding.rawValue) (with BOM)" : encoding.rawValue
    }
}

/// Incremental: fed every chunk of a file once (the caller hashes the same chunks), then asked.
public struct EncodingSniffer {
    private var head: (UInt8, UInt8, UInt8) = (0, 0, 0)
    private var headCount = 0
    private var validator = UTF8Validator()
    private var invalid = false

    public init() {}

    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        guard chunk.count > 0, let base = chunk.baseAddress else { return }
        var i = 0
        while headCount < 3 && i < chunk.count {
            let b = chunk[i]
            switch headCount {
            case 0: head.0 = b
            case 1: head.1 = b
            default: head.2 = b
            }
            headCount += 1
            i += 1
        }
        // Once the file is known not to be UTF-8 the rest of it cannot change that.
        if !invalid {
            let p = base.assumingMemoryBound(to: UInt8.self)
            if validator.feed(p, chunk.count) != nil { invalid = true }
        }
    }

    /// BOM (UTF-8 EF BB BF, UTF-16LE FF FE, UTF-16BE FE FF) wins; else valid UTF-8 -> .utf8; else `fallback` (fallbackUsed = true).
    public func finish(fallback: TextEncoding) -> EncodingDetection {
        if headCount >= 3 && head.0 == 0xEF && head.1 == 0xBB && head.2 == 0xBF {
            return EncodingDetection(encoding: .utf8, bomLength: 3, fallbackUsed: false)
        }
        if headCount >= 2 && head.0 == 0xFF && head.1 == 0xFE {
            return EncodingDetection(encoding: .utf16LE, bomLength: 2, fallbackUsed: false)
        }
        if headCount >= 2 && head.0 == 0xFE && head.1 == 0xFF {
            return EncodingDetection(encoding: .utf16BE, bomLength: 2, fallbackUsed: false)
        }
        if !invalid && validator.atBoundary {
            return EncodingDetection(encoding: .utf8, bomLength: 0, fallbackUsed: false)
        }
        return EncodingDetection(encoding: fallback, bomLength: 0, fallbackUsed: true)
    }
}

// MARK: - UTF-8 helpers shared by the sniffer, TranscodingSource and CSVReader

/// UTF-8 validation that can stop in the middle of a sequence and go on with the next
/// chunk, so a character split across two reads is judged as a whole.
struct UTF8Validator {
    /// Continuation bytes still expected for the sequence in progress.
    private(set) var need = 0
    // The allowed range of the next continuation byte; narrowed after E0, ED, F0 and F4
    // so that overlongs, surrogates and values above U+10FFFF are refused.
    private var lo: UInt8 = 0x80
    private var hi: UInt8 = 0xBF
    // The bytes of the sequence in progress (at most 4), packed so that the hot loop
    // never touches the heap; only error messages unpack them.
    private var packed: UInt32 = 0
    private(set) var sequenceLength = 0

    var atBoundary: Bool { need == 0 }

    /// The sequence in progress; after an error, ending with the offending byte.
    var sequence: [UInt8] {
        (0..<sequenceLength).map { UInt8(truncatingIfNeeded: packed >> (8 * UInt32($0))) }
    }

    @inline(__always)
    private mutating func push(_ b: UInt8) {
        packed |= UInt32(b) << (8 * UInt32(sequenceLength))
        sequenceLength += 1
    }

    /// Returns the offset in this chunk of the byte that made the input invalid, or nil.
    /// After an error the validator's state is not meaningful.
    mutating func feed(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        var i = 0
        while i < n {
            if need == 0 {
                let raw = UnsafeRawPointer(p)
                while i + 8 <= n && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                if i >= n { break }
                let b = p[i]
                if b < 0x80 { i += 1; continue }
                packed = 0
                sequenceLength = 0
                push(b)
                switch b {
                case 0xC2...0xDF: need = 1; lo = 0x80; hi = 0xBF
                case 0xE0: need = 2; lo = 0xA0; hi = 0xBF
                case 0xE1...0xEC, 0xEE, 0xEF: need = 2; lo = 0x80; hi = 0xBF
                case 0xED: need = 2; lo = 0x80; hi = 0x9F
                case 0xF0: need = 3; lo = 0x90; hi = 0xBF
                case 0xF1...0xF3: need = 3; lo = 0x80; hi = 0xBF
                case 0xF4: need = 3; lo = 0x80; hi = 0x8F
                default: return i
                }
                i += 1
            } else {
                let b = p[i]
                push(b)
                if b < lo || b > hi { return i }
                lo = 0x80
                hi = 0xBF
                need -= 1
                i += 1
            }
        }
        return nil
    }
}

/// Offset of the first byte of the first invalid (or truncated) sequence, or nil when
/// all `n` bytes are well-formed UTF-8.
@inline(__always)
func utf8InvalidOffset(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
    let raw = UnsafeRawPointer(p)
    var i = 0
    while i + 8 <= n && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
        i += 8
    }
    while i < n && p[i] < 0x80 { i += 1 }
    if i == n { return nil }
    var v = UTF8Validator()
    if let bad = v.feed(p + i, n - i) {
        return i + bad + 1 - v.sequenceLength
    }
    return v.atBoundary ? nil : n - v.sequenceLength
}

/// Unicode scalars in well-formed UTF-8: every byte that is not a continuation byte.
@inline(__always)
func utf8ScalarCount(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
    let raw = UnsafeRawPointer(p)
    var continuation = 0
    var i = 0
    // A continuation byte is 10xxxxxx: top bit set and the next one clear.
    while i + 8 <= n {
        let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        continuation &+= (w & ~(w << 1) & 0x8080_8080_8080_8080).nonzeroBitCount
        i += 8
    }
    while i < n {
        if p[i] & 0xC0 == 0x80 { continuation += 1 }
        i += 1
    }
    return n - continuation
}

/// Makes a String from bytes only if they are well-formed UTF-8; nil instead of the
/// U+FFFD replacements `String(decoding:as:)` would make. (`String(validating:as:)` is
/// not specialised for raw buffers and measured several times slower.)
@inline(__always)
func stringIfValidUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> String? {
    if utf8InvalidOffset(p, n) != nil { return nil }
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
}

func hexBytes<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    bytes.map { b -> String in
        let digits = String(b, radix: 16, uppercase: true)
        return "0x" + (b < 16 ? "0" + digits : digits)
    }.joined(separator: " ")
}
