import XCTest
@testable import XMLSupport

final class StreamingTests: XCTestCase {
    /// Resident memory in bytes, from the kernel's own accounting.
    private func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }

    func testThirtyMegabytesStreamWithFlatMemory() {
        streamThirtyMegabytes(concurrent: false)
    }

    /// The same with parsing on a thread of its own: the batches parsed ahead are bounded too.
    func testThirtyMegabytesStreamWithFlatMemoryWhenParsedConcurrently() {
        streamThirtyMegabytes(concurrent: true)
    }

    private func streamThirtyMegabytes(concurrent: Bool) {
        let header = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:bulk\">\n".utf8)
        let record = Array("  <order id=\"123456\" status=\"open\"><qty>5</qty><note>bolts &amp; nuts, grade 8</note></order>\n".utf8)
        let footer = Array("</orders>\n".utf8)
        let records = 30_000_000 / record.count

        // The document exists only a buffer at a time.
        var produced = 0
        var position = 0
        var part = 0
        let parts = [header, record, footer]
        let baseline = residentBytes()
        var peak = baseline
        var sinceSample = 0
        let reader = XMLStreamReader(documentName: "bulk.xml", schema: nil, concurrent: concurrent) { buffer in
            var written = 0
            while written < buffer.count && part < 3 {
                let source = parts[part]
                let n = min(buffer.count - written, source.count - position)
                source.withUnsafeBytes { bytes in
                    (buffer.baseAddress! + written).copyMemory(from: bytes.baseAddress! + position, byteCount: n)
                }
                written += n
                position += n
                if position == source.count {
                    position = 0
                    if part == 1 {
                        produced += 1
                        if produced == records { part = 2 }
                    } else {
                        part += 1
                    }
                }
            }
            sinceSample += written
            if sinceSample > 1 << 20 {
                sinceSample = 0
                peak = max(peak, self.residentBytes())
            }
            return written
        }

        var elements = 0
        var texts = 0
        var maxDepth = 0
        while let event = reader.next() {
            switch event {
            case .start(let s):
                elements += 1
                maxDepth = max(maxDepth, s.depth)
            case .text: texts += 1
            case .end: break
            }
        }
        XCTAssertFalse(reader.failed, "\(reader.problems)")
        XCTAssertEqual(produced, records)
        XCTAssertGreaterThan(records * record.count, 29_000_000)
        XCTAssertEqual(elements, 1 + 3 * records)
        XCTAssertEqual(texts, 2 * records)
        XCTAssertEqual(maxDepth, 2)
        // A tree of this document would take hundreds of megabytes; the stream needs a
        // few buffers.
        XCTAssertLessThan(peak - baseline, 30 << 20, "memory grew by \((peak - baseline) >> 20) MB")
        print("streamed \(records * record.count) bytes (concurrent: \(concurrent)), resident memory grew by \((peak - baseline) >> 10) KB")
    }
}
