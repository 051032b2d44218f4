/// `rejected/NAME.rejects.csv` for a file taken under the `record` policy: its header and
/// only the rows of the orders that were not sent, byte for byte in the original layout
/// and encoding, ready to be fixed and dropped back.
enum RejectsFile {
    /// The lines to keep: the header's, and every row of a record that starts inside one of
    /// the rejected orders' ranges (a quoted field may carry a row over several lines).
    static func selectedLines(original: String, detection: EncodingDetection, ranges: [(first: Int, lastRow: Int)]) throws -> Set<Int> {
        var csv = CSVReader(source: TranscodingSource(base: try FileSource(path: original), detection: detection))
        var lines = Set<Int>()
        var isHeader = true
        while let record = try csv.next() {
            if isHeader || ranges.contains(where: { record.line >= $0.first && record.line <= $0.lastRow }) {
                lines.formUnion(record.line...record.endLine)
            }
            isHeader = false
        }
        return lines
    }

    /// The raw bytes of those lines, in the file's own encoding (BOM and line endings kept).
    static func bytes(original: String, detection: EncodingDetection, lines: Set<Int>) throws -> [UInt8] {
        let data = try contents(of: original)
        // Lines end at LF, CRLF or a lone CR, as the reader counts them, in code units.
        let unit = detection.encoding == .utf16LE || detection.encoding == .utf16BE ? 2 : 1
        func codeUnit(_ i: Int) -> UInt16 {
            if unit == 1 { return UInt16(data[i]) }
            guard i + 1 < data.count else { return 0xFFFF }
            return detection.encoding == .utf16LE ? UInt16(data[i]) | UInt16(data[i + 1]) << 8 : UInt16(data[i]) << 8 | UInt16(data[i + 1])
        }
        var out: [UInt8] = []
        var line = 1
        var start = 0
        var i = 0
        while i < data.count {
            let c = codeUnit(i)
            var end: Int?
            if c == 0x0A {
                end = i + unit
            } else if c == 0x0D {
                end = (i + unit < data.count && codeUnit(i + unit) == 0x0A) ? i + 2 * unit : i + unit
            }
            if let end {
                if lines.contains(line) { out.append(contentsOf: data[start..<end]) }
                line += 1
                start = end
                i = end
            } else {
                i += unit
            }
        }
        if start < data.count, lines.contains(line) { out.append(contentsOf: data[start...]) }
        return out
    }

    /// The XML rejects: the lines of the prolog and root start tag, of each rejected order,
    /// and the root's end tag (when the last order was sent, its line is added back).
    /// UTF-8 only (the caller checks), lines ending at LF.
    static func xmlBytes(original: String, ranges: [(first: Int, lastRow: Int)]) throws -> [UInt8] {
        let data = try contents(of: original)
        var rows: [ArraySlice<UInt8>] = []
        var start = 0
        for (i, b) in data.enumerated() where b == 0x0A {
            rows.append(data[start...i])
            start = i + 1
        }
        if start < data.count { rows.append(data[start...]) }
        var keep = Set<Int>()
        var reachesEnd = false
        for r in ranges {
            let last = min(r.lastRow, rows.count)
            if r.lastRow >= rows.count { reachesEnd = true }
            if r.first <= last { keep.formUnion(r.first...last) }
        }
        if !reachesEnd,
           let i = rows.lastIndex(where: { $0.drop { $0 == 0x20 || $0 == 0x09 }.starts(with: [0x3C, 0x2F]) }) {
            keep.formUnion((i + 1)...rows.count)
        }
        var out: [UInt8] = []
        for (i, row) in rows.enumerated() where keep.contains(i + 1) { out.append(contentsOf: row) }
        return out
    }

    /// The whole original (rejects are built from the bytes of the rejected orders only,
    /// but their lines are found by walking the file), read without following links.
    private static func contents(of path: String) throws -> [UInt8] {
        let source = try FileSource(path: path)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }
}
