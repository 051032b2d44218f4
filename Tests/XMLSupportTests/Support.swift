import XCTest
@testable import XMLSupport

/// Serves `bytes` to a reader in pieces of at most `chunk` bytes, the way a file would.
func byteSource(_ bytes: [UInt8], chunk: Int = 4096) -> (UnsafeMutableRawBufferPointer) throws -> Int {
    var offset = 0
    return { buffer in
        let count = min(chunk, buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
        }
        offset += count
        return count
    }
}

struct ReadResult {
    var events: [XMLEvent]
    var problems: [XMLProblem]
    var failed: Bool
    var dropped: Int
    var encodingName: String?

    var starts: [XMLStart] {
        events.compactMap { if case .start(let s) = $0 { return s } else { return nil } }
    }
    var texts: [String] {
        events.compactMap { if case .text(let t, _) = $0 { return t } else { return nil } }
    }
    /// Everything a caller could ever see, for "this must never leak" checks.
    var everything: String {
        var parts: [String] = []
        for event in events {
            switch event {
            case .start(let s): parts.append(s.localName); parts += s.attributes.map(\.value)
            case .end(let name, _, _): parts.append(name)
            case .text(let t, _): parts.append(t)
            }
        }
        parts += problems.map(\.message)
        return parts.joined(separator: "\n")
    }
}

func readAll(_ bytes: [UInt8], schema: XMLSchema? = nil, maxDepth: Int = 256, maxProblems: Int = 1000,
             chunk: Int = 4096, concurrent: Bool = false) -> ReadResult {
    let reader = XMLStreamReader(documentName: "test.xml", schema: schema, maxDepth: maxDepth,
                                 maxProblems: maxProblems, concurrent: concurrent, read: byteSource(bytes, chunk: chunk))
    var events: [XMLEvent] = []
    while let event = reader.next() { events.append(event) }
    return ReadResult(events: events, problems: reader.problems, failed: reader.failed,
                      dropped: reader.problemsDropped, encodingName: reader.encodingName)
}

func readAll(_ text: String, schema: XMLSchema? = nil, maxDepth: Int = 256, maxProblems: Int = 1000,
             chunk: Int = 4096, concurrent: Bool = false) -> ReadResult {
    readAll(Array(text.utf8), schema: schema, maxDepth: maxDepth, maxProblems: maxProblems, chunk: chunk,
            concurrent: concurrent)
}

func describe(_ r: ReadResult) -> String {
    var lines = r.events.map { event -> String in
        switch event {
        case .start(let s):
            return "start \(s.localName) ns=\(s.namespaceURI ?? "-") line=\(s.line) depth=\(s.depth) empty=\(s.isEmptyElement) attrs=\(s.attributes.map { "\($0.localName)=\($0.value)" })"
        case .end(let n, let ns, let d): return "end \(n) ns=\(ns ?? "-") depth=\(d)"
        case .text(let t, let l): return "text \(t.debugDescription) line=\(l)"
        }
    }
    lines += r.problems.map { "PROBLEM \($0.kind) line=\($0.line.map(String.init) ?? "-") col=\($0.column.map(String.init) ?? "-") \($0.message)" }
    lines.append("failed=\(r.failed) dropped=\(r.dropped) encoding=\(r.encodingName ?? "nil")")
    return lines.joined(separator: "\n")
}
