import EDIDrop
import Foundation
import XCTest
import XMLSupport

/// Runs the real `edidrop` executable on a temporary spool, as a user would.
struct Edidrop {
    /// The executable built next to the test bundle (or $EDIDROP_BIN).
    static var executable: String {
        if let explicit = ProcessInfo.processInfo.environment["EDIDROP_BIN"] { return explicit }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // `swift test` runs .../debug/edidropPackageTests.xctest; the tool sits beside it.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("edidrop").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var killedBySignal: Bool
    }

    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> Result {
        let p = try start(arguments, environment: environment)
        return try p.finish(timeout: timeout)
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["EDIDROP_LOG_LEVEL"] = env["EDIDROP_LOG_LEVEL"] ?? "warning"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("edidrop-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("edidrop-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    final class Running {
        let process: Process
        let out: URL
        let err: URL

        init(process: Process, out: URL, err: URL) {
            self.process = process
            self.out = out
            self.err = err
        }

        func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

        func finish(timeout: TimeInterval) throws -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                // SIGTERM asks for a clean stop, which a process stuck for good never makes:
                // after a grace period, SIGKILL, so that a hang fails the test, not the suite.
                process.terminate()
                let grace = Date().addingTimeInterval(5)
                while process.isRunning && Date() < grace { usleep(10_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                throw HarnessError("edidrop did not finish within \(timeout) s")
            }
            process.waitUntilExit()
            defer {
                try? FileManager.default.removeItem(at: out)
                try? FileManager.default.removeItem(at: err)
            }
            return Result(status: process.terminationStatus,
                          stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                          killedBySignal: process.terminationReason == .uncaughtSignal)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A fresh spool in a temporary folder, made with `edidrop init`.
final class TestSpool {
    let root: String

    init(configuration: String? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("edidrop-e2e-\(UUID().uuidString)").path
        let r = try Edidrop.run(["--spool", root, "init"])
        guard r.status == 0 else { throw HarnessError("init failed: \(r.stderr)") }
        if let configuration {
            try configuration.write(toFile: root + "/edidrop.toml", atomically: true, encoding: .utf8)
        }
    }

    /// A spool made elsewhere (e.g. on a test mount); removed at the end all the same.
    init(existing root: String) throws {
        self.root = root
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func path(_ relative: String) -> String { root + "/" + relative }

    func drop(_ name: String, _ content: String, into folder: String = "inbox") throws {
        try drop(name, Data(content.utf8), into: folder)
    }

    /// Writes under a temporary name first, as a well-behaved uploader does.
    func drop(_ name: String, _ data: Data, into folder: String = "inbox") throws {
        let temp = path("\(folder)/.\(name).part")
        try data.write(to: URL(fileURLWithPath: temp))
        try FileManager.default.moveItem(atPath: temp, toPath: path("\(folder)/\(name)"))
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> Edidrop.Result {
        try Edidrop.run(["--spool", root] + arguments, environment: environment, timeout: timeout)
    }

    /// Every regular file below a folder, relative to it, sorted.
    func files(in folder: String) -> [String] {
        let base = path(folder)
        guard let e = FileManager.default.enumerator(atPath: base) else { return [] }
        var out: [String] = []
        while let f = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + f, isDirectory: &isDir), !isDir.boolValue {
                out.append(f)
            } else if (try? FileManager.default.destinationOfSymbolicLink(atPath: base + "/" + f)) != nil {
                out.append(f)
            }
        }
        return out.sorted()
    }

    func json(_ arguments: [String]) throws -> Any {
        let r = try run(arguments + ["--json"])
        guard r.status == 0 else { throw HarnessError("\(arguments) exited \(r.status): \(r.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    func report(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("rejected/\(name).report.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// (code, line) of every error in a rejected file's JSON report.
    func errorCodes(_ name: String) throws -> [String] {
        let errors = try report(name)["errors"] as? [[String: Any]] ?? []
        return errors.map { e in "\(e["code"] as? String ?? "?")@\((e["line"] as? Int).map(String.init) ?? "-")" }
    }

    /// Order ids per outbox file, read with the program's own XML reader and schema.
    func outboxOrders() throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        let schemas = try CompiledSchemas()
        for name in files(in: "outbox") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path("outbox/\(name)")))
            var offset = 0
            let reader = XMLStreamReader(documentName: name, schema: schemas.orders) { buffer in
                let n = min(buffer.count, data.count - offset)
                if n > 0 { data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: offset..<(offset + n)) }
                offset += n
                return n
            }
            var ids: [String] = []
            while let event = reader.next() {
                if case .start(let s) = event, s.localName == "order", let id = s.attribute("id") { ids.append(id) }
            }
            if !reader.problems.isEmpty { throw HarnessError("outbox/\(name) is not valid: \(reader.problems)") }
            result[name] = ids
        }
        return result
    }

    /// The promises that must hold after any sequence of crashes and restarts: every input
    /// ended in archive/ or rejected/ exactly once, every accepted order is in the outbox
    /// exactly once, nothing is left in flight, and the ledger agrees with the folders.
    func assertInvariants(inputs: [String], orders expected: Set<String>, file: StaticString = #filePath, line: UInt = #line) throws {
        let archived = files(in: "archive").map { ($0 as NSString).lastPathComponent }
        let rejected = files(in: "rejected").filter { !$0.hasSuffix(".report.json") && !$0.hasSuffix(".report.txt") }
        for name in inputs {
            let count = archived.filter { $0 == name }.count + rejected.filter { $0 == name }.count
            XCTAssertEqual(count, 1, "\(name) should be in archive/ or rejected/ exactly once (archive \(archived), rejected \(rejected))", file: file, line: line)
        }
        let outbox = try outboxOrders()
        let all = outbox.values.flatMap { $0 }
        XCTAssertEqual(Set(all), expected, "orders in the outbox", file: file, line: line)
        XCTAssertEqual(all.count, expected.count, "every order exactly once: \(outbox)", file: file, line: line)
        for folder in ["outbox", "archive", "rejected", "to-shop"] {
            let temps = files(in: folder).filter { ($0 as NSString).lastPathComponent.hasPrefix(".") || $0.hasSuffix(".tmp") }
            XCTAssertEqual(temps, [], "no temp files left in \(folder)/", file: file, line: line)
        }
        XCTAssertEqual(files(in: "work"), [], "nothing left in work/", file: file, line: line)
        XCTAssertEqual(files(in: "inbox"), [], "nothing left in the inbox", file: file, line: line)
        let status = try json(["status"]) as? [String: Any]
        XCTAssertEqual(status?["inFlight"] as? Int, 0, "no file in flight in the ledger", file: file, line: line)
        XCTAssertEqual(status?["pendingDeliveries"] as? Int, 0, "no delivery pending in the ledger", file: file, line: line)
        let files = try json(["files", "--limit", "0"]) as? [[String: Any]] ?? []
        XCTAssertEqual(files.count, inputs.count, "one ledger record per input file", file: file, line: line)
        let sent = (status?["orders"] as? [String: Int])?["sent"]
        XCTAssertEqual(sent, expected.count, "ledger: every order sent", file: file, line: line)
    }
}

enum Fixtures {
    static let csvHeader = "order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes\n"

    static func csvRow(_ id: String, sku: String = "SKU-1", quantity: String = "1", ean: String = "", customer: String = "Anna Kowalska", postcode: String = "31-147", country: String = "PL") -> String {
        "\(id);2026-11-20;\(customer);anna@example.pl;;ul. Długa 5;Kraków;\(postcode);\(country);inpost;KRA01M;0;PLN;\(sku);\(ean);\(quantity);19,99;Kubek;\n"
    }

    static func csv(_ ids: [String]) -> String {
        csvHeader + ids.map { csvRow($0) }.joined()
    }

    static func xml(_ ids: [String]) -> String {
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders xmlns=\"urn:edidrop:orders:1\">\n"
        for id in ids {
            x += """
              <order id="\(id)" date="2026-11-27">
                <customer name="Zofia Mazur"/>
                <shipTo street="ul. Morska 10" city="Szczecin" postcode="70-001" country="PL"/>
                <line sku="SKU-C" quantity="3" unitPrice="7.00" name="Zeszyt"/>
              </order>

            """
        }
        return x + "</orders>\n"
    }
}
