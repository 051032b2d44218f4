import Foundation

/// The reports written next to a rejected original: `NAME.report.json` for programs and
/// `NAME.report.txt` for people. Built from the ledger (and the original, for quoting
/// lines), so that recovery can write them again byte for byte.
public struct RejectionReport: Sendable {
    public var file: FileRecord
    public var diagnostics: [Diagnostic]
    /// The quoted lines, by line number, as far as they could be read.
    public var sourceLines: [Int: String]
    public var duplicateOfName: String?

    /// The JSON document (DESIGN.md "Rejected-file reports"), keys in a stable order.
    public func json() -> String {
        jsonValue().render(pretty: true) + "\n"
    }

    public func jsonValue() -> JSONValue {
        var o = JSONObject()
        o.add("file", .string(file.name))
        o.add("sha256", file.sha256.map(JSONValue.string) ?? .null)
        o.add("channel", .string(file.channel.rawValue))
        o.add("receivedAt", .string(file.receivedAt))
        o.add("status", .string(file.state.rawValue))
        o.add("id", .int(Int(file.id ?? 0)))
        o.add("storedName", .string(file.storedName))
        o.add("format", file.format.map(JSONValue.string) ?? .null)
        o.add("encoding", file.encoding.map(JSONValue.string) ?? .null)
        if let d = file.duplicateOf { o.add("duplicateOf", .int(Int(d))) }
        o.add("errorCount", .int(file.errorCount))
        o.add("errors", .array(diagnostics.map { d in
            var e = JSONObject()
            e.add("code", .string(d.code.rawValue))
            e.add("line", d.line.map(JSONValue.int) ?? .null)
            e.add("column", d.column.map(JSONValue.int) ?? .null)
            e.add("field", d.field.map(JSONValue.string) ?? .null)
            e.add("value", d.value.map(JSONValue.string) ?? .null)
            e.add("message", .string(d.message))
            if let id = d.orderID { e.add("orderId", .string(id)) }
            if let h = d.hint { e.add("hint", .string(h)) }
            return .object(e)
        }))
        return .object(o)
    }

    /// The text report: a summary on top, then each error with its line quoted and a
    /// marker under the bad field, then how to resubmit.
    public func text() -> String {
        var t = ""
        t += "edidrop report for \(file.name)\n"
        t += String(repeating: "=", count: min(72, 19 + file.name.count)) + "\n\n"
        let total = file.errorCount
        if let dup = file.duplicateOf {
            t += "REJECTED: the same bytes were already received as file \(dup)"
            t += duplicateOfName.map { " (\($0))" } ?? ""
            t += ". Nothing from this file was sent.\n\n"
        } else {
            let orders = Set(diagnostics.compactMap(\.orderID))
            let inOrders = orders.isEmpty || file.channel != .orders ? "" : " in \(orders.count) order\(orders.count == 1 ? "" : "s")"
            t += "REJECTED: \(total) error\(total == 1 ? "" : "s")\(inOrders); nothing from this file was sent.\n\n"
        }
        t += "  received   \(file.receivedAt)\n"
        t += "  ledger id  \(file.id ?? 0)   (edidrop show \(file.id ?? 0))\n"
        if let sha = file.sha256 { t += "  sha256     \(sha)\n" }
        if let f = file.format { t += "  format     \(f)\(file.encoding.map { ", \($0)" } ?? "")\n" }
        t += "\n"
        for (i, d) in diagnostics.enumerated() {
            var head = "\(i + 1). \(d.code.rawValue)"
            if let line = d.line { head += " at line \(line)" }
            if let c = d.column { head += ", column \(c)" }
            if let f = d.field { head += ", field \(f)" }
            if let o = d.orderID { head += " (order \(o))" }
            t += head + "\n"
            t += "   \(d.message)\n"
            if let v = d.value { t += "   value: \"\(Self.visible(v))\"\n" }
            if let h = d.hint { t += "   fix:   \(h)\n" }
            if let line = d.line, let text = sourceLines[line] {
                t += Self.quote(line: line, text: text, column: d.column, width: d.value.map { max(1, $0.count) } ?? 1)
            }
            t += "\n"
        }
        if diagnostics.count < total {
            t += "… and \(total - diagnostics.count) more errors not listed.\n\n"
        }
        t += "How to resubmit\n---------------\n"
        if file.duplicateOf != nil {
            t += "Nothing to do if this was sent twice by mistake. If the file was meant to be new,\n"
            t += "check that it really holds new content: identical bytes are never processed twice.\n"
        } else {
            let folder = file.channel == .orders ? "the inbox" : "from-warehouse/"
            t += "Correct the lines above in your copy of the file and drop the corrected file into\n"
            t += "\(folder) again. A corrected file is a new file and is taken normally; the same\n"
            t += "bytes dropped again are refused as DUPLICATE_FILE. Error codes are listed in the README.\n"
        }
        return t
    }

    /// The quoted line with a marker under the offending field. Long lines are cut to a
    /// window around the column so the marker stays readable.
    static func quote(line: Int, text: String, column: Int?, width: Int) -> String {
        let number = String(line)
        let gutter = String(repeating: " ", count: number.count)
        var chars = Array(visible(text))
        var col = column
        if chars.count > 100 {
            let start = max(0, min((column ?? 1) - 1 - 40, chars.count - 100))
            chars = Array(chars[start..<min(chars.count, start + 100)])
            if start > 0 { chars = Array("…") + chars }
            col = column.map { $0 - start + (start > 0 ? 1 : 0) }
        }
        var out = "   \(number) | \(String(chars))\n"
        if let col, col >= 1, col <= chars.count + 1 {
            let w = max(1, min(width, chars.count - col + 1))
            out += "   \(gutter) | " + String(repeating: " ", count: col - 1) + String(repeating: "^", count: w) + "\n"
        }
        return out
    }

    /// Control characters made visible, so a report never carries raw terminal escapes.
    static func visible(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar == "\t" { out += "→" }
            else if scalar.value < 0x20 || scalar.value == 0x7F { out += "\\u{\(String(scalar.value, radix: 16))}" }
            else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}

/// Reads chosen lines of a file (decoded as the file was), streaming, for quoting.
public enum SourceLines {
    public static func collect(path: String, lines wanted: Set<Int>, encoding: EncodingDetection?, maxLength: Int = 4000) -> [Int: String] {
        guard !wanted.isEmpty, let source = try? FileSource(path: path) else { return [:] }
        let detection = encoding ?? EncodingDetection(encoding: .utf8, bomLength: 0, fallbackUsed: false)
        var input = TranscodingSource(base: source, detection: detection)
        var result: [Int: String] = [:]
        var line = 1
        var current: [UInt8] = []
        var previousCR = false
        let last = wanted.max() ?? 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        func finishLine() {
            if wanted.contains(line) { result[line] = String(decoding: current, as: UTF8.self) }
            current.removeAll(keepingCapacity: true)
            line += 1
        }
        reading: while line <= last {
            let n: Int
            do { n = try input.read(into: buffer) } catch { break }
            if n == 0 { break }
            for b in buffer[0..<n] {
                if b == 0x0A {
                    if previousCR { previousCR = false; continue }
                    finishLine()
                } else if b == 0x0D {
                    previousCR = true
                    finishLine()
                    continue
                } else if wanted.contains(line), current.count < maxLength {
                    current.append(b)
                }
                previousCR = false
                if line > last { break reading }
            }
        }
        if line <= last, !current.isEmpty || wanted.contains(line) { finishLine() }
        return result
    }
}
