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
        let source = try FileSource(path: original)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
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
}
