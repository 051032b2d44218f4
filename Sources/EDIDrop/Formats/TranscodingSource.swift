/// Bytes that are not valid in the file's encoding. Nothing is ever replaced with
/// U+FFFD: a shop's data must reach the warehouse as it was, or be rejected.
public struct EncodingProblem: Error, Equatable {
    /// 1-based line of the bad bytes (line ends as in CSV: LF, CRLF or a lone CR).
    public var line: Int
    /// 1-based character position of the bad bytes in that line, when known.
    public var column: Int?
    public var message: String

    public init(line: Int, column: Int?, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }
}

/// Turns a file in any `TextEncoding` into UTF-8, skipping its BOM, so that format
/// readers only ever deal with UTF-8.
public struct TranscodingSource<Base: ByteSource>: ByteSource {
    private var base: Base
    private let encoding: TextEncoding
    private var bomToSkip: Int
    /// Undecoded input, for the encodings whose output is not the input itself.
    private var raw: [UInt8] = []
    private var rawPos = 0
    private var rawEnd = 0
    private var baseEnded = false
    /// Output bytes of one character that did not fit into the caller's buffer.
    private var carry: [UInt8] = []
    private var carryPos = 0
    /// Found while good bytes were still being returned; thrown on the next read, so
    /// that a reader sees everything before the bad bytes first.
    private var deferred: EncodingProblem?
    private var position = TextPosition()
    private var utf8 = UTF8Validator()
    private var highSurrogate: UInt16?
    private let table: [UInt32]

    private static var chunkSize: Int { 64 * 1024 }

    public init(base: Base, detection: EncodingDetection) {
        self.base = base
        self.encoding = detection.encoding
        self.bomToSkip = detection.bomLength
        switch detection.encoding {
        case .windows1250: table = singleByteWindows1250
        case .iso8859_2: table = singleByteISO8859_2
        default: table = []
        }
        if detection.encoding != .utf8 {
            raw = [UInt8](repeating: 0, count: Self.chunkSize)
        }
    }

    /// UTF-8 passes through byte for byte (a BOM skipped only makes it less); any other
    /// encoding grows when transcoded, so its size is not known before.
    public var bytesLeft: Int? { encoding == .utf8 ? base.bytesLeft : nil }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let problem = deferred { throw problem }
        guard buffer.count > 0, let start = buffer.baseAddress else { return 0 }
        let out = start.assumingMemoryBound(to: UInt8.self)
        switch encoding {
        case .utf8:
            return try readUTF8(out, buffer.count)
        default:
            return try transcode(out, buffer.count)
        }
    }

    // MARK: UTF-8

    private mutating func readUTF8(_ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) throws -> Int {
        var n = 0
        // The caller's buffer is filled straight from the base: no copy for the common case.
        while n == 0 {
            n = try base.read(into: UnsafeMutableRawBufferPointer(start: out, count: capacity))
            if n == 0 {
                if !utf8.atBoundary {
                    let problem = EncodingProblem(
                        line: position.line, column: position.lineScalars,
                        message: "truncated UTF-8 byte sequence \(hexBytes(utf8.sequence)) at the end of the file")
                    deferred = problem
                    throw problem
                }
                return 0
            }
            if bomToSkip > 0 {
                let skip = min(bomToSkip, n)
                for i in 0..<(n - skip) { out[i] = out[i + skip] }
                bomToSkip -= skip
                n -= skip
            }
        }
        guard let bad = utf8.feed(out, n) else {
            position.advance(out, n)
            return n
        }
        // Hand out the good bytes before the bad sequence. Its first bytes may have gone
        // out with the previous chunk already, and were then counted as one character.
        let sequenceStart = bad + 1 - utf8.sequenceLength
        let good = max(0, sequenceStart)
        position.advance(out, good)
        let column = sequenceStart < 0 ? position.lineScalars : position.lineScalars + 1
        let problem = EncodingProblem(
            line: position.line, column: column,
            message: "invalid UTF-8 byte sequence \(hexBytes(utf8.sequence))")
        deferred = problem
        if good > 0 { return good }
        throw problem
    }

    // MARK: UTF-16 and single-byte encodings

    private mutating func transcode(_ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) throws -> Int {
        var written = 0
        while carryPos < carry.count && written < capacity {
            out[written] = carry[carryPos]
            written += 1
            carryPos += 1
        }
        if carryPos < carry.count {
            position.advance(out, written)
            return written
        }
        carry.removeAll(keepingCapacity: true)
        carryPos = 0

        let utf16 = encoding == .utf16LE || encoding == .utf16BE
        let unitSize = utf16 ? 2 : 1
        while written < capacity && carry.isEmpty {
            if rawEnd - rawPos < unitSize {
                if try !refillRaw(unitSize) {
                    if let problem = endOfInputProblem(out, written) {
                        return try fail(problem, written)
                    }
                    break
                }
            }
            // Local references, so the decoders can read them while updating self.
            let input = raw
            let table = self.table
            let problem: EncodingProblem? = input.withUnsafeBufferPointer { inp in
                if utf16 {
                    return decodeUTF16(inp.baseAddress!, out, &written, capacity)
                }
                return table.withUnsafeBufferPointer { t in
                    decodeSingleByte(inp.baseAddress!, t.baseAddress!, out, &written, capacity)
                }
            }
            if let problem { return try fail(problem, written) }
        }
        position.advance(out, written)
        return written
    }

    /// Records the problem, then either throws it or returns the good bytes decoded
    /// before it, leaving the throw for the next read.
    private mutating func fail(_ problem: EncodingProblem, _ written: Int) throws -> Int {
        deferred = problem
        if written > 0 { return written }
        throw problem
    }

    /// Counts the output of this read first, so that the problem points at the bad
    /// input; the caller then returns through `fail`, which does not count it again.
    private mutating func problem(_ message: String, _ out: UnsafeMutablePointer<UInt8>, _ written: Int) -> EncodingProblem {
        position.advance(out, written)
        return EncodingProblem(line: position.line, column: position.lineScalars + 1, message: message)
    }

    private mutating func endOfInputProblem(_ out: UnsafeMutablePointer<UInt8>, _ written: Int) -> EncodingProblem? {
        if let high = highSurrogate {
            return problem("unpaired UTF-16 surrogate \(hexUnit(high)) at the end of the file", out, written)
        }
        if rawEnd - rawPos == 1 {
            return problem("odd trailing byte \(hexBytes([raw[rawPos]])) at the end of UTF-16 input", out, written)
        }
        return nil
    }

    /// Keeps the undecoded tail and reads more behind it; false when the base has
    /// nothing more and fewer than `unitSize` bytes are left.
    private mutating func refillRaw(_ unitSize: Int) throws -> Bool {
        let left = rawEnd - rawPos
        if left > 0 && rawPos > 0 {
            for i in 0..<left { raw[i] = raw[rawPos + i] }
        }
        rawPos = 0
        rawEnd = left
        // Taken out of self for the duration, so that `base` can be used meanwhile.
        var staging = raw
        raw = []
        defer { raw = staging }
        // Fill well beyond one unit, so that decoding runs in long stretches even when
        // the base hands out little at a time.
        while !baseEnded && (rawEnd - rawPos < unitSize || rawEnd - rawPos < Self.chunkSize / 2) && rawEnd < staging.count {
            let end = rawEnd
            let n = try staging.withUnsafeMutableBytes { bytes in
                try base.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[end...]))
            }
            if n == 0 { baseEnded = true; break }
            rawEnd += n
            if bomToSkip > 0 {
                let skip = min(bomToSkip, rawEnd - rawPos)
                rawPos += skip
                bomToSkip -= skip
            }
        }
        return rawEnd - rawPos >= unitSize
    }

    /// Writes the UTF-8 of `scalar` at `written`, putting what does not fit into `carry`.
    @inline(__always)
    private mutating func emit(_ scalar: UInt32, _ out: UnsafeMutablePointer<UInt8>, _ written: inout Int, _ capacity: Int) {
        var bytes: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        let count: Int
        if scalar < 0x80 {
            bytes.0 = UInt8(scalar)
            count = 1
        } else if scalar < 0x800 {
            bytes.0 = UInt8(0xC0 | (scalar >> 6))
            bytes.1 = UInt8(0x80 | (scalar & 0x3F))
            count = 2
        } else if scalar < 0x10000 {
            bytes.0 = UInt8(0xE0 | (scalar >> 12))
            bytes.1 = UInt8(0x80 | ((scalar >> 6) & 0x3F))
            bytes.2 = UInt8(0x80 | (scalar & 0x3F))
            count = 3
        } else {
            bytes.0 = UInt8(0xF0 | (scalar >> 18))
            bytes.1 = UInt8(0x80 | ((scalar >> 12) & 0x3F))
            bytes.2 = UInt8(0x80 | ((scalar >> 6) & 0x3F))
            bytes.3 = UInt8(0x80 | (scalar & 0x3F))
            count = 4
        }
        if capacity - written >= count {
            withUnsafeBytes(of: bytes) { b in
                (out + written).initialize(from: b.bindMemory(to: UInt8.self).baseAddress!, count: count)
            }
            written += count
            return
        }
        withUnsafeBytes(of: bytes) { b in
            for i in 0..<count {
                if written < capacity {
                    out[written] = b[i]
                    written += 1
                } else {
                    carry.append(b[i])
                }
            }
        }
    }

    private mutating func decodeSingleByte(
        _ inp: UnsafePointer<UInt8>, _ table: UnsafePointer<UInt32>,
        _ out: UnsafeMutablePointer<UInt8>, _ written: inout Int, _ capacity: Int
    ) -> EncodingProblem? {
        var i = rawPos
        let end = rawEnd
        defer { rawPos = i }
        while i < end && written < capacity {
            let b = inp[i]
            if b < 0x80 {
                out[written] = b
                written += 1
                i += 1
                continue
            }
            let scalar = table[Int(b)]
            if scalar == undefinedByte {
                return problem("byte \(hexBytes([b])) is not valid \(encoding.rawValue)", out, written)
            }
            i += 1
            emit(scalar, out, &written, capacity)
            if !carry.isEmpty { break }
        }
        return nil
    }

    private mutating func decodeUTF16(
        _ inp: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, _ written: inout Int, _ capacity: Int
    ) -> EncodingProblem? {
        var i = rawPos
        let end = rawEnd
        let littleEndian = encoding == .utf16LE
        defer { rawPos = i }
        while i + 1 < end && written < capacity {
            let unit = littleEndian
                ? UInt16(inp[i]) | UInt16(inp[i + 1]) << 8
                : UInt16(inp[i]) << 8 | UInt16(inp[i + 1])
            if let high = highSurrogate {
                guard (0xDC00...0xDFFF).contains(unit) else {
                    return problem("unpaired UTF-16 surrogate \(hexUnit(high))", out, written)
                }
                highSurrogate = nil
                i += 2
                let scalar = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(unit) - 0xDC00)
                emit(scalar, out, &written, capacity)
                if !carry.isEmpty { break }
                continue
            }
            if unit < 0x80 {
                out[written] = UInt8(unit)
                written += 1
                i += 2
                continue
            }
            switch unit {
            case 0xD800...0xDBFF:
                highSurrogate = unit
                i += 2
            case 0xDC00...0xDFFF:
                return problem("unpaired UTF-16 surrogate \(hexUnit(unit))", out, written)
            default:
                i += 2
                emit(UInt32(unit), out, &written, capacity)
                if !carry.isEmpty { return nil }
            }
        }
        return nil
    }

    private func hexUnit(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 4 - digits.count) + digits
    }
}

/// Where in the text the output so far ends: what error messages point at.
struct TextPosition {
    var line = 1
    /// Characters since the last line end.
    var lineScalars = 0
    private var lastWasCR = false

    var column: Int { lineScalars + 1 }

    mutating func advance(_ p: UnsafePointer<UInt8>, _ n: Int) {
        guard n > 0 else { return }
        // Branch-free counting that the compiler can vectorise: this runs over every
        // byte of every file. A CR counts, and a LF unless a CR is right before it.
        var breaks = p[0] == 0x0D || (p[0] == 0x0A && !lastWasCR) ? 1 : 0
        for i in 1..<n {
            let b = p[i]
            let isCR = b == 0x0D ? 1 : 0
            let isLoneLF = b == 0x0A && p[i - 1] != 0x0D ? 1 : 0
            breaks &+= isCR | isLoneLF
        }
        var lastBreak = n
        while lastBreak > 0 && p[lastBreak - 1] != 0x0A && p[lastBreak - 1] != 0x0D { lastBreak -= 1 }
        if lastBreak == 0 {
            lineScalars += utf8ScalarCount(p, n)
        } else {
            lineScalars = utf8ScalarCount(p + lastBreak, n - lastBreak)
        }
        line += breaks
        lastWasCR = p[n - 1] == 0x0D
    }
}

/// Marks the bytes a code page leaves undefined.
let undefinedByte: UInt32 = 0xFFFF_FFFF

/// windows-1250 as published by Microsoft (bestfit1250 / the Unicode consortium's
/// CP1250.TXT), 0x00–0x7F being ASCII.
let singleByteWindows1250: [UInt32] = (0..<0x80).map { UInt32($0) } + [
    // 0x80
    0x20AC, undefinedByte, 0x201A, undefinedByte, 0x201E, 0x2026, 0x2020, 0x2021,
    undefinedByte, 0x2030, 0x0160, 0x2039, 0x015A, 0x0164, 0x017D, 0x0179,
    // 0x90
    undefinedByte, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    undefinedByte, 0x2122, 0x0161, 0x203A, 0x015B, 0x0165, 0x017E, 0x017A,
    // 0xA0
    0x00A0, 0x02C7, 0x02D8, 0x0141, 0x00A4, 0x0104, 0x00A6, 0x00A7,
    0x00A8, 0x00A9, 0x015E, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x017B,
    // 0xB0
    0x00B0, 0x00B1, 0x02DB, 0x0142, 0x00B4, 0x00B5, 0x00B6, 0x00B7,
    0x00B8, 0x0105, 0x015F, 0x00BB, 0x013D, 0x02DD, 0x013E, 0x017C,
    // 0xC0
    0x0154, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x0139, 0x0106, 0x00C7,
    0x010C, 0x00C9, 0x0118, 0x00CB, 0x011A, 0x00CD, 0x00CE, 0x010E,
    // 0xD0
    0x0110, 0x0143, 0x0147, 0x00D3, 0x00D4, 0x0150, 0x00D6, 0x00D7,
    0x0158, 0x016E, 0x00DA, 0x0170, 0x00DC, 0x00DD, 0x0162, 0x00DF,
    // 0xE0
    0x0155, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x013A, 0x0107, 0x00E7,
    0x010D, 0x00E9, 0x0119, 0x00EB, 0x011B, 0x00ED, 0x00EE, 0x010F,
    // 0xF0
    0x0111, 0x0144, 0x0148, 0x00F3, 0x00F4, 0x0151, 0x00F6, 0x00F7,
    0x0159, 0x016F, 0x00FA, 0x0171, 0x00FC, 0x00FD, 0x0163, 0x02D9,
]

/// ISO/IEC 8859-2 (Latin-2) as in the Unicode consortium's 8859-2.TXT: 0x80–0x9F are
/// the C1 controls, 0x00–0x7F ASCII.
let singleByteISO8859_2: [UInt32] = (0..<0x80).map { UInt32($0) } + [
    // 0x80
    0x0080, 0x0081, 0x0082, 0x0083, 0x0084, 0x0085, 0x0086, 0x0087,
    0x0088, 0x0089, 0x008A, 0x008B, 0x008C, 0x008D, 0x008E, 0x008F,
    // 0x90
    0x0090, 0x0091, 0x0092, 0x0093, 0x0094, 0x0095, 0x0096, 0x0097,
    0x0098, 0x0099, 0x009A, 0x009B, 0x009C, 0x009D, 0x009E, 0x009F,
    // 0xA0
    0x00A0, 0x0104, 0x02D8, 0x0141, 0x00A4, 0x013D, 0x015A, 0x00A7,
    0x00A8, 0x0160, 0x015E, 0x0164, 0x0179, 0x00AD, 0x017D, 0x017B,
    // 0xB0
    0x00B0, 0x0105, 0x02DB, 0x0142, 0x00B4, 0x013E, 0x015B, 0x02C7,
    0x00B8, 0x0161, 0x015F, 0x0165, 0x017A, 0x02DD, 0x017E, 0x017C,
    // 0xC0
    0x0154, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x0139, 0x0106, 0x00C7,
    0x010C, 0x00C9, 0x0118, 0x00CB, 0x011A, 0x00CD, 0x00CE, 0x010E,
    // 0xD0
    0x0110, 0x0143, 0x0147, 0x00D3, 0x00D4, 0x0150, 0x00D6, 0x00D7,
    0x0158, 0x016E, 0x00DA, 0x0170, 0x00DC, 0x00DD, 0x0162, 0x00DF,
    // 0xE0
    0x0155, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x013A, 0x0107, 0x00E7,
    0x010D, 0x00E9, 0x0119, 0x00EB, 0x011B, 0x00ED, 0x00EE, 0x010F,
    // 0xF0
    0x0111, 0x0144, 0x0148, 0x00F3, 0x00F4, 0x0151, 0x00F6, 0x00F7,
    0x0159, 0x016F, 0x00FA, 0x0171, 0x00FC, 0x00FD, 0x0163, 0x02D9,
]
