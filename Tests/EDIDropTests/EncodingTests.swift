import XCTest
@testable import EDIDrop

/// Reads a TranscodingSource dry with reads of `outputSize` bytes; returns what came out
/// before the first problem, and the problem.
func transcodeUntilProblem(_ bytes: [UInt8], _ encoding: TextEncoding, bomLength: Int = 0,
                           trickle: Bool = false, outputSize: Int = 4096) -> (output: [UInt8], problem: EncodingProblem?) {
    let detection = EncodingDetection(encoding: encoding, bomLength: bomLength, fallbackUsed: false)
    func drain<S: ByteSource>(_ source: inout TranscodingSource<S>) -> ([UInt8], EncodingProblem?) {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: outputSize)
        do {
            while true {
                let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 { return (output, nil) }
                XCTAssertLessThanOrEqual(n, outputSize)
                output += chunk[0..<n]
            }
        } catch let problem as EncodingProblem {
            // Once a problem is raised it stays raised.
            XCTAssertThrowsError(try chunk.withUnsafeMutableBytes { try source.read(into: $0) })
            return (output, problem)
        } catch {
            XCTFail("unexpected error \(error)")
            return (output, nil)
        }
    }
    if trickle {
        var source = TranscodingSource(base: TrickleSource(bytes), detection: detection)
        return drain(&source)
    }
    var source = TranscodingSource(base: BytesSource(bytes), detection: detection)
    return drain(&source)
}

/// The text a TranscodingSource makes of `bytes`, checked to be the same for every way
/// of chunking input and output.
func transcoded(_ bytes: [UInt8], _ encoding: TextEncoding, bomLength: Int = 0,
                file: StaticString = #filePath, line: UInt = #line) -> String? {
    var results: [[UInt8]] = []
    for trickle in [false, true] {
        for outputSize in [1, 2, 3, 5, 4096] {
            let (output, problem) = transcodeUntilProblem(bytes, encoding, bomLength: bomLength,
                                                          trickle: trickle, outputSize: outputSize)
            XCTAssertNil(problem, file: file, line: line)
            results.append(output)
        }
    }
    XCTAssertEqual(Set(results).count, 1, "chunking changed the output", file: file, line: line)
    guard let result = results.first, let text = String(validating: result, as: UTF8.self) else {
        XCTFail("output is not UTF-8", file: file, line: line)
        return nil
    }
    return text
}

func sniffEncoding(_ bytes: [UInt8], chunkSize: Int, fallback: TextEncoding = .windows1250) -> EncodingDetection {
    var sniffer = EncodingSniffer()
    bytes.withUnsafeBytes { all in
        var at = 0
        while at < all.count {
            let next = min(all.count, at + chunkSize)
            sniffer.feed(UnsafeRawBufferPointer(rebasing: all[at..<next]))
            at = next
        }
    }
    return sniffer.finish(fallback: fallback)
}

func utf16LEUnits(_ units: [UInt16]) -> [UInt8] {
    units.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
}

final class EncodingTests: XCTestCase {

    // MARK: Names

    func testConfigNames() {
        let accepted: [(String, TextEncoding)] = [
            ("UTF-8", .utf8), ("utf8", .utf8), ("Utf_8", .utf8),
            ("UTF-16LE", .utf16LE), ("utf-16be", .utf16BE),
            ("windows-1250", .windows1250), ("CP1250", .windows1250), ("Windows 1250", .windows1250),
            ("win1250", .windows1250),
            ("ISO-8859-2", .iso8859_2), ("iso8859_2", .iso8859_2), ("latin2", .iso8859_2), ("Latin-2", .iso8859_2),
        ]
        for (name, encoding) in accepted {
            XCTAssertEqual(TextEncoding(configName: name), encoding, name)
        }
        for encoding in TextEncoding.allCases {
            XCTAssertEqual(TextEncoding(configName: encoding.rawValue), encoding)
        }
        for name in ["utf-16", "ascii", "", "cp1252", "latin1", "iso-8859-1"] {
            XCTAssertNil(TextEncoding(configName: name), name)
        }
    }

    // MARK: Sniffing

    func testByteOrderMarksWin() {
        let cases: [([UInt8], EncodingDetection)] = [
            ([0xEF, 0xBB, 0xBF, 0x41], EncodingDetection(encoding: .utf8, bomLength: 3, fallbackUsed: false)),
            // The BOM wins even over bytes that are not UTF-8 after it.
            ([0xEF, 0xBB, 0xBF, 0xB9], EncodingDetection(encoding: .utf8, bomLength: 3, fallbackUsed: false)),
            ([0xFF, 0xFE, 0x41, 0x00], EncodingDetection(encoding: .utf16LE, bomLength: 2, fallbackUsed: false)),
            ([0xFE, 0xFF, 0x00, 0x41], EncodingDetection(encoding: .utf16BE, bomLength: 2, fallbackUsed: false)),
            ([0xFF, 0xFE], EncodingDetection(encoding: .utf16LE, bomLength: 2, fallbackUsed: false)),
        ]
        for (bytes, expected) in cases {
            for chunkSize in [1, 2, 64] {
                XCTAssertEqual(sniffEncoding(bytes, chunkSize: chunkSize), expected, "\(bytes) by \(chunkSize)")
            }
        }
    }

    func testValidUTF8IsUTF8WhereverTheChunksSplitIt() {
        let utf8 = EncodingDetection(encoding: .utf8, bomLength: 0, fallbackUsed: false)
        XCTAssertEqual(sniffEncoding([], chunkSize: 1), utf8)
        XCTAssertEqual(sniffEncoding(Array("order_id;sku\nPL-1;MUG\n".utf8), chunkSize: 7), utf8)
        let text = Array("Zażółć gęślą jaźń, € 😀 ŹŻ and some ASCII to pass the fast path".utf8)
        for split in 0...text.count {
            var sniffer = EncodingSniffer()
            text.withUnsafeBytes { all in
                sniffer.feed(UnsafeRawBufferPointer(rebasing: all[0..<split]))
                sniffer.feed(UnsafeRawBufferPointer(rebasing: all[split...]))
            }
            XCTAssertEqual(sniffer.finish(fallback: .windows1250), utf8, "split at \(split)")
        }
        XCTAssertEqual(sniffEncoding(text, chunkSize: 1), utf8)
        // The edges of each sequence length, and on either side of the surrogates.
        let edges: [[UInt8]] = [[0x7F], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
                                [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
                                [0xF4, 0x8F, 0xBF, 0xBF]]
        for edge in edges {
            XCTAssertEqual(sniffEncoding([0x61] + edge + [0x62], chunkSize: 1), utf8, "\(edge)")
            XCTAssertEqual(sniffEncoding([0x61] + edge + [0x62], chunkSize: 100), utf8, "\(edge)")
        }
    }

    func testMalformedUTF8FallsBack() {
        let malformed: [[UInt8]] = [
            [0x80], [0xBF], [0xFF], [0xFE], [0xF5, 0x80, 0x80, 0x80],
            [0xC3, 0x28], [0xE2, 0x28, 0xA1], [0xF0, 0x9F, 0x98, 0x41],
            // Overlongs.
            [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xE0, 0x9F, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF],
            // Surrogates.
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            // Above U+10FFFF.
            [0xF4, 0x90, 0x80, 0x80],
        ]
        let prefix = Array("sixteen ASCII bytes..".utf8)
        for bad in malformed {
            for chunkSize in [1, 3, 1000] {
                let detection = sniffEncoding(prefix + bad + [0x61], chunkSize: chunkSize, fallback: .iso8859_2)
                XCTAssertEqual(detection, EncodingDetection(encoding: .iso8859_2, bomLength: 0, fallbackUsed: true),
                               "\(bad) by \(chunkSize)")
            }
        }
        // A sequence cut off by the end of the file.
        for truncated: [UInt8] in [[0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98]] {
            XCTAssertTrue(sniffEncoding(prefix + truncated, chunkSize: 1).fallbackUsed, "\(truncated)")
        }
        XCTAssertEqual(sniffEncoding(polishWindows1250, chunkSize: 4).encoding, .windows1250)
    }

    // MARK: UTF-8

    func testUTF8PassesThroughWithoutItsBOM() {
        let text = "zażółć;😀\r\nx"
        XCTAssertEqual(transcoded([0xEF, 0xBB, 0xBF] + Array(text.utf8), .utf8, bomLength: 3), text)
        XCTAssertEqual(transcoded(Array(text.utf8), .utf8), text)
    }

    func testInvalidUTF8IsAProblemAtItsPlace() {
        let bytes = Array("ab\ncż".utf8) + [0xC3, 0x28] + Array("x\n".utf8)
        for trickle in [false, true] {
            let (output, problem) = transcodeUntilProblem(bytes, .utf8, trickle: trickle, outputSize: trickle ? 2 : 4096)
            XCTAssertEqual(problem, EncodingProblem(line: 2, column: 3, message: "invalid UTF-8 byte sequence 0xC3 0x28"))
            if !trickle {
                XCTAssertEqual(output, Array("ab\ncż".utf8), "the good bytes come first")
            }
            XCTAssertFalse(String(decoding: output, as: UTF8.self).contains("\u{FFFD}"))
        }
        let cases: [([UInt8], String)] = [
            ([0xC0, 0xAF], "0xC0"),
            ([0xE0, 0x80, 0xAF], "0xE0 0x80"),
            ([0xED, 0xA0, 0x80], "0xED 0xA0"),
            ([0xF4, 0x90, 0x80, 0x80], "0xF4 0x90"),
            ([0xF0, 0x9F, 0x98, 0x41], "0xF0 0x9F 0x98 0x41"),
        ]
        for (bad, shown) in cases {
            let (_, problem) = transcodeUntilProblem(Array("a\r\rbc".utf8) + bad, .utf8, trickle: true)
            XCTAssertEqual(problem, EncodingProblem(line: 3, column: 3, message: "invalid UTF-8 byte sequence \(shown)"))
        }
        // Line ends split between reads (CR in one, LF in the next) count once.
        for outputSize in [1, 2, 3, 4096] {
            let bytes = Array("x\r\ny\r\n\r\nzą".utf8) + [0xFF]
            let (_, problem) = transcodeUntilProblem(bytes, .utf8, trickle: true, outputSize: outputSize)
            XCTAssertEqual(problem, EncodingProblem(line: 4, column: 3, message: "invalid UTF-8 byte sequence 0xFF"),
                           "reads of \(outputSize)")
        }
        let (output, truncated) = transcodeUntilProblem(Array("ab".utf8) + [0xE2, 0x82], .utf8)
        XCTAssertEqual(output, [0x61, 0x62, 0xE2, 0x82])
        XCTAssertEqual(truncated, EncodingProblem(
            line: 1, column: 3, message: "truncated UTF-8 byte sequence 0xE2 0x82 at the end of the file"))
    }

    // MARK: UTF-16

    func testUTF16BothByteOrders() {
        let text = "Zażółć\r\ngęślą 😀 € „cytat”\n"
        XCTAssertEqual(transcoded(utf16Bytes(text, bigEndian: false), .utf16LE, bomLength: 2), text)
        XCTAssertEqual(transcoded(utf16Bytes(text, bigEndian: true), .utf16BE, bomLength: 2), text)
        XCTAssertEqual(transcoded(utf16Bytes(text, bigEndian: true, bom: false), .utf16BE), text)
    }

    func testBrokenUTF16() {
        let lone = utf16LEUnits([0x61, 0x0A, 0x62, 0xD83D, 0x63])
        let (output, problem) = transcodeUntilProblem(lone, .utf16LE)
        XCTAssertEqual(output, Array("a\nb".utf8))
        XCTAssertEqual(problem, EncodingProblem(line: 2, column: 2, message: "unpaired UTF-16 surrogate 0xD83D"))

        let low = transcodeUntilProblem(utf16LEUnits([0x0D, 0x0A, 0x0D, 0xDE00]), .utf16LE, trickle: true).problem
        XCTAssertEqual(low, EncodingProblem(line: 3, column: 1, message: "unpaired UTF-16 surrogate 0xDE00"))

        let atEnd = transcodeUntilProblem(utf16LEUnits([0x78, 0xD83D]), .utf16LE, trickle: true).problem
        XCTAssertEqual(atEnd, EncodingProblem(
            line: 1, column: 2, message: "unpaired UTF-16 surrogate 0xD83D at the end of the file"))

        let odd = transcodeUntilProblem(utf16LEUnits([0x61, 0x62]) + [0x41], .utf16LE, trickle: true).problem
        XCTAssertEqual(odd, EncodingProblem(line: 1, column: 3, message: "odd trailing byte 0x41 at the end of UTF-16 input"))
    }

    // MARK: Code pages

    func testWindows1250() {
        XCTAssertEqual(transcoded(polishWindows1250, .windows1250), polishLetters)
        XCTAssertEqual(transcoded([0x80, 0x84, 0x94, 0x96, 0xA0, 0xFF, 0x8A, 0x9A, 0x8D, 0x9D, 0xBC, 0xBE], .windows1250),
                       "€„”–\u{A0}˙ŠšŤťĽľ")
        // All 251 defined bytes decode, each to one character.
        let defined = (0...255).map(UInt8.init).filter { ![0x81, 0x83, 0x88, 0x90, 0x98].contains($0) }
        XCTAssertEqual(transcoded(defined, .windows1250)?.unicodeScalars.count, 251)
    }

    func testUndefinedWindows1250Bytes() {
        for byte: UInt8 in [0x81, 0x83, 0x88, 0x90, 0x98] {
            let bytes = Array("a\r\nb\rc\nd".utf8) + [byte] + Array("e\n".utf8)
            for (trickle, outputSize) in [(false, 4096), (true, 1), (true, 2)] {
                let (output, problem) = transcodeUntilProblem(bytes, .windows1250, trickle: trickle,
                                                              outputSize: outputSize)
                XCTAssertEqual(output, Array("a\r\nb\rc\nd".utf8))
                XCTAssertEqual(problem, EncodingProblem(
                    line: 4, column: 2, message: "byte \(hexBytes([byte])) is not valid windows-1250"))
            }
        }
    }

    func testISO8859_2() {
        XCTAssertEqual(transcoded(polishISO8859_2, .iso8859_2), polishLetters)
        let all = transcoded((0...255).map(UInt8.init), .iso8859_2)
        let scalars = all.map { Array($0.unicodeScalars) } ?? []
        XCTAssertEqual(scalars.count, 256)
        // 0x80–0x9F are the C1 controls; 0xA0 upwards the Latin-2 letters.
        XCTAssertEqual(scalars[0x80...0x9F].map(\.value), Array(0x80...0x9F))
        XCTAssertEqual(String(String.UnicodeScalarView(scalars[0xA1...0xA6])), "Ą˘Ł¤ĽŚ")
        XCTAssertEqual(String(String.UnicodeScalarView(scalars[0xFC...0xFF])), "üýţ˙")
    }
}
