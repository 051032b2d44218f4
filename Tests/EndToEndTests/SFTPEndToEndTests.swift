import Foundation
import XCTest

/// The warehouse's folders on a real OpenSSH server (127.0.0.1 only), reached through an
/// sshfs mount and directly over sftp://. The rig is Tests/SFTPSupportTests/SSHServerRig.swift.
final class SFTPEndToEndTests: XCTestCase {
    private func sftpSpool(_ rig: SSHServerRig, extra: String = "", knownHosts: String? = nil) throws -> TestSpool {
        for sub in ["in", "out"] {
            try FileManager.default.createDirectory(atPath: rig.exportPath + "/" + sub, withIntermediateDirectories: true)
        }
        return try TestSpool(configuration: """
            [folders]
            outbox = "\(rig.sftpURL("in"))"
            from_warehouse = "\(rig.sftpURL("out"))"
            [intake]
            settle = 0
            poll_interval = 0.2
            [sftp]
            identity_file = "\(rig.clientKeyPath)"
            known_hosts = "\(knownHosts ?? rig.knownHostsPath)"
            timeout = 5
            \(extra)
            """)
    }

    private func serverFiles(_ rig: SSHServerRig, _ sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: rig.exportPath + "/" + sub)) ?? []).sorted()
    }

    private func waitUntil(_ timeout: TimeInterval, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw HarnessError("condition not met within \(timeout) s") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    func testDeliveryAndPickupOverSFTP() throws {
        let rig = try SSHServerRig(testCase: self)
        let spool = try sftpSpool(rig)
        try spool.drop("orders.csv", Fixtures.csv(["SF-1", "SF-2"]))
        let r = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(serverFiles(rig, "in"), ["ORDER_SF-1.xml", "ORDER_SF-2.xml"], "delivered, no temp names left")
        let xml = try String(contentsOfFile: rig.exportPath + "/in/ORDER_SF-1.xml", encoding: .utf8)
        XCTAssertTrue(xml.contains(#"<order id="SF-1""#), xml)

        // The warehouse answers on its side of the server.
        try "order_id;tracking_number\nSF-1;TR-9\n".write(toFile: rig.exportPath + "/out/ship.csv", atomically: true, encoding: .utf8)
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual(serverFiles(rig, "out"), ["processed"], "taken, then moved aside on the server after the commit")
        XCTAssertEqual(serverFiles(rig, "out/processed"), ["ship.csv"])
        let journey = try spool.json(["orders", "show", "SF-1"]) as? [String: Any]
        XCTAssertEqual(journey?["status"] as? String, "shipped")
        XCTAssertEqual(spool.files(in: "archive").map { ($0 as NSString).lastPathComponent }.sorted(), ["orders.csv", "ship.csv"])
        // Nothing is taken twice.
        XCTAssertEqual(try spool.run(["run", "--once", "--settle", "0"]).status, 0)
        XCTAssertEqual((try spool.json(["files"]) as? [[String: Any]])?.count, 2)
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertTrue((status?["notes"] as? [String] ?? []).contains { $0.contains("SFTP server") })
    }

    func testAnUnknownHostKeyIsRefusedWithAClearMessage() throws {
        let rig = try SSHServerRig(testCase: self)
        let empty = rig.directory + "/empty_known_hosts"
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        let spool = try sftpSpool(rig, knownHosts: empty)
        try spool.drop("orders.csv", Fixtures.csv(["HK-1"]))
        let r = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is not in known_hosts") && r.stderr.contains("refusing to connect"), r.stderr)
        XCTAssertEqual(serverFiles(rig, "in"), [], "nothing sent to an unverified server")
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertEqual(status?["pendingDeliveries"] as? Int, 1)
        XCTAssertTrue((status?["problems"] as? [String] ?? []).contains { $0.contains("not in known_hosts") })
    }

    /// The server stops in the middle of a stream of deliveries and pick-ups, then comes
    /// back: every file goes out once, every answer is taken once.
    func testTheConnectionCutDuringTransfersLosesAndDuplicatesNothing() throws {
        let rig = try SSHServerRig(testCase: self)
        let spool = try sftpSpool(rig)
        let daemon = try Edidrop.start(["--spool", spool.root, "run"], environment: ["EDIDROP_LOG_LEVEL": "warning"])
        defer { daemon.signal(SIGKILL) }
        var ids: [String] = []
        for i in 0..<40 {
            ids.append("CUT-\(i)")
            try spool.drop("o\(i).csv", Fixtures.csv(["CUT-\(i)"]))
            if i == 15 { rig.stop() }
            if i == 30 { try rig.restart() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try waitUntil(60) { serverFiles(rig, "in").filter { $0.hasPrefix("ORDER_") }.count == 40 }
        for (i, id) in ids.enumerated() where i % 10 == 0 {
            try "order_id;tracking_number\n\(id);T-\(i)\n".write(toFile: rig.exportPath + "/out/s\(i).csv", atomically: true, encoding: .utf8)
        }
        rig.stop()
        Thread.sleep(forTimeInterval: 1)
        try rig.restart()
        try waitUntil(60) { serverFiles(rig, "out/processed").count == 4 }
        daemon.signal(SIGTERM)
        XCTAssertEqual(try daemon.finish(timeout: 30).status, 0)
        XCTAssertEqual(serverFiles(rig, "in"), ids.map { "ORDER_\($0).xml" }.sorted(), "each once, no temp files")
        XCTAssertEqual(serverFiles(rig, "out"), ["processed"])
        let shipped = try spool.json(["orders", "--status", "shipped"]) as? [[String: Any]]
        XCTAssertEqual(shipped?.count, 4)
        let files = try spool.json(["files"]) as? [[String: Any]] ?? []
        XCTAssertEqual(files.count, 44, "every file recorded once")
        XCTAssertTrue(files.allSatisfy { $0["state"] as? String == "accepted" }, "no duplicates: \(files.filter { $0["state"] as? String != "accepted" })")
    }

    func testDeliveryToAMountedOutboxAndASlowServerSideUpload() throws {
        let rig = try SSHServerRig(testCase: self)
        for sub in ["in", "out"] { try FileManager.default.createDirectory(atPath: rig.exportPath + "/" + sub, withIntermediateDirectories: true) }
        let mount = NSTemporaryDirectory() + "edidrop-mnt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try rig.mountSSHFS(at: mount)
        let spool = try TestSpool(configuration: """
            [folders]
            outbox = "\(mount)/in"
            from_warehouse = "\(mount)/out"
            require_mount = false
            [intake]
            settle = 2.5
            poll_interval = 0.2
            """)
        let daemon = try Edidrop.start(["--spool", spool.root, "run"], environment: ["EDIDROP_LOG_LEVEL": "warning"])
        defer { daemon.signal(SIGKILL) }
        try spool.drop("orders.csv", Fixtures.csv(["MT-1", "MT-2"]))
        try waitUntil(30) { serverFiles(rig, "in") == ["ORDER_MT-1.xml", "ORDER_MT-2.xml"] }

        // The warehouse writes a stock report slowly, on the server, seconds between chunks.
        let path = rig.exportPath + "/out/stock.csv"
        FileManager.default.createFile(atPath: path, contents: Data("sku;available\n".utf8))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        for i in 0..<4 {
            Thread.sleep(forTimeInterval: 1.2)
            handle.seekToEndOfFile()
            handle.write(Data("SLOW-\(i);\(i + 1)\n".utf8))
        }
        try handle.close()
        try waitUntil(30) { spool.files(in: "archive").contains { $0.hasSuffix("stock.csv") } }
        daemon.signal(SIGTERM)
        XCTAssertEqual(try daemon.finish(timeout: 30).status, 0)
        let stock = try spool.json(["stock"]) as? [[String: Any]] ?? []
        XCTAssertEqual(stock.compactMap { $0["sku"] as? String }, ["SLOW-0", "SLOW-1", "SLOW-2", "SLOW-3"], "taken only when complete")
        XCTAssertEqual((try spool.json(["files"]) as? [[String: Any]])?.count, 2)
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertTrue((status?["notes"] as? [String] ?? []).contains { $0.contains("network file system") }, "\(String(describing: status?["notes"]))")
    }

    /// The mount drops mid-run (unmounted: its mount point is an empty local folder) and
    /// comes back: deliveries wait for it and then go out once, never into the bare folder.
    func testAMountDroppedAndRestoredMidRun() throws {
        let rig = try SSHServerRig(testCase: self)
        try FileManager.default.createDirectory(atPath: rig.exportPath + "/in", withIntermediateDirectories: true)
        let mount = NSTemporaryDirectory() + "edidrop-mnt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try rig.mountSSHFS(at: mount, remotePath: rig.exportPath + "/in")
        let spool = try TestSpool(configuration: """
            [folders]
            outbox = "\(mount)"
            require_mount = true
            [intake]
            settle = 0
            poll_interval = 0.2
            """)
        let daemon = try Edidrop.start(["--spool", spool.root, "run"], environment: ["EDIDROP_LOG_LEVEL": "warning"])
        defer { daemon.signal(SIGKILL) }
        try spool.drop("a.csv", Fixtures.csv(["MD-1"]))
        try waitUntil(30) { serverFiles(rig, "in") == ["ORDER_MD-1.xml"] }
        rig.unmount()
        try spool.drop("b.csv", Fixtures.csv(["MD-2", "MD-3"]))
        try waitUntil(20) { spool.files(in: "archive").count == 2 }
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: mount)) ?? []), [], "nothing written into the bare mount point")
        let status = try spool.json(["status"]) as? [String: Any]
        XCTAssertEqual(status?["pendingDeliveries"] as? Int, 2)
        try rig.mountSSHFS(at: mount, remotePath: rig.exportPath + "/in")
        try waitUntil(40) { serverFiles(rig, "in") == ["ORDER_MD-1.xml", "ORDER_MD-2.xml", "ORDER_MD-3.xml"] }
        daemon.signal(SIGTERM)
        XCTAssertEqual(try daemon.finish(timeout: 30).status, 0)
    }
}
