import EDIDrop
import Foundation
import XCTest

/// The real `edidrop serve` executable, looked at in a real headless Chromium (Debian's
/// `chromium`, installed by scripts/bootstrap) as a person would: the dashboard and a
/// rejected file's report. Screenshots are kept in the build folder's test-artifacts/web/.
final class BrowserTests: XCTestCase {
    /// The executable built next to the test bundle (or $EDIDROP_BIN).
    static var executable: String {
        if let explicit = ProcessInfo.processInfo.environment["EDIDROP_BIN"] { return explicit }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("edidrop").path
    }

    /// `<scratch>/test-artifacts/web` (the build folder the tests run from), or $EDIDROP_TEST_ARTIFACTS.
    static var artifacts: String {
        if let explicit = ProcessInfo.processInfo.environment["EDIDROP_TEST_ARTIFACTS"] { return explicit + "/web" }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" && !dir.lastPathComponent.hasPrefix(".build") { dir = dir.deletingLastPathComponent() }
        if dir.path == "/" { dir = FileManager.default.temporaryDirectory }
        return dir.appendingPathComponent("test-artifacts/web").path
    }

    static var samples: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples").path
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to its end (at most `timeout` seconds), collecting its output.
    static func run(_ program: String, _ arguments: [String], timeout: TimeInterval = 90) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        p.standardInput = FileHandle.nullDevice
        let tmp = FileManager.default.temporaryDirectory
        let out = tmp.appendingPathComponent("web-out-\(UUID().uuidString)"), err = tmp.appendingPathComponent("web-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
            throw FixtureError("\(program) \(arguments) did not finish within \(timeout) s")
        }
        return Output(status: p.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// `edidrop serve` in the background until `stop()`.
    final class Server {
        let process = Process()
        let out: URL
        let err: URL
        private(set) var url = ""

        init(spool: String, arguments: [String] = []) throws {
            let tmp = FileManager.default.temporaryDirectory
            out = tmp.appendingPathComponent("serve-out-\(UUID().uuidString)")
            err = tmp.appendingPathComponent("serve-err-\(UUID().uuidString)")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            FileManager.default.createFile(atPath: err.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: BrowserTests.executable)
            process.arguments = ["--spool", spool, "serve", "--host", "127.0.0.1", "--port", "0"] + arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try process.run()
            // It prints its address once it listens (port 0: a free port the system chose).
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
                if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression) {
                    url = String(text[range])
                    return
                }
                if !process.isRunning { break }
                usleep(50_000)
            }
            let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            stop()
            throw FixtureError("edidrop serve did not start: \(stderr)")
        }

        func stop() {
            if process.isRunning {
                process.interrupt()  // SIGINT: a graceful stop
                let deadline = Date().addingTimeInterval(10)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                if process.isRunning { process.terminate() }
            }
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
    }

    static func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw FixtureError("Chromium is not installed: run scripts/bootstrap (Debian package chromium)")
    }

    /// `--screenshot` and `--dump-dom` of one page, each in a fresh headless Chromium.
    func look(at url: String, screenshot name: String, profile: String) throws -> String {
        let chromium = try Self.chromium()
        let common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                      "--window-size=1280,900", "--hide-scrollbars"]
        let png = Self.artifacts + "/" + name
        try? FileManager.default.removeItem(atPath: png)
        let shot = try Self.run(chromium, common + ["--screenshot=\(png)", url])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: png), "no screenshot at \(png): \(shot.stderr)")
        print("screenshot: \(png)")
        let dom = try Self.run(chromium, common + ["--dump-dom", url])
        XCTAssertEqual(dom.status, 0, dom.stderr)
        return dom.stdout
    }

    func testDashboardAndReportInHeadlessChromium() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("edidrop-browser-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        XCTAssertEqual(try Self.run(Self.executable, ["--spool", root, "init"]).status, 0)
        for name in ["orders-valid.csv", "orders-invalid.csv"] {
            try FileManager.default.copyItem(atPath: Self.samples + "/" + name, toPath: root + "/inbox/" + name)
        }
        let pass = try Self.run(Self.executable, ["--spool", root, "run", "--once", "--settle", "0"])
        XCTAssertEqual(pass.status, 0, pass.stderr)
        let files = try JSONSerialization.jsonObject(with: Data(try Self.run(Self.executable, ["--spool", root, "files", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let rejected = try XCTUnwrap(files.first { $0["state"] as? String == "rejected" }?["id"] as? Int)
        let accepted = try XCTUnwrap(files.first { $0["state"] as? String == "accepted" }?["id"] as? Int)
        let orders = try JSONSerialization.jsonObject(with: Data(try Self.run(Self.executable, ["--spool", root, "orders", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let someOrder = try XCTUnwrap(orders.last?["orderId"] as? String)

        try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
        let profile = root + "-chromium"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let server = try Server(spool: root)
        defer { server.stop() }

        let dashboard = try look(at: server.url, screenshot: "dashboard.png", profile: profile)
        XCTAssertTrue(dashboard.contains("<h1>Dashboard</h1>"), dashboard)
        XCTAssertTrue(dashboard.contains("<div class=\"n\">1</div><div class=\"l\">accepted</div>"), "one accepted file")
        XCTAssertTrue(dashboard.contains("<div class=\"n\">1</div><div class=\"l\">rejected</div>"), "one rejected file")
        XCTAssertTrue(dashboard.contains("<div class=\"n\">\(orders.count)</div><div class=\"l\">sent</div>"), "every order sent")
        XCTAssertTrue(dashboard.contains("orders-invalid.csv"))

        let report = try look(at: server.url + "files/\(rejected)", screenshot: "rejected-file.png", profile: profile)
        XCTAssertTrue(report.contains("<code class=\"code\">INVALID_EAN</code>"), report)
        // The quoted line as the file has it, with the wrong EAN highlighted in it.
        let quoted = try XCTUnwrap(String(contentsOfFile: Self.samples + "/orders-invalid.csv", encoding: .utf8)
            .split(separator: "\n").first { $0.contains("5901234123458") })
        let markAt = try XCTUnwrap(quoted.range(of: "5901234123458"))
        XCTAssertTrue(report.contains(String(quoted[..<markAt.lowerBound]) + "<mark>5901234123458</mark>"), "the quoted line, value marked")
        XCTAssertTrue(report.contains("Retry this file"))
        XCTAssertTrue(report.contains("nothing from this file was sent"))

        // For a person to look at (not checked here): the other pages.
        _ = try look(at: server.url + "files/\(accepted)", screenshot: "accepted-file.png", profile: profile)
        _ = try look(at: server.url + "orders/" + someOrder, screenshot: "order.png", profile: profile)
        _ = try look(at: server.url + "files", screenshot: "files.png", profile: profile)
    }

    /// Off loopback without a token, `serve` refuses to start: exit 2 and a clear reason.
    func testServeRefusesANetworkAddressWithoutAToken() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("edidrop-serve-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        XCTAssertEqual(try Self.run(Self.executable, ["--spool", root, "init"]).status, 0)
        let refused = try Self.run(Self.executable, ["--spool", root, "serve", "--host", "0.0.0.0", "--port", "0"], timeout: 30)
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("refusing to serve on 0.0.0.0"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--token"), refused.stderr)
        let short = try Self.run(Self.executable, ["--spool", root, "serve", "--host", "0.0.0.0", "--token", "abc"], timeout: 30)
        XCTAssertEqual(short.status, 2)
        XCTAssertTrue(short.stderr.contains("at least 16 characters"), short.stderr)
    }
}
