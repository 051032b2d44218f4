import XCTest
@testable import EDIDrop

/// Hands out 1, 2, 3, 1, 2, 3, ... bytes per read, so that every kind of chunk boundary
/// (inside a UTF-8 character, between CR and LF, between two quotes) happens somewhere.
struct TrickleSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    private var step = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ text: String) { self.bytes = Array(text.utf8) }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, step % 3 + 1, bytes.count - offset)
        step += 1
        guard n > 0 else { return 0 }
        for i in 0..<n { buffer[i] = bytes[offset + i] }
        offset += n
        return n
    }
}

/// Counts what a generating source has handed out; a class so the test can still see
/// it after the reader took the source.
final class ServedCounter {
    var bytes = 0
}

/// A header line, then one line of `lineLength` 'x' bytes, made up on the fly so the
/// test itself never holds the line.
struct LongLineSource: ByteSource {
    let header: [UInt8]
    let lineLength: Int
    let counter: ServedCounter

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let total = header.count + lineLength + 1
        let n = min(buffer.count, total - counter.bytes)
        guard n > 0 else { return 0 }
        for i in 0..<n {
            let at = counter.bytes + i
            if at < header.count {
                buffer[i] = header[at]
            } else if at < header.count + lineLength {
                buffer[i] = UInt8(ascii: "x")
            } else {
                buffer[i] = 0x0A
            }
        }
        counter.bytes += n
        return n
    }
}

/// The buffer's size follows what the source says is left: a one-order file is not
/// given (and does not zero) 64 KiB, twice, and a bigger or unsized one still reads whole.
final class CSVReaderBufferTests: XCTestCase {
    func testTheBufferIsSizedToASourceThatKnowsItsSize() throws {
        var small = CSVReader(source: BytesSource("a;b\n1;2\n"))
        XCTAssertEqual(try readAllRecords(&small).map { $0.fields.map(\.value) }, [["a", "b"], ["1", "2"]])
        XCTAssertEqual(small.capacity, 256, "the smallest buffer")

        let row = String(repeating: "x", count: 999)
        let text = "h;v\n" + (1...300).map { "\($0);\(row)\n" }.joined()
        var medium = CSVReader(source: BytesSource(text))
        let records = try readAllRecords(&medium)
        XCTAssertEqual(medium.capacity, 64 * 1024, "capped at a chunk")
        XCTAssertEqual(records.count, 301)
        XCTAssertEqual(records.last?.fields.last?.value, row)

        let exact = "h;v\n" + (1...3).map { "\($0);\(row)\n" }.joined()
        var sized = CSVReader(source: BytesSource(exact))
        XCTAssertEqual(try readAllRecords(&sized).count, 4)
        XCTAssertEqual(sized.capacity, exact.utf8.count + 1, "the whole input and a byte to see its end")

        var unsized = CSVReader(source: TrickleSource("a;b\n1;2\n"))
        XCTAssertEqual(try readAllRecords(&unsized).count, 2)
        XCTAssertEqual(unsized.capacity, 64 * 1024)
    }
}

func readAllRecords<S: ByteSource>(_ reader: inout CSVReader<S>) throws -> [CSVRecord] {
    var records: [CSVRecord] = []
    while let record = try reader.next() { records.append(record) }
    return records
}

func parseCSV(_ bytes: [UInt8], delimiter: UInt8? = nil, trickle: Bool = false,
           maxFieldBytes: Int = 1 << 20, maxFields: Int = 2000) throws -> [CSVRecord] {
    if trickle {
        var reader = CSVReader(source: TrickleSource(bytes), delimiter: delimiter,
                               maxFieldBytes: maxFieldBytes, maxFields: maxFields)
        return try readAllRecords(&reader)
    }
    var reader = CSVReader(source: BytesSource(bytes), delimiter: delimiter,
                           maxFieldBytes: maxFieldBytes, maxFields: maxFields)
    return try readAllRecords(&reader)
}

func parseCSV(_ text: String, delimiter: UInt8? = nil, trickle: Bool = false,
           maxFieldBytes: Int = 1 << 20, maxFields: Int = 2000) throws -> [CSVRecord] {
    try parseCSV(Array(text.utf8), delimiter: delimiter, trickle: trickle,
              maxFieldBytes: maxFieldBytes, maxFields: maxFields)
}

func csvValues(_ records: [CSVRecord]) -> [[String]] {
    records.map { $0.fields.map(\.value) }
}

/// The CSVError `body` throws; fails the test when it throws nothing or something else.
func catchCSVError(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> CSVError? {
    do {
        try body()
        XCTFail("expected a CSVError", file: file, line: line)
    } catch let error as CSVError {
        return error
    } catch {
        XCTFail("expected a CSVError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Sniffs (in 5-byte chunks, as a hashing caller would feed it), then reads the CSV
/// through TranscodingSource.
func readEncodedCSV(_ bytes: [UInt8], fallback: TextEncoding = .windows1250,
                    trickle: Bool = false) throws -> (EncodingDetection, [CSVRecord], UInt8?) {
    var sniffer = EncodingSniffer()
    bytes.withUnsafeBytes { all in
        var at = 0
        while at < all.count {
            let next = min(all.count, at + 5)
            sniffer.feed(UnsafeRawBufferPointer(rebasing: all[at..<next]))
            at = next
        }
    }
    let detection = sniffer.finish(fallback: fallback)
    if trickle {
        var reader = CSVReader(source: TranscodingSource(base: TrickleSource(bytes), detection: detection))
        return (detection, try readAllRecords(&reader), reader.delimiter)
    }
    var reader = CSVReader(source: TranscodingSource(base: BytesSource(bytes), detection: detection))
    return (detection, try readAllRecords(&reader), reader.delimiter)
}

func utf16Bytes(_ text: String, bigEndian: Bool, bom: Bool = true) -> [UInt8] {
    var units = Array(text.utf16)
    if bom { units.insert(0xFEFF, at: 0) }
    return units.flatMap { unit -> [UInt8] in
        bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)]
    }
}

/// The Polish letters in windows-1250 and ISO-8859-2, in the order of `polishLetters`.
let polishLetters = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"
let polishWindows1250: [UInt8] = [0xB9, 0xE6, 0xEA, 0xB3, 0xF1, 0xF3, 0x9C, 0x9F, 0xBF,
                                  0xA5, 0xC6, 0xCA, 0xA3, 0xD1, 0xD3, 0x8C, 0x8F, 0xAF]
let polishISO8859_2: [UInt8] = [0xB1, 0xE6, 0xEA, 0xB3, 0xF1, 0xF3, 0xB6, 0xBC, 0xBF,
                                0xA1, 0xC6, 0xCA, 0xA3, 0xD1, 0xD3, 0xA6, 0xAC, 0xAF]

final class CSVReaderTests: XCTestCase {

    // MARK: Delimiters

    func testDetectsSemicolonCommaAndTab() throws {
        let samples: [(String, UInt8)] = [("a;b;c\n1;2;3\n", 0x3B), ("a,b,c\n1,2,3\n", 0x2C), ("a\tb\tc\n1\t2\t3\n", 0x09)]
        for (text, delimiter) in samples {
            var reader = CSVReader(source: BytesSource(text))
            XCTAssertNil(reader.delimiter)
            let records = try readAllRecords(&reader)
            XCTAssertEqual(reader.delimiter, delimiter, text)
            XCTAssertEqual(csvValues(records), [["a", "b", "c"], ["1", "2", "3"]], text)
        }
    }

    func testDelimiterTiesAndAbsence() throws {
        func detected(_ text: String) throws -> UInt8? {
            var reader = CSVReader(source: BytesSource(text))
            _ = try reader.next()
            return reader.delimiter
        }
        XCTAssertEqual(try detected("a;b,c\n"), UInt8(ascii: ";"))
        XCTAssertEqual(try detected("a\tb,c\n"), UInt8(ascii: "\t"))
        XCTAssertEqual(try detected("a;b\tc\n"), UInt8(ascii: ";"))
        XCTAssertEqual(try detected("a,b,c;d\n"), UInt8(ascii: ","))
        XCTAssertEqual(try detected("single\nx;y;z\n"), UInt8(ascii: ","))
        // Only the header counts, and delimiters inside quotes do not.
        XCTAssertEqual(try detected("a,b\n1;2;3;4\n"), UInt8(ascii: ","))
        XCTAssertEqual(try detected("\"a;b;c\",d,e\n"), UInt8(ascii: ","))
        XCTAssertEqual(try detected("\"x\ty\";\"p\tq\"\n"), UInt8(ascii: ";"))
    }

    func testDetectionSkipsLeadingEmptyLinesAndGivenDelimiterWins() throws {
        let records = try parseCSV("\n\r\nx;y\n1;2\n")
        XCTAssertEqual(csvValues(records), [["x", "y"], ["1", "2"]])
        XCTAssertEqual(records.map(\.line), [3, 4])

        XCTAssertEqual(csvValues(try parseCSV("a,b;c\n", delimiter: UInt8(ascii: ";"))), [["a,b", "c"]])
        XCTAssertEqual(csvValues(try parseCSV("a;b|c\n", delimiter: UInt8(ascii: "|"))), [["a;b", "c"]])
    }

    // MARK: Quoting and positions

    let quotingSample =
        "id;name;note\r\n"
        + "1;\"Kowalski; Jan\";\"He said \"\"hi\"\"\"\r\n"
        + "2;\"multi\nline\r\nvalue\";x\r\n"
        + "3;plain\"quote;\"\";\n"
        + "\"last\";z"

    func testQuotedFieldsValuesLinesAndColumns() throws {
        let records = try parseCSV(quotingSample)
        XCTAssertEqual(csvValues(records), [
            ["id", "name", "note"],
            ["1", "Kowalski; Jan", "He said \"hi\""],
            ["2", "multi\nline\r\nvalue", "x"],
            ["3", "plain\"quote", "", ""],
            ["last", "z"],
        ])
        XCTAssertEqual(records.map(\.line), [1, 2, 3, 6, 7])
        XCTAssertEqual(records.map(\.endLine), [1, 2, 5, 6, 7])
        XCTAssertEqual(records[1].fields.map(\.column), [1, 3, 19])
        XCTAssertEqual(records[2].fields.map(\.line), [3, 3, 5])
        XCTAssertEqual(records[2].fields.map(\.column), [1, 3, 8])
        XCTAssertEqual(records[3].fields.map(\.column), [1, 3, 15, 18])
        XCTAssertEqual(records[4].fields.map(\.line), [7, 7])
        XCTAssertEqual(records[4].fields.map(\.column), [1, 8])
    }

    func testTinyChunksGiveTheSameRecords() throws {
        let samples = [
            quotingSample,
            "a,b\r1,\"x\r\ny\"\r\r\n\"\"\"\",ż\r\n",
            "zażółć;\"gę\"\"ślą\";jaźń 😀\r\n\"ą\r\nś\";ć\n",
        ]
        for sample in samples {
            XCTAssertEqual(try parseCSV(sample, trickle: true), try parseCSV(sample), sample)
        }
    }

    /// A format's reader takes a copy of a CSV reader before it starts (the buffer is made
    /// at the first read since b377fd6): copies, made before or after the start, each read
    /// the whole input on their own, and reading one moves no other.
    func testCopiesOfAReaderReadOnTheirOwn() throws {
        let text = "a;b\n1;\"x;y\"\n2;z\n"
        let expected = try parseCSV(text)
        var original = CSVReader(source: BytesSource(text))
        var copy = original
        XCTAssertEqual(try readAllRecords(&copy), expected)
        XCTAssertEqual(try readAllRecords(&original), expected)

        var started = CSVReader(source: BytesSource(text))
        let header = try XCTUnwrap(started.next())
        var later = started
        XCTAssertEqual(try readAllRecords(&later), Array(expected.dropFirst()))
        XCTAssertEqual(try readAllRecords(&started), Array(expected.dropFirst()))
        XCTAssertEqual(header, expected[0])
    }

    func testLineEndingsEmptyLinesAndTrailingDelimiters() throws {
        let crOnly = try parseCSV("a,b\r1,2\r\r3,4")
        XCTAssertEqual(csvValues(crOnly), [["a", "b"], ["1", "2"], ["3", "4"]])
        XCTAssertEqual(crOnly.map(\.line), [1, 2, 4])

        let blank = try parseCSV("a;b\n\n\r\n1;2\n \n")
        XCTAssertEqual(csvValues(blank), [["a", "b"], ["1", "2"], [" "]])
        XCTAssertEqual(blank.map(\.line), [1, 4, 5])

        XCTAssertEqual(csvValues(try parseCSV("a;b;\n;\n")), [["a", "b", ""], ["", ""]])
        XCTAssertEqual(csvValues(try parseCSV("a;b;")), [["a", "b", ""]])
        XCTAssertEqual(csvValues(try parseCSV("\"\";\"\"\n")), [["", ""]])
        XCTAssertEqual(try parseCSV(""), [])
        XCTAssertEqual(try parseCSV("\r\n\n"), [])
    }

    func testColumnsCountCharactersNotBytes() throws {
        let records = try parseCSV("zażółć;gęślą;\"jaźń\";x\n\"ą\nśćż\";ę\n")
        XCTAssertEqual(records[0].fields.map(\.column), [1, 8, 14, 21])
        XCTAssertEqual(records[0].fields.map(\.value), ["zażółć", "gęślą", "jaźń", "x"])
        XCTAssertEqual(records[1].fields.map(\.line), [2, 3])
        XCTAssertEqual(records[1].fields.map(\.column), [1, 6])
        XCTAssertEqual(records[1].endLine, 3)
    }

    func testFieldsAcrossTheBufferBoundary() throws {
        // The reader's buffer is 64 KiB: move every special byte across its end.
        for length in (65_536 - 6 - 14)...(65_536 - 6 + 2) {
            let long = String(repeating: "a", count: length)
            let text = "h1;h2\n" + long + ";\"x\"\"y\r\nz\"\r\nq;w\n"
            let records = try parseCSV(text)
            XCTAssertEqual(csvValues(records), [["h1", "h2"], [long, "x\"y\r\nz"], ["q", "w"]], "length \(length)")
            XCTAssertEqual(records.map(\.line), [1, 2, 4])
            XCTAssertEqual(records[1].endLine, 3)
            XCTAssertEqual(records[1].fields[1].column, length + 2)
        }
        // Two-byte characters up to and across the boundary: with the odd-length header
        // one of them is split between two chunks.
        for header in ["h;i\n", "hh;i\n"] {
            for count in 32_760...32_770 {
                let long = String(repeating: "ą", count: count)
                let records = try parseCSV(header + long + ";ł\n")
                XCTAssertEqual(records[1].fields.map(\.value), [long, "ł"])
                XCTAssertEqual(records[1].fields[1].column, count + 2)
            }
        }
    }

    // MARK: Errors

    func testUnbalancedQuoteReportsWhereTheQuoteOpened() throws {
        var reader = CSVReader(source: BytesSource("a;b\n1;\"abc\n\ndef\n"))
        XCTAssertEqual(try reader.next()?.fields.map(\.value), ["a", "b"])
        let error = catchCSVError { _ = try reader.next() }
        XCTAssertEqual(error?.kind, .unbalancedQuote)
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 3)
        // Errors are fatal: asking again gives the same error, not a later record.
        XCTAssertEqual(catchCSVError { _ = try reader.next() }, error)
    }

    func testCharacterAfterClosingQuote() throws {
        let error = catchCSVError { _ = try parseCSV("a;b\n\"abc\"x;y\n") }
        XCTAssertEqual(error?.kind, .characterAfterQuote)
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 6)

        let spaced = catchCSVError { _ = try parseCSV("a;b\n1;\"ą\n\" ;y\n", trickle: true) }
        XCTAssertEqual(spaced?.kind, .characterAfterQuote)
        XCTAssertEqual(spaced?.line, 3)
        XCTAssertEqual(spaced?.column, 2)
    }

    func testNulByte() throws {
        let unquoted = catchCSVError { _ = try parseCSV("a;b\nc\u{0};d\n") }
        XCTAssertEqual(unquoted?.kind, .nulByte)
        XCTAssertEqual(unquoted?.line, 2)
        XCTAssertEqual(unquoted?.column, 2)

        let quoted = catchCSVError { _ = try parseCSV("a;b\n1;\"x\nyż\u{0}\"\n", trickle: true) }
        XCTAssertEqual(quoted?.kind, .nulByte)
        XCTAssertEqual(quoted?.line, 3)
        XCTAssertEqual(quoted?.column, 3)

        let afterQuote = catchCSVError { _ = try parseCSV("a;b\n\"x\"\u{0};y\n") }
        XCTAssertEqual(afterQuote?.kind, .nulByte)
        XCTAssertEqual(afterQuote?.line, 2)
        XCTAssertEqual(afterQuote?.column, 4)
    }

    func testFiftyMegabyteLineFailsEarlyWithoutBeingHeld() throws {
        let counter = ServedCounter()
        let source = LongLineSource(header: Array("id;note\n".utf8), lineLength: 50_000_000, counter: counter)
        var reader = CSVReader(source: source)
        XCTAssertEqual(try reader.next()?.fields.map(\.value), ["id", "note"])
        let error = catchCSVError { _ = try reader.next() }
        XCTAssertEqual(error?.kind, .fieldTooLong)
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 1)
        // The default limit is 1 MiB; the reader may be one 64 KiB chunk ahead of it.
        XCTAssertGreaterThan(counter.bytes, 1 << 20)
        XCTAssertLessThanOrEqual(counter.bytes, (1 << 20) + 2 * 65_536)
    }

    func testFieldLimitCountsValueBytes() throws {
        // 4 value bytes: the doubled quote counts once.
        XCTAssertEqual(csvValues(try parseCSV("\"ab\"\"c\";x\n", maxFieldBytes: 4)), [["ab\"c", "x"]])
        XCTAssertEqual(csvValues(try parseCSV("abcd;x\n", maxFieldBytes: 4)), [["abcd", "x"]])
        let error = catchCSVError { _ = try parseCSV("a;b\nx;\"abc\n\"\"\"\n", trickle: true, maxFieldBytes: 4) }
        XCTAssertEqual(error?.kind, .fieldTooLong)
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 3)
    }

    func testTooManyFields() throws {
        let error = catchCSVError { _ = try parseCSV("a;b;c\n1;2;3;4\n", maxFields: 3) }
        XCTAssertEqual(error?.kind, .tooManyFields)
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 7)
        XCTAssertEqual(csvValues(try parseCSV("a;b;c\n1;2;3\n", maxFields: 3)).count, 2)
    }

    func testInvalidUTF8ReachingTheTokenizer() throws {
        let unquoted = catchCSVError { _ = try parseCSV(Array("a;b\n1;xą".utf8) + [0xC3, 0x28] + Array("y\n".utf8)) }
        XCTAssertEqual(unquoted?.kind, .encoding)
        XCTAssertEqual(unquoted?.line, 2)
        XCTAssertEqual(unquoted?.column, 5)
        XCTAssertTrue(unquoted?.message.contains("0xC3 0x28") ?? false, unquoted?.message ?? "")

        let multiLine = catchCSVError { _ = try parseCSV(Array("a;b\n\"ok\nzz".utf8) + [0xFF] + Array("\"\n".utf8), trickle: true) }
        XCTAssertEqual(multiLine?.kind, .encoding)
        XCTAssertEqual(multiLine?.line, 3)
        XCTAssertEqual(multiLine?.column, 3)
    }

    // MARK: Encodings end to end

    func testUTF8WithAndWithoutBOM() throws {
        let text = "order_id;city\nPL-1;Kraków\n"
        for bytes in [Array(text.utf8), [0xEF, 0xBB, 0xBF] + Array(text.utf8)] {
            for trickle in [false, true] {
                let (detection, records, delimiter) = try readEncodedCSV(bytes, trickle: trickle)
                XCTAssertEqual(detection.encoding, .utf8)
                XCTAssertEqual(detection.bomLength, bytes.count - text.utf8.count)
                XCTAssertFalse(detection.fallbackUsed)
                XCTAssertEqual(delimiter, UInt8(ascii: ";"))
                XCTAssertEqual(csvValues(records), [["order_id", "city"], ["PL-1", "Kraków"]])
                XCTAssertEqual(records[0].fields[0].column, 1)
            }
        }
        // A BOM handed straight to the reader does not stick to the first column name.
        XCTAssertEqual(try parseCSV([0xEF, 0xBB, 0xBF] + Array(text.utf8))[0].fields[0].value, "order_id")
    }

    func testUTF16WithBOMTabSeparated() throws {
        let text = "sku\tname\tqty\r\nMUG-1\tKubek „Żółw” 😀\t2\r\nMUG-2\t\"a\tb\"\t1\r\n"
        for bigEndian in [false, true] {
            for trickle in [false, true] {
                let (detection, records, delimiter) = try readEncodedCSV(utf16Bytes(text, bigEndian: bigEndian),
                                                                       trickle: trickle)
                XCTAssertEqual(detection, EncodingDetection(encoding: bigEndian ? .utf16BE : .utf16LE,
                                                            bomLength: 2, fallbackUsed: false))
                XCTAssertEqual(delimiter, 0x09)
                XCTAssertEqual(csvValues(records), [["sku", "name", "qty"], ["MUG-1", "Kubek „Żółw” 😀", "2"],
                                                 ["MUG-2", "a\tb", "1"]])
                XCTAssertEqual(records.map(\.line), [1, 2, 3])
                XCTAssertEqual(records[1].fields[2].column, 22)
            }
        }
    }

    func testWindows1250AndISO8859_2PolishLetters() throws {
        let header = Array("nazwa;kod\n".utf8)
        let cp1250 = header + polishWindows1250 + Array(";1250\n".utf8)
        let (detection, records, _) = try readEncodedCSV(cp1250, trickle: true)
        XCTAssertEqual(detection, EncodingDetection(encoding: .windows1250, bomLength: 0, fallbackUsed: true))
        XCTAssertEqual(csvValues(records), [["nazwa", "kod"], [polishLetters, "1250"]])
        XCTAssertEqual(records[1].fields[1].column, 20)

        let latin2 = header + polishISO8859_2 + Array(";8859\n".utf8)
        let (latin2Detection, latin2Records, _) = try readEncodedCSV(latin2, fallback: .iso8859_2)
        XCTAssertEqual(latin2Detection.encoding, .iso8859_2)
        XCTAssertTrue(latin2Detection.fallbackUsed)
        XCTAssertEqual(csvValues(latin2Records), [["nazwa", "kod"], [polishLetters, "8859"]])
    }

    func testTheTwoCodePagesDifferForSixLetters() throws {
        let differing = zip(polishLetters, zip(polishWindows1250, polishISO8859_2))
            .filter { $0.1.0 != $0.1.1 }
            .map { String($0.0) }
        XCTAssertEqual(differing, ["ą", "ś", "ź", "Ą", "Ś", "Ź"])
        // ISO-8859-2 bytes read as windows-1250 give other letters for exactly those six.
        let header = Array("x\n".utf8)
        let (_, misread, _) = try readEncodedCSV(header + polishISO8859_2 + [0x0A], fallback: .windows1250)
        let wrong = misread[1].fields[0].value
        XCTAssertNotEqual(wrong, polishLetters)
        let wrongLetters = zip(polishLetters, wrong).filter { $0.0 != $0.1 }.map { String($0.0) }
        XCTAssertEqual(wrongLetters, ["ą", "ś", "ź", "Ą", "Ś", "Ź"])
    }

    func testUndefinedWindows1250ByteIsAnEncodingErrorOnItsLine() throws {
        let bytes = Array("a;b\r\n1;2\r\nx".utf8) + [0xB3, 0x98] + Array("y;z\r\n".utf8)
        var sniffer = EncodingSniffer()
        bytes.withUnsafeBytes { sniffer.feed($0) }
        let detection = sniffer.finish(fallback: .windows1250)
        XCTAssertEqual(detection.encoding, .windows1250)
        var reader = CSVReader(source: TranscodingSource(base: TrickleSource(bytes), detection: detection))
        // The records before the bad byte still come through first.
        XCTAssertEqual(try reader.next()?.fields.map(\.value), ["a", "b"])
        XCTAssertEqual(try reader.next()?.fields.map(\.value), ["1", "2"])
        let error = catchCSVError { _ = try reader.next() }
        XCTAssertEqual(error?.kind, .encoding)
        XCTAssertEqual(error?.line, 3)
        XCTAssertEqual(error?.column, 3)
        XCTAssertEqual(error?.message, "byte 0x98 is not valid windows-1250")
    }
}
