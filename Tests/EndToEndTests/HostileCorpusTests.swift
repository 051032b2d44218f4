import EDIDrop
import Foundation
import XCTest
import XMLSupport
#if canImport(Glibc)
import Glibc
#endif

/// The hostile input corpus (HostileCorpus/, outcomes in HostileCorpus/expected.tsv), plus
/// the files too big to commit, generated here, plus a symlink, a FIFO, a device node and
/// an unreadable file, all dropped into one inbox next to two ordinary valid files and
/// handled by ONE `run --once` of the real executable, measured for peak memory.
///
/// expected.tsv: `file <TAB> outcome <TAB> line <TAB> orders <TAB> note`, where outcome is
/// `accept` or the first error code of the report, line is the first error's line (`-`
/// none, `+` some line, `*` not checked), orders are the order ids an accepted file must deliver, `|`
/// separated, with `\n`, `\t` and `\\` escapes.
final class HostileCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HostileCorpus")
    /// DESIGN.md: "memory does not grow with file size".
    static let peakMemoryLimitKB = 200 * 1024
    /// Just above the 50 MB line's file; the file over it is sparse and costs no disk.
    static let maxFileSize: Int64 = 52_000_000

    struct Expectation {
        var name: String
        var outcome: String
        var line: String
        var orders: [String]
        var note: String
    }

    struct Actual: Equatable {
        var outcome: String
        var line: String
    }

    func testTheHostileCorpusInOneRun() throws {
        let expectations = try Self.manifest()
        let spool = try TestSpool(configuration: """
        [intake]
        max_file_size = \(Self.maxFileSize)

        """)
        let inbox = spool.path("inbox")

        // 1. The committed corpus, each file as a well-behaved uploader drops it.
        let committed = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path)
            .filter { $0 != "expected.tsv" && !$0.hasPrefix(".") }.sorted()
        let byName = Dictionary(uniqueKeysWithValues: expectations.map { ($0.name, $0) })
        for name in committed {
            XCTAssertNotNil(byName[name], "HostileCorpus/\(name) has no line in expected.tsv")
            try spool.drop(name, try Data(contentsOf: Self.corpus.appendingPathComponent(name)))
        }
        // 2. What cannot or should not be committed.
        let generated = try Self.generate(into: inbox)
        for e in expectations where !committed.contains(e.name) {
            XCTAssertTrue(generated.contains(e.name) || Self.optional.contains(e.name),
                          "expected.tsv names \(e.name), which is neither in HostileCorpus/ nor generated")
        }
        XCTAssertEqual(chmod(inbox + "/unreadable-mode000.csv", 0), 0)
        // 3. The two ordinary files that must go through whatever is around them.
        try spool.drop("valid-orders.csv", Fixtures.csv(["HC-VALID-1", "HC-VALID-2"]))
        try spool.drop("valid-orders.xml", Fixtures.xml(["HC-VALID-X1"]))

        let inputs = try FileManager.default.contentsOfDirectory(atPath: inbox).sorted()
        let started = Date()
        let (result, peakKB, how) = try Self.runMeasured(spool, ["run", "--once", "--settle", "0"])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(result.status, 0, "run --once: \(result.stderr)")
        XCTAssertFalse(result.killedBySignal)

        // Every file's outcome, as a table.
        let archived = Set(spool.files(in: "archive").map { ($0 as NSString).lastPathComponent })
        var table = "\nfile                                      expected            actual              \n"
        var wrong: [String] = []
        for e in expectations where inputs.contains(e.name) {
            let actual = try Self.outcome(of: e.name, spool: spool, archived: archived)
            var expectedOutcome = e.outcome
            if e.name == "unreadable-mode000.csv" && getuid() != 0 { expectedOutcome = "UNREADABLE" }
            let lineOK: Bool
            switch e.line {
            case "*": lineOK = true
            case "+": lineOK = actual.line != "-"
            default: lineOK = actual.line == e.line || expectedOutcome == "accept"
            }
            let ok = actual.outcome == expectedOutcome && lineOK
            if !ok { wrong.append("\(e.name): expected \(expectedOutcome)@\(e.line), got \(actual.outcome)@\(actual.line) — \(e.note)") }
            table += Self.pad(e.name, 42) + Self.pad("\(expectedOutcome)@\(e.line)", 20) + Self.pad("\(actual.outcome)@\(actual.line)", 20)
                + (ok ? "" : "  <-- MISMATCH") + "\n"
        }
        print(table)
        print("hostile corpus: \(inputs.count) files in \(String(format: "%.1f", seconds)) s, peak RSS \(peakKB / 1024) MB (\(how))")
        XCTAssertEqual(wrong, [], "files whose outcome differs from expected.tsv")

        // The files around them went through.
        XCTAssertTrue(archived.contains("valid-orders.csv") && archived.contains("valid-orders.xml"), "\(archived)")

        // Whole-file policy: a file's orders are all delivered when it was accepted, none
        // when it was rejected; no order comes from anywhere else. Judged on what actually
        // happened to each file (a wrong outcome is reported above already).
        var delivered: Set<String> = ["HC-VALID-1", "HC-VALID-2", "HC-VALID-X1"]
        var known = delivered
        let outbox = try Self.outboxValues(spool)
        for e in expectations where inputs.contains(e.name) {
            known.formUnion(e.orders)
            let accepted = try Self.outcome(of: e.name, spool: spool, archived: archived).outcome == "accept"
            if accepted { delivered.formUnion(e.orders) }
            for id in e.orders {
                XCTAssertEqual(outbox[id] != nil, accepted, "\(e.name) was \(accepted ? "accepted" : "rejected"); order \(String(reflecting: id))")
            }
        }
        XCTAssertEqual(Set(outbox.keys).subtracting(known), [], "orders in the outbox that no file of the corpus names")
        for name in spool.files(in: "outbox") {
            XCTAssertNotNil(name.range(of: #"^ORDER_[A-Za-z0-9._-]+\.xml$"#, options: .regularExpression), "unsafe outbox name \(name)")
            XCTAssertLessThanOrEqual(name.utf8.count, 255)
        }
        try spool.assertInvariants(inputs: inputs, orders: delivered)
        try Self.checkValuesKeptAsReceived(outbox)

        // Reports are complete and located; what was refused never leaked a file's content.
        for e in expectations where inputs.contains(e.name) && e.outcome != "accept" {
            guard let report = try? spool.report(e.name) else { continue }
            XCTAssertEqual(report["file"] as? String, e.name)
            let errors = report["errors"] as? [[String: Any]] ?? []
            XCTAssertFalse(errors.isEmpty, "\(e.name): a report without errors")
            XCTAssertTrue(FileManager.default.fileExists(atPath: spool.path("rejected/\(e.name).report.txt")), "\(e.name): no text report")
        }
        let passwd = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8))?.split(separator: "\n").first.map(String.init) ?? "root:x:0:0"
        for folder in ["outbox", "rejected"] {
            for f in spool.files(in: folder) where !f.hasPrefix("symlink") && !f.hasPrefix("device") && !f.hasPrefix("fifo") {
                let text = (try? String(contentsOfFile: spool.path("\(folder)/\(f)"), encoding: .utf8)) ?? ""
                XCTAssertFalse(text.contains(passwd), "\(folder)/\(f) holds a line of /etc/passwd")
            }
        }
        // Nothing was written beside the spool's own folders (no path chosen by an order id).
        let root = Set(try FileManager.default.contentsOfDirectory(atPath: spool.root))
        let spoolEntries: Set<String> = ["inbox", "outbox", "from-warehouse", "to-shop", "archive", "rejected", "work",
                                  "edidrop.toml", "ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm", ".edidrop.lock"]
        XCTAssertEqual(root.subtracting(spoolEntries), [], "unexpected entries in the spool root")

        XCTAssertLessThan(peakKB, Self.peakMemoryLimitKB, "peak RSS of run --once with a 50 MB line and a 12 MB attribute")

        // A second pass finds nothing to do and changes nothing.
        let before = try Self.snapshot(spool)
        let again = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("0 accepted, 0 rejected, 0 delivered"), again.stdout)
        XCTAssertEqual(try Self.snapshot(spool), before, "the second run changed the spool")
    }

    /// Names that are hostile themselves: each gets a record and a report (or an archive
    /// place) and never blocks the files after it.
    func testHostileFileNames() throws {
        let spool = try TestSpool()
        let long = String(repeating: "n", count: 250) + ".csv"
        let newline = "line\nbreak.csv"
        // Too long for the usual ".NAME.part" upload name: written under a short one.
        try Data("this is not an orders file\n".utf8).write(to: URL(fileURLWithPath: spool.path("inbox/.long.part")))
        try FileManager.default.moveItem(atPath: spool.path("inbox/.long.part"), toPath: spool.path("inbox/\(long)"))
        try spool.drop(newline, Fixtures.csv(["HC-NAME-1"]))
        try spool.drop("zz-after.csv", Fixtures.csv(["HC-NAME-2"]))
        // A name that is not UTF-8 (a Windows-1250 'ó'), as an old SFTP client writes it.
        let raw: [UInt8] = Array("\(spool.path("inbox"))/zam".utf8) + [0xF3] + Array("wienie.csv".utf8)
        let fd = raw.withUnsafeBufferPointer { p -> Int32 in
            var c = p.map { CChar(bitPattern: $0) }
            c.append(0)
            return open(c, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        }
        XCTAssertGreaterThanOrEqual(fd, 0)
        let body = Array(Fixtures.csv(["HC-NAME-3"]).utf8)
        XCTAssertEqual(write(fd, body, body.count), body.count)
        close(fd)

        let r = try spool.run(["run", "--once", "--settle", "0"], timeout: 60)
        XCTAssertEqual(r.status, 0, "a file name must not stop the run: \(r.stderr)")
        let ids = Set(try spool.outboxOrders().values.flatMap { $0 })
        XCTAssertTrue(ids.contains("HC-NAME-2"), "the file after the long name was processed: \(ids)")
        XCTAssertTrue(ids.contains("HC-NAME-1"), "a line break in a name is just a character: \(ids)")
        XCTAssertTrue(ids.contains("HC-NAME-3"), "a name that is not UTF-8 is still taken: \(ids)")
        XCTAssertEqual(try Self.rawNames(spool.path("inbox")), [], "nothing may stay in the inbox unseen")
        let rejected = spool.files(in: "rejected")
        XCTAssertTrue(rejected.contains { $0.hasPrefix("nnnn") && $0.hasSuffix(".report.json") },
                      "the 250-character name has a report: \(rejected)")
        for name in rejected { XCTAssertLessThanOrEqual(name.utf8.count, 255, name) }
        let again = try spool.run(["run", "--once", "--settle", "0"], timeout: 60)
        XCTAssertEqual(again.status, 0, "a second run is not stuck on the long name: \(again.stderr)")
    }

    // MARK: The manifest

    static func manifest() throws -> [Expectation] {
        let text = try String(contentsOf: corpus.appendingPathComponent("expected.tsv"), encoding: .utf8)
        var out: [Expectation] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cols = line.components(separatedBy: "\t")
            guard cols.count == 5 else { throw HarnessError("expected.tsv line \(i + 1): \(cols.count) columns, want 5") }
            let orders = cols[3] == "-" ? [] : cols[3].components(separatedBy: "|").map(unescape)
            out.append(Expectation(name: cols[0], outcome: cols[1], line: cols[2], orders: orders, note: cols[4]))
        }
        XCTAssertEqual(Set(out.map(\.name)).count, out.count, "a name twice in expected.tsv")
        return out
    }

    static func unescape(_ s: String) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }

    // MARK: Generated inputs

    /// Entries that only exist where the test can make them (a device node needs root).
    static let optional: Set<String> = ["device-zero.csv"]

    /// Writes the big and the special entries straight into the inbox (each under a
    /// hidden name first, then renamed, as an uploader does); returns their names.
    static func generate(into inbox: String) throws -> Set<String> {
        var names: Set<String> = []
        func streamed(_ name: String, _ body: (FileHandle) throws -> Void) throws {
            let temp = inbox + "/." + name + ".part"
            guard FileManager.default.createFile(atPath: temp, contents: nil) else { throw HarnessError("cannot create \(temp)") }
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: temp))
            try body(h)
            try h.close()
            try FileManager.default.moveItem(atPath: temp, toPath: inbox + "/" + name)
            names.insert(name)
        }
        let header = Fixtures.csvHeader

        // One line of 50 MB: the notes field of the first row never ends.
        try streamed("line-50mb.csv") { h in
            h.write(Data((header + Fixtures.csvRow("HC-BIG-1").dropLast()).utf8))
            let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
            for _ in 0..<47 { h.write(chunk) }
            h.write(Data(repeating: UInt8(ascii: "y"), count: 50_000_000 - 47 * (1 << 20)))
        }
        // One byte over max_file_size; sparse, so it costs no disk.
        try streamed("over-max-file-size.csv") { h in
            h.write(Data(Fixtures.csv(["HC-TOOBIG-1"]).utf8))
            try h.truncate(atOffset: UInt64(maxFileSize + 1))
        }
        // Quadratic blow-up: one 100 kB entity referenced 20 000 times (2 GB expanded).
        try streamed("quadratic-blowup.xml") { h in
            var head = "<?xml version=\"1.0\"?>\n<!DOCTYPE orders [<!ENTITY a \""
            head += String(repeating: "a", count: 100_000) + "\">]>\n"
            head += "<orders xmlns=\"urn:edidrop:orders:1\">\n  <order id=\"HC-QUAD-1\">\n    <customer name=\""
            h.write(Data(head.utf8))
            h.write(Data(String(repeating: "&a;", count: 20_000).utf8))
            h.write(Data("\"/>\n    <shipTo street=\"a\" city=\"b\" postcode=\"31-147\" country=\"PL\"/>\n    <line sku=\"S\" quantity=\"1\"/>\n  </order>\n</orders>\n".utf8))
        }
        // 10 000 levels of elements.
        try streamed("deep-nesting-10000.xml") { h in
            h.write(Data("<?xml version=\"1.0\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">\n<order id=\"HC-DEEP-1\">\n".utf8))
            h.write(Data(String(repeating: "<notes>", count: 10_000).utf8))
            h.write(Data(String(repeating: "</notes>", count: 10_000).utf8))
            h.write(Data("\n</order>\n</orders>\n".utf8))
        }
        // 5000 columns: the header alone is over the reader's field limit.
        try streamed("columns-5000.csv") { h in
            let extra = (1...4981).map { "c\($0)" }.joined(separator: ";")
            h.write(Data((header.dropLast() + ";" + extra + "\n").utf8))
            h.write(Data((Fixtures.csvRow("HC-COLS-1").dropLast() + String(repeating: ";v", count: 4981) + "\n").utf8))
        }
        // A 100 kB column name (after the canonical ones): an unknown column, ignored.
        try streamed("long-header.csv") { h in
            h.write(Data((header.dropLast() + ";" + String(repeating: "L", count: 100_000) + "\n").utf8))
            h.write(Data((Fixtures.csvRow("HC-LONGHDR-1").dropLast() + ";value\n").utf8))
        }
        // A 12 MB attribute value on one line (libxml2's own limit is 10 MB).
        try streamed("attribute-12mb.xml") { h in
            h.write(Data("<?xml version=\"1.0\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">\n  <order id=\"HC-ATTR-1\">\n    <customer name=\"".utf8))
            let chunk = Data(repeating: UInt8(ascii: "A"), count: 1 << 20)
            for _ in 0..<12 { h.write(chunk) }
            h.write(Data("\"/>\n    <shipTo street=\"a\" city=\"b\" postcode=\"31-147\" country=\"PL\"/>\n    <line sku=\"S\" quantity=\"1\"/>\n  </order>\n</orders>\n".utf8))
        }
        // Entries that are not regular files: never followed, never opened.
        try FileManager.default.createSymbolicLink(atPath: inbox + "/symlink-to-passwd.csv", withDestinationPath: "/etc/passwd")
        names.insert("symlink-to-passwd.csv")
        guard mkfifo(inbox + "/fifo.csv", 0o644) == 0 else { throw HarnessError("mkfifo: \(errno)") }
        names.insert("fifo.csv")
        if getuid() == 0 {
            // The character device /dev/zero: reading it would never end.
            guard mknod(inbox + "/device-zero.csv", S_IFCHR | 0o644, dev_t((1 << 8) | 5)) == 0 else { throw HarnessError("mknod: \(errno)") }
            names.insert("device-zero.csv")
        }
        return names
    }

    // MARK: Running and measuring

    /// Runs edidrop under `/usr/bin/time -v` for its peak RSS; without it, samples VmHWM
    /// from /proc while the process runs.
    static func runMeasured(_ spool: TestSpool, _ arguments: [String]) throws -> (Edidrop.Result, Int, String) {
        let args = ["--spool", spool.root] + arguments
        let timeBinary = "/usr/bin/time"
        if FileManager.default.isExecutableFile(atPath: timeBinary) {
            let report = FileManager.default.temporaryDirectory.appendingPathComponent("edidrop-time-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: report) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: timeBinary)
            process.arguments = ["-v", "-o", report, Edidrop.executable] + args
            var env = ProcessInfo.processInfo.environment
            env["EDIDROP_LOG_LEVEL"] = env["EDIDROP_LOG_LEVEL"] ?? "warning"
            process.environment = env
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Drained on other threads so that a chatty run cannot block on a full pipe.
            let outData = DataBox(), errData = DataBox()
            let group = DispatchGroup()
            for (pipe, box) in [(out, outData), (err, errData)] {
                DispatchQueue.global().async(group: group) { box.data = pipe.fileHandleForReading.readDataToEndOfFile() }
            }
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                process.terminate()
                throw HarnessError("edidrop did not finish within 120 s")
            }
            process.waitUntilExit()
            group.wait()
            let timeText = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
            let peak = timeText.split(separator: "\n").first { $0.contains("Maximum resident set size") }
                .flatMap { Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) } ?? Int.max
            let result = Edidrop.Result(status: process.terminationStatus,
                                        stdout: String(decoding: outData.data, as: UTF8.self),
                                        stderr: String(decoding: errData.data, as: UTF8.self),
                                        killedBySignal: timeText.contains("Command terminated by signal"))
            return (result, peak, "/usr/bin/time -v")
        }
        let running = try Edidrop.start(args)
        let pid = running.process.processIdentifier
        var peak = 0
        while running.process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
                peak = max(peak, kb)
            }
            usleep(5_000)
        }
        return (try running.finish(timeout: 120), peak, "VmHWM sampled from /proc")
    }

    final class DataBox: @unchecked Sendable { var data = Data() }

    // MARK: Outcomes

    static func outcome(of name: String, spool: TestSpool, archived: Set<String>) throws -> Actual {
        let inRejected = (try? FileSystem.status(spool.path("rejected/\(name)"))) ?? nil
        if inRejected != nil, let report = try? spool.report(name) {
            let first = (report["errors"] as? [[String: Any]])?.first
            let line = (first?["line"] as? Int).map(String.init) ?? "-"
            return Actual(outcome: first?["code"] as? String ?? "?", line: line)
        }
        if archived.contains(name) { return Actual(outcome: "accept", line: "-") }
        if (try? FileSystem.status(spool.path("inbox/\(name)"))) ?? nil != nil { return Actual(outcome: "LEFT-IN-INBOX", line: "-") }
        return Actual(outcome: "MISSING", line: "-")
    }

    /// Every attribute and the notes of every order in the outbox, by order id, read with
    /// the program's own reader and schema: ["customer@name": …, "line1@unitPrice": …].
    static func outboxValues(_ spool: TestSpool) throws -> [String: [String: String]] {
        let schemas = try CompiledSchemas()
        var result: [String: [String: String]] = [:]
        for name in spool.files(in: "outbox") {
            let data = try Data(contentsOf: URL(fileURLWithPath: spool.path("outbox/\(name)")))
            var offset = 0
            let reader = XMLStreamReader(documentName: name, schema: schemas.orders) { buffer in
                let n = min(buffer.count, data.count - offset)
                if n > 0 { data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: offset..<(offset + n)) }
                offset += n
                return n
            }
            var values: [String: String] = [:]
            var id: String?
            var lines = 0
            var element = ""
            while let event = reader.next() {
                switch event {
                case .start(let s):
                    element = s.localName
                    var key = s.localName
                    if key == "line" { lines += 1; key = "line\(lines)" }
                    if key == "order" { id = s.attribute("id") }
                    for a in s.attributes { values["\(key)@\(a.localName)"] = a.value }
                case .text(let t, _):
                    if element == "notes" { values["notes", default: ""] += t }
                case .end:
                    element = ""
                }
            }
            XCTAssertEqual(reader.problems, [], "outbox/\(name) is not valid")
            guard let id else { XCTFail("outbox/\(name) has no order id"); continue }
            XCTAssertNil(result[id], "order \(id) twice in the outbox")
            XCTAssertEqual(name, WarehouseOrderFile.fileName(forOrderID: id))
            result[id] = values
        }
        return result
    }

    /// DESIGN.md: the canonical XML keeps every value as received (formulas included);
    /// only dates, quantities and money are normalised.
    static func checkValuesKeptAsReceived(_ outbox: [String: [String: String]]) throws {
        func check(_ id: String, _ key: String, _ expected: String?, file: StaticString = #filePath, line: UInt = #line) {
            guard let order = outbox[id] else { return }  // its file's outcome was reported already
            XCTAssertEqual(order[key], expected, "\(id) \(key)", file: file, line: line)
        }
        check("HC-F-1", "customer@name", "=HYPERLINK(\"http://x\",\"y\")")
        check("HC-F-1", "shipTo@street", "+cmd")
        check("HC-F-1", "shipTo@city", "-2+3")
        check("HC-F-1", "notes", "@SUM(A1:A9)")
        check("HC-F-1", "line1@name", "=1+1")
        check("=HC-F-2()", "customer@name", "@Anna")
        check("=HC-F-2()", "shipTo@street", "\tul. Tab 1")
        check("=HC-F-2()", "shipTo@city", "=Kraków")
        check("HC-XF-1", "customer@name", "=HYPERLINK(\"http://x\",\"y\")")
        check("HC-XF-1", "shipTo@street", "+cmd")
        check("HC-XF-1", "shipTo@city", "-2+3")
        check("HC-XF-1", "line1@sku", "@SUM(A1:A9)")
        check("HC-XF-1", "line1@name", "=1+1")
        check("HC-CDATA-1", "notes", "<b>fragile</b> & \"handle with care\" ]]> =cmd")
        check("HC-PI-1", "notes", "ring  twice, please")
        check("HC-NUM-4", "line1@unitPrice", "0.00")
        check("HC-NUM-4", "payment@cod", "0.00")
        check("HC-UTF16-1", "customer@name", "Łucja Żak")
        check("HC-UTF16CSV-1", "customer@name", "Łucja Żak")
        // Not UTF-8 and no BOM: read as Windows-1250, as DESIGN.md says, so the UTF-8
        // "ó" of Kraków becomes two letters.
        check("HC-CP1250-1", "customer@name", "Anna Kowalska Ă(")
        check("HC-CP1250-1", "shipTo@city", "KrakĂłw")
        check("HC-ID-4\nsecond line", "order@id", "HC-ID-4\nsecond line")
        check("HC-XID\nnewline", "order@id", "HC-XID\nnewline")
        check("HC-LATIN1-1", "shipTo@street", "ul. Morska 10")
        check("HC-CRLF-1", "shipTo@city", "Kraków")
        check("HC-CR-2", "shipTo@city", "Kraków")
    }

    // MARK: Helpers

    /// Everything in the spool but the ledger's own files, with sizes and content digests
    /// for the outputs; and the ledger's file list.
    static func snapshot(_ spool: TestSpool) throws -> [String] {
        var out: [String] = []
        for folder in ["inbox", "outbox", "archive", "rejected", "work", "to-shop", "from-warehouse"] {
            for f in spool.files(in: folder) {
                let path = spool.path("\(folder)/\(f)")
                let st = try FileSystem.status(path)
                var entry = "\(folder)/\(f) \(st?.size ?? -1)"
                if st?.kind == .regular, folder == "outbox" || f.hasSuffix(".report.json") || f.hasSuffix(".report.txt"),
                   let data = FileManager.default.contents(atPath: path) {
                    entry += " \(data.hashValue)"
                }
                out.append(entry)
            }
        }
        out.append(try spool.run(["files", "--json"]).stdout)
        return out
    }

    static func rawNames(_ folder: String) throws -> [[UInt8]] {
        guard let dir = opendir(folder) else { throw HarnessError("opendir \(folder)") }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            names.append(bytes)
        }
        return names
    }

    static func pad(_ s: String, _ width: Int) -> String {
        let shown = s.replacingOccurrences(of: "\n", with: "\\n")
        return shown.count >= width ? shown + " " : shown + String(repeating: " ", count: width - shown.count)
    }
}
