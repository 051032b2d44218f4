public struct CSVField: Sendable, Equatable {
    public var value: String
    /// Physical line (1-based) where the field starts.
    public var line: Int
    /// 1-based character position of the field's first character (its opening quote
    /// when quoted) in that line.
    public var column: Int

    public init(value: String, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }
}

public struct CSVRecord: Sendable, Equatable {
    /// Line where the record starts.
    public var line: Int
    public var fields: [CSVField]
    /// Line where the record ends; more than `line` when a quoted field holds line breaks.
    public var endLine: Int

    public init(line: Int, fields: [CSVField], endLine: Int) {
        self.line = line
        self.fields = fields
        self.endLine = endLine
    }
}

public struct CSVError: Error, Equatable {
    public enum Kind: Sendable, Equatable {
        case unbalancedQuote, characterAfterQuote, fieldTooLong, tooManyFields, nulByte, encoding
    }

    public var kind: Kind
    public var line: Int
    public var column: Int?
    public var message: String

    public init(kind: Kind, line: Int, column: Int?, message: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.message = message
    }
}

private let lineFeed: UInt8 = 0x0A
private let carriageReturn: UInt8 = 0x0D
private let quote: UInt8 = 0x22

/// A streaming CSV tokenizer over UTF-8 bytes (compose with `TranscodingSource` for
/// other encodings). Memory stays bounded by one 64 KiB chunk, `maxFieldBytes` and
/// `maxFields`, whatever the size of the file or of one of its lines.
///
/// Errors are fatal: once `next()` has thrown, it throws the same error again.
public struct CSVReader<Source: ByteSource> {
    private var source: Source
    /// Detected from the first record when nil was given.
    public private(set) var delimiter: UInt8?
    private let maxFieldBytes: Int
    private let maxFields: Int

    private static var chunkSize: Int { 64 * 1024 }
    private static var smallestChunk: Int { 256 }
    /// The buffer's size, set by the first `next()`.
    private(set) var capacity = 0
    /// Empty until the first `next()`: a reader is copied before it starts (into the
    /// reader of a format), and a buffer allocated up front was then copied on its first
    /// write, 64 KiB per file (0.8% of a small-file run's CPU).
    private var buffer: [UInt8] = []
    /// Unconsumed input is `buffer[pos..<end]`.
    private var pos = 0
    private var end = 0
    private var sourceEnded = false
    private var started = false
    private var failure: Error?

    private var line = 1
    // Columns are counted lazily: `column` is the column of `buffer[columnMark]`, and the
    // characters between there and `pos` are only counted when a column is needed, so
    // every byte is counted once, in bulk.
    private var column = 1
    private var columnMark = 0

    /// A field's bytes, once it no longer lies in one piece in `buffer` (it crosses a
    /// chunk boundary or holds a doubled quote).
    private var fieldBytes: [UInt8] = []
    private var lastFieldCount = 0

    public init(source: Source, delimiter: UInt8? = nil, maxFieldBytes: Int = 1 << 20, maxFields: Int = 2000) {
        if let delimiter {
            precondition(delimiter < 0x80 && delimiter != quote && delimiter != lineFeed
                         && delimiter != carriageReturn && delimiter != 0,
                         "a CSV delimiter must be an ASCII character other than a quote, a line end or NUL")
        }
        self.source = source
        self.delimiter = delimiter
        self.maxFieldBytes = maxFieldBytes
        self.maxFields = maxFields
    }

    public mutating func next() throws -> CSVRecord? {
        if let failure { throw failure }
        // Taken out of self for the duration, so that its pointer stays usable while the
        // rest of self changes.
        var storage = buffer
        buffer = []
        defer { buffer = storage }
        if !started {
            // A file known to be small gets a buffer its size (and a byte to see its end
            // in one read) rather than a zeroed 64 KiB: one-order files are most of them,
            // and two readers open each one (DocumentOpener's probe, then its reader).
            capacity = source.bytesLeft.map { max(Self.smallestChunk, min(Self.chunkSize, $0 + 1)) } ?? Self.chunkSize
            storage = [UInt8](repeating: 0, count: capacity)
        }
        do {
            return try storage.withUnsafeMutableBufferPointer { bytes in
                let p = bytes.baseAddress!
                if !started {
                    started = true
                    try start(p)
                }
                return try readRecord(p)
            }
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: Input

    /// Moves the unconsumed bytes to the front and reads once behind them. False when
    /// nothing new came.
    private mutating func refill(_ p: UnsafeMutablePointer<UInt8>) throws -> Bool {
        if sourceEnded { return false }
        assert(end - pos < capacity, "refill with a full buffer")
        column += utf8ScalarCount(p + columnMark, pos - columnMark)
        let keep = end - pos
        // Only a byte or two of lookahead is ever kept, so a plain forward copy will do.
        if keep > 0 && pos > 0 {
            for i in 0..<keep { p[i] = p[pos + i] }
        }
        pos = 0
        end = keep
        columnMark = 0
        let n: Int
        do {
            n = try source.read(into: UnsafeMutableRawBufferPointer(start: p + end, count: capacity - end))
        } catch {
            throw Self.csvError(error)
        }
        if n == 0 {
            sourceEnded = true
            return false
        }
        end += n
        return true
    }

    private static func csvError(_ error: Error) -> Error {
        if let problem = error as? EncodingProblem {
            return CSVError(kind: .encoding, line: problem.line, column: problem.column, message: problem.message)
        }
        return error
    }

    private mutating func currentColumn(_ p: UnsafeMutablePointer<UInt8>) -> Int {
        column += utf8ScalarCount(p + columnMark, pos - columnMark)
        columnMark = pos
        return column
    }

    /// `pos` is just past a line end.
    @inline(__always)
    private mutating func startLine() {
        line += 1
        column = 1
        columnMark = pos
    }

    /// `pos` is just past a CR: a LF right after it belongs to the same line end.
    private mutating func skipLineFeedAfterCR(_ p: UnsafeMutablePointer<UInt8>) throws {
        if pos == end, try !refill(p) { return }
        if p[pos] == lineFeed {
            pos += 1
            columnMark = pos
        }
    }

    // MARK: Delimiter

    private mutating func start(_ p: UnsafeMutablePointer<UInt8>) throws {
        // Delimiter detection wants the whole first line at hand (up to a full buffer),
        // and "line" as the detection itself reads it: a quoted header name may hold a line
        // break. Stopping at the first physical line break instead would make the verdict
        // depend on how the source happened to split its reads.
        while try refill(p) {
            if Self.scanFirstLine(p + pos, end - pos).lineEnd != nil || end == capacity { break }
        }
        // A UTF-8 BOM that reached this far would otherwise stick to the first column name.
        if end - pos >= 3 && p[pos] == 0xEF && p[pos + 1] == 0xBB && p[pos + 2] == 0xBF {
            pos += 3
            columnMark = pos
        }
        if delimiter == nil {
            delimiter = Self.detectDelimiter(p + pos, end - pos)
        }
    }

    /// Counts ';', ',' and TAB outside quotes in the first non-empty line (a header
    /// longer than the 64 KiB buffer is judged by what fits).
    static func detectDelimiter(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt8 {
        let scan = scanFirstLine(p, n)
        let (semicolons, commas, tabs) = (scan.semicolons, scan.commas, scan.tabs)
        if semicolons == 0 && commas == 0 && tabs == 0 { return 0x2C }
        if semicolons >= tabs && semicolons >= commas { return 0x3B }
        if tabs >= commas { return 0x09 }
        return 0x2C
    }

    /// The first non-empty line as delimiter detection reads it: candidate delimiters
    /// outside quotes, and where the line ends (nil when it does not end within `n` bytes).
    /// Which character separates fields is not known yet, so a quote counts as opening
    /// when it begins the line or follows any of the candidates.
    static func scanFirstLine(_ p: UnsafePointer<UInt8>, _ n: Int) -> (semicolons: Int, commas: Int, tabs: Int, lineEnd: Int?) {
        var i = 0
        while i < n && (p[i] == lineFeed || p[i] == carriageReturn) { i += 1 }
        var semicolons = 0, commas = 0, tabs = 0
        var inQuotes = false
        var atFieldStart = true
        while i < n {
            let b = p[i]
            if inQuotes {
                if b == quote {
                    if i + 1 < n && p[i + 1] == quote {
                        i += 2
                        continue
                    }
                    // A quote that is the last byte seen may be the first of a doubled
                    // pair; the line cannot be said to end before the next byte is known.
                    if i + 1 == n { return (semicolons, commas, tabs, nil) }
                    inQuotes = false
                }
                i += 1
                continue
            }
            switch b {
            case quote where atFieldStart:
                inQuotes = true
                atFieldStart = false
            case 0x3B:
                semicolons += 1
                atFieldStart = true
            case 0x2C:
                commas += 1
                atFieldStart = true
            case 0x09:
                tabs += 1
                atFieldStart = true
            case lineFeed, carriageReturn:
                return (semicolons, commas, tabs, i)
            default:
                atFieldStart = false
            }
            i += 1
        }
        return (semicolons, commas, tabs, nil)
    }

    // MARK: Records

    private mutating func readRecord(_ p: UnsafeMutablePointer<UInt8>) throws -> CSVRecord? {
        while true {
            if pos == end, try !refill(p) { return nil }
            let b = p[pos]
            if b == lineFeed {
                pos += 1
                startLine()
            } else if b == carriageReturn {
                pos += 1
                startLine()
                try skipLineFeedAfterCR(p)
            } else {
                break
            }
        }
        let delimiter = self.delimiter!
        let recordLine = line
        var fields: [CSVField] = []
        fields.reserveCapacity(lastFieldCount)
        while true {
            let fieldColumn = currentColumn(p)
            if fields.count >= maxFields {
                throw CSVError(kind: .tooManyFields, line: line, column: fieldColumn,
                               message: "record has more than \(maxFields) fields")
            }
            let fieldLine = line
            if pos == end, try !refill(p) {
                // The input ends right after a delimiter: an empty last field.
                fields.append(CSVField(value: "", line: fieldLine, column: fieldColumn))
                break
            }
            let value: String
            if p[pos] == quote {
                value = try quotedField(p, fieldLine, fieldColumn)
            } else {
                value = try unquotedField(p, delimiter, fieldLine, fieldColumn)
            }
            fields.append(CSVField(value: value, line: fieldLine, column: fieldColumn))

            if pos == end, try !refill(p) { break }
            let b = p[pos]
            if b == delimiter {
                pos += 1
                continue
            }
            if b == lineFeed || b == carriageReturn {
                let endLine = line
                pos += 1
                startLine()
                if b == carriageReturn {
                    do {
                        try skipLineFeedAfterCR(p)
                    } catch {
                        // The record ended at the CR, whatever follows it: a failure to read
                        // what follows belongs to the next call. Otherwise whether this
                        // record came out would depend on the read sizes (the start of a
                        // bad UTF-8 sequence is handed out when it ends a read).
                        failure = error
                    }
                }
                lastFieldCount = fields.count
                return CSVRecord(line: recordLine, fields: fields, endLine: endLine)
            }
            // Only a closing quote can leave anything else here.
            if b == 0 { throw nulError(p) }
            let column = currentColumn(p)
            throw CSVError(kind: .characterAfterQuote, line: line, column: column,
                           message: "unexpected character after the closing quote of a field"
                               + " (a quote inside a quoted field must be doubled)")
        }
        lastFieldCount = fields.count
        return CSVRecord(line: recordLine, fields: fields, endLine: line)
    }

    /// Reads up to (not including) the delimiter, line end or end of input.
    private mutating func unquotedField(_ p: UnsafeMutablePointer<UInt8>, _ delimiter: UInt8,
                                        _ fieldLine: Int, _ fieldColumn: Int) throws -> String {
        if !fieldBytes.isEmpty { fieldBytes.removeAll(keepingCapacity: true) }
        var start = pos
        var spilled = false
        while true {
            var i = pos
            let end = self.end
            // NUL, LF and CR are bits 0, 10 and 13.
            while i < end {
                let b = p[i]
                if b == delimiter || (b <= 13 && (0x2401 as UInt16) >> b & 1 != 0) { break }
                i += 1
            }
            if i < end {
                pos = i
                if p[i] == 0 { throw nulError(p) }
                return try fieldValue(p + start, i - start, spilled: spilled, fieldLine, fieldColumn,
                                      contentColumn: fieldColumn, exactColumns: true)
            }
            try spill(p + start, end - start, fieldLine, fieldColumn)
            spilled = true
            pos = end
            if try !refill(p) {
                return try fieldValue(p, 0, spilled: true, fieldLine, fieldColumn,
                                      contentColumn: fieldColumn, exactColumns: true)
            }
            start = pos
        }
    }

    /// `pos` is at the opening quote; leaves `pos` just past the closing one.
    private mutating func quotedField(_ p: UnsafeMutablePointer<UInt8>, _ fieldLine: Int, _ fieldColumn: Int) throws -> String {
        if !fieldBytes.isEmpty { fieldBytes.removeAll(keepingCapacity: true) }
        pos += 1
        var start = pos
        var spilled = false
        var doubledQuotes = false
        while true {
            var i = pos
            let end = self.end
            // NUL, LF, CR and '"' are bits 0, 10, 13 and 34.
            while i < end {
                let b = p[i]
                if b <= 34 && (0x4_0000_2401 as UInt64) >> b & 1 != 0 { break }
                i += 1
            }
            if i == end {
                try spill(p + start, end - start, fieldLine, fieldColumn)
                spilled = true
                pos = end
                if try !refill(p) { throw unbalancedQuote(fieldLine, fieldColumn) }
                start = pos
                continue
            }
            switch p[i] {
            case 0:
                pos = i
                throw nulError(p)
            case lineFeed:
                pos = i + 1
                startLine()
            case carriageReturn:
                pos = i + 1
                startLine()
                if pos == self.end {
                    try spill(p + start, pos - start, fieldLine, fieldColumn)
                    spilled = true
                    if try !refill(p) { throw unbalancedQuote(fieldLine, fieldColumn) }
                    start = pos
                }
                if p[pos] == lineFeed {
                    pos += 1
                    columnMark = pos
                }
            default:
                var q = i
                if q + 1 == self.end {
                    // Whether this quote is doubled or closing depends on the next chunk.
                    try spill(p + start, q - start, fieldLine, fieldColumn)
                    spilled = true
                    pos = q
                    _ = try refill(p)
                    q = pos
                    start = pos
                }
                if q + 1 < self.end && p[q + 1] == quote {
                    try spill(p + start, q + 1 - start, fieldLine, fieldColumn)
                    spilled = true
                    doubledQuotes = true
                    pos = q + 2
                    start = pos
                } else {
                    pos = q + 1
                    return try fieldValue(p + start, q - start, spilled: spilled, fieldLine, fieldColumn,
                                          contentColumn: fieldColumn + 1, exactColumns: !doubledQuotes)
                }
            }
        }
    }

    /// Keeps part of a field that cannot stay in `buffer`, refusing to hold more than a
    /// field may have, so that one huge line fails after `maxFieldBytes`, not at its end.
    private mutating func spill(_ bytes: UnsafePointer<UInt8>, _ n: Int, _ fieldLine: Int, _ fieldColumn: Int) throws {
        guard n > 0 else { return }
        if fieldBytes.count + n > maxFieldBytes { throw fieldTooLong(fieldLine, fieldColumn) }
        fieldBytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: n))
    }

    private mutating func fieldValue(_ bytes: UnsafePointer<UInt8>, _ n: Int, spilled: Bool,
                                     _ fieldLine: Int, _ fieldColumn: Int,
                                     contentColumn: Int, exactColumns: Bool) throws -> String {
        if spilled {
            try spill(bytes, n, fieldLine, fieldColumn)
            return try fieldBytes.withUnsafeBufferPointer { all in
                guard let base = all.baseAddress, all.count > 0 else { return "" }
                return try Self.decode(base, all.count, fieldLine, contentColumn, exactColumns)
            }
        }
        if n > maxFieldBytes { throw fieldTooLong(fieldLine, fieldColumn) }
        return try Self.decode(bytes, n, fieldLine, contentColumn, exactColumns)
    }

    /// Makes the field's string, refusing bytes that are not UTF-8 rather than letting
    /// String replace them with U+FFFD.
    private static func decode(_ bytes: UnsafePointer<UInt8>, _ n: Int, _ fieldLine: Int,
                               _ contentColumn: Int, _ exactColumns: Bool) throws -> String {
        guard n > 0 else { return "" }
        if let value = stringIfValidUTF8(bytes, n) { return value }
        let bad = utf8InvalidOffset(bytes, n) ?? 0
        var line = fieldLine
        var lineStart = 0
        var lastWasCR = false
        for i in 0..<bad {
            let b = bytes[i]
            if b == carriageReturn || (b == lineFeed && !lastWasCR) { line += 1 }
            if b == carriageReturn || b == lineFeed { lineStart = i + 1 }
            lastWasCR = b == carriageReturn
        }
        let scalarsBefore = utf8ScalarCount(bytes + lineStart, bad - lineStart)
        let column = lineStart > 0 ? scalarsBefore + 1 : contentColumn + scalarsBefore
        var validator = UTF8Validator()
        _ = validator.feed(bytes + bad, n - bad)
        throw CSVError(kind: .encoding, line: line, column: exactColumns ? column : nil,
                       message: "invalid UTF-8 byte sequence \(hexBytes(validator.sequence))")
    }

    // MARK: Errors

    private mutating func nulError(_ p: UnsafeMutablePointer<UInt8>) -> CSVError {
        let column = currentColumn(p)
        return CSVError(kind: .nulByte, line: line, column: column,
                        message: "NUL byte in the file (is it UTF-16 without a BOM, or not text at all?)")
    }

    private func fieldTooLong(_ fieldLine: Int, _ fieldColumn: Int) -> CSVError {
        CSVError(kind: .fieldTooLong, line: fieldLine, column: fieldColumn,
                 message: "field longer than \(maxFieldBytes) bytes")
    }

    private func unbalancedQuote(_ fieldLine: Int, _ fieldColumn: Int) -> CSVError {
        CSVError(kind: .unbalancedQuote, line: fieldLine, column: fieldColumn,
                 message: "the quote opened here is never closed")
    }
}
