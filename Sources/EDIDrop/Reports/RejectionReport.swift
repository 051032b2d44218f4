import Foundation

/// The reports written next to a rejected original: `NAME.report.json` for programs and
/// `NAME.report.txt` for people. Built from the ledger (and the original, for quoting
/// lines), so that recovery can write them again byte for byte.
public struct RejectionReport: Sendable {
    /// The files written next to a rejected original, in this order: JSON, text, HTML.
    public static let fileSuffixes = [".report.json", ".report.txt", ".report.html"]

    public var file: FileRecord
    public var diagnostics: [Diagnostic]
    /// The quoted lines, by line number, as far as they could be read.
    public var sourceLines: [Int: String]
    public var duplicateOfName: String?
    /// Set for a file taken under the `record` policy: where its rejected orders are.
    public var rejectsName: String?
    /// For a partly accepted file: the orders that went through (at most 500 listed).
    public var sentOrderIDs: [String] = []
    /// Partly accepted: some orders went out, the rest are in the rejects file.
    public var isPartial: Bool { file.state == .accepted && file.errorCount > 0 }

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
        o.add("status", .string(isPartial ? "partial" : file.state.rawValue))
        if isPartial {
            o.add("sentOrders", .int(file.documents))
            o.add("sentOrderIds", .array(sentOrderIDs.map(JSONValue.string)))
            o.add("rejectsFile", .optional(rejectsName))
        }
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

    /// Orders the file held, when known (for the summary "in 2 of 41 orders").
    public var ordersInFile: Int? {
        guard file.channel == .orders && file.documents > 0 else { return nil }
        return isPartial ? file.documents + Set(diagnostics.compactMap(\.orderID)).count : file.documents
    }

    /// The findings grouped by order, in file order; findings about the file as a whole
    /// (no order) come first.
    func groups() -> [(orderID: String?, line: Int?, items: [(Int, Diagnostic)])] {
        var out: [(orderID: String?, line: Int?, items: [(Int, Diagnostic)])] = []
        var index: [String: Int] = [:]
        var fileLevel: [(Int, Diagnostic)] = []
        for (i, d) in diagnostics.enumerated() {
            guard let id = d.orderID, file.channel == .orders else { fileLevel.append((i + 1, d)); continue }
            if let k = index[id] {
                out[k].items.append((i + 1, d))
            } else {
                index[id] = out.count
                out.append((orderID: id, line: d.line, items: [(i + 1, d)]))
            }
        }
        if !fileLevel.isEmpty { out.insert((orderID: nil, line: nil, items: fileLevel), at: 0) }
        return out
    }

    /// The text report: a summary on top, then each error grouped by order, with its
    /// line quoted and a marker under the bad field, then how to resubmit.
    public func text(language l: ReportLanguage = .en) -> String {
        var t = ""
        let title = "\(l.reportFor) \(Self.visible(file.name))"
        t += title + "\n" + String(repeating: "=", count: min(72, title.count)) + "\n\n"
        if let dup = file.duplicateOf {
            t += "\(l.rejected): \(l.duplicate(of: dup, name: duplicateOfName.map(Self.visible)))\n\n"
        } else {
            let orders = Set(diagnostics.compactMap(\.orderID)).count
            if isPartial {
                t += "\(l.partlyAccepted): \(l.partialSummary(errors: file.errorCount, inOrders: orders, ofOrders: ordersInFile ?? orders, sent: file.documents, rejects: rejectsName))\n\n"
            } else {
                t += "\(l.rejected): \(l.summary(errors: file.errorCount, inOrders: orders, ofOrders: ordersInFile, warehouse: file.channel == .warehouse))\n\n"
            }
        }
        var facts: [(String, String)] = [(l.received, file.receivedAt), (l.ledgerID, "\(file.id ?? 0)   (edidrop show \(file.id ?? 0))")]
        if let sha = file.sha256 { facts.append(("sha256", sha)) }
        if let f = file.format {
            let title = DocumentFormat(rawValue: f)?.title ?? f
            facts.append((l.format, title + (file.encoding.map { ", " + l.encodingNote($0, fallback: encodingFallback) } ?? "")))
        }
        let width = facts.map { $0.0.trimmingSpaces.count }.max() ?? 0
        for (label, value) in facts {
            let name = label.trimmingSpaces
            t += "  " + name + String(repeating: " ", count: width - name.count + 2) + value + "\n"
        }
        t += "\n"
        for group in groups() {
            if let id = group.orderID {
                t += l.order(Self.visible(id)) + (group.line.map { " — \(l.line) \($0)" } ?? "") + "\n"
            } else if groups().count > 1 {
                t += l.wholeFile + "\n"
            }
            for (n, d) in group.items {
                var head = "  \(n). \(d.code.rawValue)"
                if let line = d.line { head += ", \(l.line) \(line)" }
                if let c = d.column { head += ", \(l.column) \(c)" }
                if let f = d.field { head += ", \(l.field) \(f)" }
                t += head + "\n"
                if let explained = l.explain(d.code) {
                    t += "     \(explained)\n"
                    t += "     (\(l.details): \(Self.visible(d.message)))\n"
                } else {
                    t += "     \(Self.visible(d.message))\n"
                }
                if let v = d.value { t += "     \(l.value): \"\(Self.visible(v))\"\n" }
                if let h = d.hint { t += "     \(l.fix): \(Self.visible(l.translateHint(h)))\n" }
                if let line = d.line, let text = sourceLines[line] {
                    t += Self.quote(line: line, text: text, column: d.column,
                                    width: d.value.map { max(1, $0.unicodeScalars.count) } ?? 1, indent: "     ")
                }
                t += "\n"
            }
        }
        if diagnostics.count < file.errorCount {
            t += l.moreNotListed(file.errorCount - diagnostics.count) + "\n\n"
        }
        if isPartial && !sentOrderIDs.isEmpty {
            t += (l == .pl ? "Wysłane zamówienia: " : "Orders sent: ") + sentOrderIDs.map(Self.visible).joined(separator: ", ")
            t += (file.documents > sentOrderIDs.count ? ", …" : "") + "\n\n"
        }
        t += l.howToResubmit + "\n" + String(repeating: "-", count: l.howToResubmit.count) + "\n"
        t += isPartial ? l.resubmitPartial(rejects: rejectsName) : l.resubmit(channel: file.channel, duplicate: file.duplicateOf != nil)
        return t
    }

    /// Set when the file was read with the configured fallback encoding.
    public var encodingFallback = false

    /// The same report as an HTML fragment: every value escaped, the offending value
    /// highlighted in its quoted line.
    public func htmlFragment(language l: ReportLanguage = .en) -> String {
        var h = "<section class=\"report\">\n"
        let summary: String
        if let dup = file.duplicateOf {
            summary = l.duplicate(of: dup, name: duplicateOfName)
        } else if isPartial {
            let orders = Set(diagnostics.compactMap(\.orderID)).count
            summary = l.partialSummary(errors: file.errorCount, inOrders: orders, ofOrders: ordersInFile ?? orders, sent: file.documents, rejects: rejectsName)
        } else {
            summary = l.summary(errors: file.errorCount, inOrders: Set(diagnostics.compactMap(\.orderID)).count,
                                ofOrders: ordersInFile, warehouse: file.channel == .warehouse)
        }
        h += "<p class=\"summary\"><strong>\(HTML.escape(isPartial ? l.partlyAccepted : l.rejected))</strong>: \(HTML.escape(summary))</p>\n"
        h += "<dl class=\"facts\">"
        h += "<dt>\(HTML.escape(l.received))</dt><dd>\(HTML.escape(file.receivedAt))</dd>"
        h += "<dt>\(HTML.escape(l.ledgerID))</dt><dd>\(file.id ?? 0)</dd>"
        if let f = file.format { h += "<dt>format</dt><dd>\(HTML.escape(DocumentFormat(rawValue: f)?.title ?? f))\(file.encoding.map { ", " + HTML.escape(l.encodingNote($0, fallback: encodingFallback)) } ?? "")</dd>" }
        if let sha = file.sha256 { h += "<dt>sha256</dt><dd><code>\(HTML.escape(sha))</code></dd>" }
        h += "</dl>\n"
        for group in groups() {
            if let id = group.orderID {
                h += "<h3>\(HTML.escape(l.order(id)))\(group.line.map { " — \(HTML.escape(l.line)) \($0)" } ?? "")</h3>\n"
            } else if groups().count > 1 {
                h += "<h3>\(HTML.escape(l.wholeFile))</h3>\n"
            }
            h += "<ol class=\"errors\">\n"
            for (n, d) in group.items {
                h += "<li value=\"\(n)\"><p><code class=\"code\">\(d.code.rawValue)</code>"
                if let line = d.line { h += " \(HTML.escape(l.line)) \(line)" }
                if let c = d.column { h += ", \(HTML.escape(l.column)) \(c)" }
                if let f = d.field { h += ", \(HTML.escape(l.field)) <code>\(HTML.escape(f))</code>" }
                h += "</p>\n<p>\(HTML.escape(l.explain(d.code).map { "\($0) (\(d.message))" } ?? d.message))</p>\n"
                if let v = d.value { h += "<p>\(HTML.escape(l.value)): <code>\(HTML.escape(v))</code></p>\n" }
                if let hint = d.hint { h += "<p class=\"fix\">\(HTML.escape(l.fix)): \(HTML.escape(l.translateHint(hint)))</p>\n" }
                if let line = d.line, let text = sourceLines[line] {
                    h += "<pre class=\"quote\"><span class=\"ln\">\(line)</span> \(Self.highlighted(text, column: d.column, width: d.value.map { max(1, $0.unicodeScalars.count) } ?? 1))</pre>\n"
                }
                h += "</li>\n"
            }
            h += "</ol>\n"
        }
        if diagnostics.count < file.errorCount {
            h += "<p>\(HTML.escape(l.moreNotListed(file.errorCount - diagnostics.count)))</p>\n"
        }
        h += "<h3>\(HTML.escape(l.howToResubmit))</h3>\n<p>\(HTML.escape(l.resubmit(channel: file.channel, duplicate: file.duplicateOf != nil)))</p>\n"
        return h + "</section>\n"
    }

    /// A standalone page, written as NAME.report.html next to the original.
    public func html(language l: ReportLanguage = .en) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(l.rawValue)"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(l.reportFor + " " + file.name))</title>
        <style>\(HTML.reportStyle)</style></head>
        <body><h1>\(HTML.escape(l.reportFor)) <code>\(HTML.escape(file.name))</code></h1>
        \(htmlFragment(language: l))</body></html>

        """
    }

    /// A quoted line with the bad value wrapped in <mark>, everything escaped.
    static func highlighted(_ text: String, column: Int?, width: Int) -> String {
        let scalars = Array(text.unicodeScalars)
        func esc(_ part: ArraySlice<Unicode.Scalar>) -> String {
            var s = ""
            s.unicodeScalars.append(contentsOf: part)
            return HTML.escape(visible(s))
        }
        guard let column, column >= 1, column - 1 <= scalars.count else { return esc(scalars[...]) }
        let start = column - 1
        let end = min(scalars.count, start + max(1, width))
        return esc(scalars[..<start]) + "<mark>" + esc(scalars[start..<end]) + "</mark>" + esc(scalars[end...])
    }

    /// The quoted line with a marker under the offending field. Columns count Unicode
    /// scalars, as the readers do; the marker is placed by display width (control
    /// characters shown as escapes, combining marks taking no cell), and long lines are
    /// cut to a window around the column so the marker stays readable.
    static func quote(line: Int, text: String, column: Int?, width: Int, indent: String = "   ") -> String {
        let number = String(line)
        let gutter = String(repeating: " ", count: number.count)
        let scalars = Array(text.unicodeScalars)
        // Visible cells per source scalar.
        let cells: [String] = scalars.map { visible(String($0)) }
        var first = 0
        var last = scalars.count
        let target = max(0, (column ?? 1) - 1)
        if displayWidth(cells.joined()) > 100 {
            first = max(0, min(target - 40, scalars.count - 100))
            last = min(scalars.count, first + 100)
        }
        let prefix = first > 0 ? "…" : ""
        let shown = prefix + cells[first..<last].joined()
        var out = "\(indent)\(number) | \(shown)\n"
        if let column, column >= 1, column - 1 <= scalars.count, target >= first, target <= last {
            let pad = displayWidth(prefix + cells[first..<target].joined())
            let end = min(last, target + max(1, width))
            let w = max(1, displayWidth(cells[target..<end].joined()))
            out += "\(indent)\(gutter) | " + String(repeating: " ", count: pad) + String(repeating: "^", count: w) + "\n"
        }
        return out
    }

    /// Terminal cells a string takes: combining marks take none.
    static func displayWidth(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { n, scalar in
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark: return n
            default: return n + 1
            }
        }
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
        if line <= last, !current.isEmpty { finishLine() }
        return result
    }
}
