// libFuzzer entry for the CSV orders path:
// EncodingSniffer -> TranscodingSource -> CSVReader -> OrdersCSVReader -> OrderValidator.
// Built and run by `scripts/fuzz csv [seconds]`.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOrdersCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzCSV.run(bytes)
    return 0
}

enum FuzzCSV {
    struct Tokens: Equatable {
        var records: [CSVRecord] = []
        var error: CSVError?
        var delimiter: UInt8?
    }

    static func run(_ bytes: [UInt8]) {
        // The sniffer is fed chunk by chunk, as FileIdentity feeds it; in one piece or in
        // small pieces it must decide the same.
        var whole = EncodingSniffer()
        bytes.withUnsafeBytes { whole.feed($0) }
        var pieces = EncodingSniffer()
        var offset = 0
        var k = 1
        while offset < bytes.count {
            let n = min(k, bytes.count - offset)
            bytes.withUnsafeBytes { pieces.feed(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
            offset += n
            k = k % 5 + 1
        }
        let detection = whole.finish(fallback: .windows1250)
        fuzzCheck(detection == pieces.finish(fallback: .windows1250), "the sniffer depends on how the file is cut")

        // Neither the delimiter detection nor the tokenizing may depend on how the bytes
        // arrive. The tokenizer is also compared with the delimiter given, so that it stays
        // checked while a detection difference is being fixed (FUZZ_SKIP=delimiter skips
        // that one check).
        let a = tokens(BytesSource(bytes), detection, delimiter: nil)
        let b = tokens(ChunkedSource(bytes), detection, delimiter: nil)
        if !skipped("delimiter") {
            fuzzCheck(a.delimiter == b.delimiter,
                      "the detected delimiter depends on read sizes: whole \(String(describing: a.delimiter)), chunked \(String(describing: b.delimiter))")
            fuzzCheck(a == b, "CSV records depend on read sizes:\n  whole:   \(a)\n  chunked: \(b)")
        }
        let fixed = a.delimiter ?? UInt8(ascii: ",")
        let a2 = tokens(BytesSource(bytes), detection, delimiter: fixed)
        let b2 = tokens(ChunkedSource(bytes), detection, delimiter: fixed)
        fuzzCheck(a2 == b2, "CSV records (delimiter given) depend on read sizes:\n  whole:   \(a2)\n  chunked: \(b2)")

        // As DocumentOpener does: the delimiter comes from a first look at the header.
        let csv = CSVReader(source: TranscodingSource(base: ChunkedSource(bytes), detection: detection),
                            delimiter: a.delimiter ?? UInt8(ascii: ","))
        var reader = OrdersCSVReader(csv: csv)
        let validator = OrderValidator()
        var drafts = 0
        while let draft = reader.next() {
            drafts += 1
            checkValidated(draft, validator.validate(draft))
        }
        fuzzCheck(drafts > 0 || !reader.findings.isEmpty || a.records.count <= 1 || a.error != nil,
                  "rows were read but neither an order nor a finding came out")
    }

    static func tokens<S: ByteSource>(_ source: S, _ detection: EncodingDetection, delimiter: UInt8?) -> Tokens {
        var reader = CSVReader(source: TranscodingSource(base: source, detection: detection), delimiter: delimiter)
        var t = Tokens()
        while true {
            do {
                guard let record = try reader.next() else { break }
                fuzzCheck(!record.fields.isEmpty, "a record without fields")
                fuzzCheck(record.endLine >= record.line, "a record ends before it starts")
                if let last = t.records.last {
                    fuzzCheck(record.line > last.endLine, "records overlap: \(last.line)-\(last.endLine) then \(record.line)")
                }
                t.records.append(record)
            } catch let e as CSVError {
                t.error = e
                // Errors are sticky: asking again gives the same one.
                do {
                    _ = try reader.next()
                    fuzzCheck(false, "next() went on after an error")
                } catch let again as CSVError {
                    fuzzCheck(again == e, "a different error the second time")
                } catch {
                    fuzzCheck(false, "unexpected error type \(error)")
                }
                break
            } catch {
                fuzzCheck(false, "CSVReader threw a non-CSV error: \(error)")
            }
        }
        t.delimiter = reader.delimiter
        return t
    }
}
