import Foundation
import SFTPSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SFTPConnection against a real OpenSSH server (internal-sftp) on 127.0.0.1.
final class SFTPConnectionTests: XCTestCase {
    // MARK: - Files

    func testRoundTripListUploadRenameDownloadRemove() throws {
        let rig = try SSHServerRig(testCase: self)
        let sftp = try connect(rig)
        defer { sftp.close() }
        let folder = rig.exportPath + "/in"
        try sftp.makeDirectory(folder)
        try sftp.makeDirectory(folder)  // already there: fine
        XCTAssertEqual(try sftp.list(folder), [])

        let content = Array("<orders xmlns=\"urn:edidrop:orders:1\"><order id=\"PL-1001\"/></orders>\n".utf8)
        let temporary = folder + "/.ORDER_PL-1001.xml.tmp"
        let final = folder + "/ORDER_PL-1001.xml"
        try sftp.upload(content, to: temporary, exclusive: true)
        let listed = try sftp.list(folder)
        XCTAssertEqual(listed.map(\.name), [".ORDER_PL-1001.xml.tmp"])
        let entry = try XCTUnwrap(listed.first)
        XCTAssertEqual(entry.size, Int64(content.count))
        XCTAssertTrue(entry.isRegularFile)
        XCTAssertFalse(entry.isDirectory || entry.isSymlink)
        XCTAssertEqual(entry.permissions, 0o644)
        XCTAssertLessThan(abs(entry.modified - Int64(Date().timeIntervalSince1970)), 120)

        try sftp.rename(temporary, final)
        XCTAssertNil(try sftp.stat(temporary))
        XCTAssertEqual(try sftp.stat(final)?.size, Int64(content.count))
        XCTAssertEqual(FileManager.default.contents(atPath: final), Data(content), "the server's disk holds the bytes")

        let local = try localFolder(rig) + "/ORDER_PL-1001.xml"
        XCTAssertEqual(try sftp.download(final, to: local), Int64(content.count))
        XCTAssertEqual(FileManager.default.contents(atPath: local), Data(content))

        try sftp.remove(final)
        XCTAssertNil(try sftp.stat(final))
        XCTAssertEqual(try sftp.list(folder), [])
        XCTAssertTrue(sftp.isUsable)
    }

    func testMissingFilesAndWhatEntriesAre() throws {
        let rig = try SSHServerRig(testCase: self)
        let sftp = try connect(rig)
        defer { sftp.close() }
        let export = rig.exportPath
        let local = try localFolder(rig) + "/missing.xml"

        expectError(.noSuchFile) { try sftp.download(export + "/missing.xml", to: local) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: local), "no local file for a failed download")
        expectError(.noSuchFile) { try sftp.remove(export + "/missing.xml") }
        expectError(.noSuchFile) { try sftp.list(export + "/missing") }
        expectError(.noSuchFile) { try sftp.rename(export + "/missing.xml", export + "/other.xml") }
        XCTAssertNil(try sftp.stat(export + "/missing.xml"))

        // Links are reported as links (lstat), never as the file they point to.
        try Data("x".utf8).write(to: URL(fileURLWithPath: export + "/file.csv"))
        try FileManager.default.createSymbolicLink(atPath: export + "/link.csv", withDestinationPath: export + "/file.csv")
        try FileManager.default.createDirectory(atPath: export + "/folder", withIntermediateDirectories: false)
        let entries = Dictionary(uniqueKeysWithValues: try sftp.list(export).map { ($0.name, $0) })
        XCTAssertEqual(Set(entries.keys), ["file.csv", "link.csv", "folder"])
        XCTAssertEqual(entries["file.csv"]?.isRegularFile, true)
        XCTAssertEqual(entries["link.csv"]?.isSymlink, true)
        XCTAssertEqual(entries["link.csv"]?.isRegularFile, false)
        XCTAssertEqual(entries["folder"]?.isDirectory, true)
        XCTAssertEqual(try sftp.stat(export + "/link.csv")?.isSymlink, true)
        XCTAssertEqual(try sftp.stat(export + "/folder")?.name, "folder")

        let error = expectError(.alreadyExists) { try sftp.makeDirectory(export + "/file.csv") }
        XCTAssertTrue(error?.message.contains("not a directory") ?? false, error?.message ?? "")

        expectError(.noSuchFile) { try sftp.upload(Array("x".utf8), to: export + "/missing/x.xml", exclusive: true) }
        expectError(.noSuchFile) { try sftp.makeDirectory(export + "/missing/deeper") }
        let localError = expectError(.localFile) { try sftp.download(export + "/file.csv", to: local + ".d/x") }
        XCTAssertTrue(localError?.message.contains(local + ".d/x") ?? false, localError?.message ?? "")
        XCTAssertTrue(sftp.isUsable, "file-level errors leave the connection usable")
    }

    /// The server's disk fills up during an upload: the error is reported, the partial
    /// file is removed, and the connection stays usable.
    func testUploadThatFailsOnTheServerLeavesNoPartialFile() throws {
        let rig = try SSHServerRig(testCase: self)
        let full = rig.exportPath + "/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: false)
        let mounted = try SSHServerRig.run(["/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full], timeout: 10)
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a small tmpfs here: \(mounted.output)") }
        addTeardownBlock { _ = try? SSHServerRig.run(["/bin/umount", "-l", full], timeout: 10) }

        let sftp = try connect(rig)
        defer { sftp.close() }
        let big = [UInt8](repeating: 0x41, count: 3 << 20)
        var caught: SFTPError?
        do {
            try sftp.upload(big, to: full + "/ORDER_1.xml", exclusive: true)
        } catch let error as SFTPError {
            caught = error
        }
        let error = try XCTUnwrap(caught, "3 MiB cannot fit in 1 MiB")
        XCTAssertFalse(error.isConnectionFailure, error.message)
        XCTAssertTrue(error.message.contains("cannot upload \(full)/ORDER_1.xml"), error.message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: full + "/ORDER_1.xml"), "the partial file was removed")
        XCTAssertTrue(sftp.isUsable)
        try sftp.upload(Array("small".utf8), to: full + "/ORDER_1.xml", exclusive: true)
        XCTAssertEqual(FileManager.default.contents(atPath: full + "/ORDER_1.xml"), Data("small".utf8))
    }

    func testExclusiveUploadOntoAnExistingNameFails() throws {
        let rig = try SSHServerRig(testCase: self)
        let sftp = try connect(rig)
        defer { sftp.close() }
        let path = rig.exportPath + "/ORDER_1.xml"
        try sftp.upload(Array("first".utf8), to: path, exclusive: true)

        let error = expectError(.alreadyExists) { try sftp.upload(Array("second".utf8), to: path, exclusive: true) }
        XCTAssertTrue(error?.message.contains("already exists") ?? false, error?.message ?? "")
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("first".utf8), "the existing file is untouched")

        try sftp.upload(Array("second".utf8), to: path, exclusive: false)
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("second".utf8), "non-exclusive replaces")
        try sftp.upload([], to: rig.exportPath + "/empty", exclusive: true)
        XCTAssertEqual(try sftp.stat(rig.exportPath + "/empty")?.size, 0)
    }

    func testRenameOntoAnExistingNameFails() throws {
        let rig = try SSHServerRig(testCase: self)
        let sftp = try connect(rig)
        defer { sftp.close() }
        let temporary = rig.exportPath + "/.ORDER_1.xml.tmp"
        let final = rig.exportPath + "/ORDER_1.xml"
        try sftp.upload(Array("new".utf8), to: temporary, exclusive: true)
        try sftp.upload(Array("old".utf8), to: final, exclusive: true)

        let error = expectError(.alreadyExists) { try sftp.rename(temporary, final) }
        XCTAssertTrue(error?.message.contains(final) ?? false, error?.message ?? "")
        XCTAssertEqual(FileManager.default.contents(atPath: final), Data("old".utf8), "never overwritten")
        XCTAssertEqual(FileManager.default.contents(atPath: temporary), Data("new".utf8))
        XCTAssertTrue(sftp.isUsable)
    }

    // MARK: - Host keys and authentication

    func testUnknownHostKeyIsRefusedWithAClearMessage() throws {
        let rig = try SSHServerRig(testCase: self)
        let empty = rig.directory + "/known_hosts.empty"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())

        let error = expectError(.hostKeyUnknown) { try connect(rig, knownHosts: empty) }
        let message = error?.message ?? ""
        XCTAssertTrue(message.contains("host key for 127.0.0.1:\(rig.port)"), message)
        XCTAssertTrue(message.contains("is not in known_hosts (\(empty))"), message)
        XCTAssertTrue(message.contains("refusing to connect"), message)
        XCTAssertTrue(message.contains("SHA256:"), "the fingerprint to check: \(message)")

        let missing = rig.directory + "/no-such-known_hosts"
        let missingError = expectError(.hostKeyUnknown) { try connect(rig, knownHosts: missing) }
        XCTAssertTrue(missingError?.message.contains("\(missing) does not exist") ?? false, missingError?.message ?? "")

        // The entry must name the port, as OpenSSH writes it: a plain "127.0.0.1" line
        // is the key of the server on port 22, not of this one.
        let plain = rig.directory + "/known_hosts.plain"
        let line = try rig.knownHostsLine(forKeyAt: rig.hostKeyPath)
        try line.replacingOccurrences(of: "[127.0.0.1]:\(rig.port)", with: "127.0.0.1")
            .write(toFile: plain, atomically: true, encoding: .utf8)
        expectError(.hostKeyUnknown) { try connect(rig, knownHosts: plain) }

        XCTAssertFalse(rig.sshdLog.contains("Accepted publickey"), "nothing was sent before the host key check:\n\(rig.sshdLog)")
    }

    func testChangedHostKeyIsRefused() throws {
        let rig = try SSHServerRig(testCase: self)
        let otherKey = try rig.makeExtraKey(named: "impostor_host_key")
        let changed = rig.directory + "/known_hosts.changed"
        try rig.knownHostsLine(forKeyAt: otherKey).write(toFile: changed, atomically: true, encoding: .utf8)

        let error = expectError(.hostKeyMismatch) { try connect(rig, knownHosts: changed) }
        let message = error?.message ?? ""
        XCTAssertTrue(message.contains("host key for 127.0.0.1:\(rig.port) has CHANGED"), message)
        XCTAssertTrue(message.contains(changed), message)
        XCTAssertFalse(rig.sshdLog.contains("Accepted publickey"))

        // A key marked @revoked is refused even when it is also listed as valid.
        let revoked = rig.directory + "/known_hosts.revoked"
        let line = try rig.knownHostsLine(forKeyAt: rig.hostKeyPath)
        try (line + "@revoked " + line).write(toFile: revoked, atomically: true, encoding: .utf8)
        let revokedError = expectError(.hostKeyMismatch) { try connect(rig, knownHosts: revoked) }
        XCTAssertTrue(revokedError?.message.contains("@revoked") ?? false, revokedError?.message ?? "")
    }

    /// A known_hosts file as people have them: hashed names (Debian's default), other
    /// hosts, comments, markers and lines libssh2 cannot parse; and a server with more
    /// host keys than the one recorded.
    func testRealisticKnownHostsFileIsAccepted() throws {
        // libssh2 on its own prefers ECDSA host keys: with only the ed25519 key recorded,
        // this server would be "unknown" unless the client asks for the recorded type.
        let rig = try SSHServerRig(testCase: self, extraHostKeyTypes: ["ecdsa", "rsa"])
        let otherKey = try rig.makeExtraKey(named: "other_host_key")
        let otherLine = try String(contentsOfFile: otherKey + ".pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        let entries = """
        warehouse.example.com,192.0.2.10 \(otherLine)
        127.0.0.1 \(otherLine)
        \(try rig.knownHostsLine(forKeyAt: rig.hostKeyPath))
        """
        let junk = """
        # my servers

        @cert-authority *.example.com \(otherLine)
        this line is not a known_hosts line at all

        """
        let file = rig.directory + "/known_hosts.realistic"
        try (junk + entries).write(toFile: file, atomically: true, encoding: .utf8)
        try connect(rig, knownHosts: file).close()

        // Hashed the way `ssh-keygen -H` (and Debian's HashKnownHosts yes) writes them.
        try entries.write(toFile: file, atomically: true, encoding: .utf8)
        let hashed = try SSHServerRig.run([SSHServerRig.sshKeygenPath, "-H", "-f", file])
        XCTAssertEqual(hashed.status, 0, hashed.output)
        let hashedText = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertFalse(hashedText.contains("127.0.0.1"), "names are hashed")
        try (junk + hashedText).write(toFile: file, atomically: true, encoding: .utf8)
        try connect(rig, knownHosts: file).close()

        // Only the ECDSA key recorded: the server is asked for that type.
        let ecdsaOnly = rig.directory + "/known_hosts.ecdsa"
        try rig.knownHostsLine(forKeyAt: rig.extraHostKeyPaths[0]).write(toFile: ecdsaOnly, atomically: true, encoding: .utf8)
        try connect(rig, knownHosts: ecdsaOnly).close()

        // Only the RSA key recorded: Debian 12's libssh2 1.10 verifies RSA host keys only
        // with SHA-1 signatures, which OpenSSH 8.8+ no longer makes. Refused, and said why.
        let rsaOnly = rig.directory + "/known_hosts.rsa"
        try rig.knownHostsLine(forKeyAt: rig.extraHostKeyPaths[1]).write(toFile: rsaOnly, atomically: true, encoding: .utf8)
        do {
            try connect(rig, knownHosts: rsaOnly).close()  // a libssh2 with rsa-sha2 host keys
        } catch let error as SFTPError {
            XCTAssertEqual(error.kind, .connect, error.message)
            XCTAssertTrue(error.message.contains("ed25519 or ECDSA"), error.message)
        }
    }

    func testWrongClientKeyFailsAuthentication() throws {
        let rig = try SSHServerRig(testCase: self)
        let stranger = try rig.makeExtraKey(named: "stranger")
        let error = expectError(.authentication) { try connect(rig, identity: stranger) }
        let message = error?.message ?? ""
        XCTAssertTrue(message.contains("as \(rig.user)"), message)
        XCTAssertTrue(message.contains(stranger), message)

        let missing = rig.directory + "/no-such-key"
        let missingError = expectError(.authentication) { try connect(rig, identity: missing) }
        XCTAssertTrue(missingError?.message.contains("\(missing) cannot be read") ?? false, missingError?.message ?? "")

        let garbage = rig.directory + "/garbage-key"
        try "not a key\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        expectError(.authentication) { try connect(rig, identity: garbage) }
    }

    // MARK: - A server that goes away

    func testServerStoppedMidSessionThenBack() throws {
        let rig = try SSHServerRig(testCase: self)
        let sftp = try connect(rig, timeout: 10)
        defer { sftp.close() }
        XCTAssertEqual(try sftp.list(rig.exportPath), [])

        rig.stop()
        let started = Date()
        let error = expectError(.connectionLost) { try sftp.list(rig.exportPath) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "noticed at once, not after the timeout")
        XCTAssertTrue(error?.message.contains("connection lost") ?? false, error?.message ?? "")
        XCTAssertFalse(sftp.isUsable)
        let again = expectError(.connectionLost) { try sftp.stat(rig.exportPath) }
        XCTAssertTrue(again?.message.contains("no longer usable") ?? false, again?.message ?? "")

        let refused = expectError(.connect) { try connect(rig) }
        XCTAssertTrue(refused?.message.contains("refused") ?? false, refused?.message ?? "")

        try rig.restart()
        let fresh = try connect(rig)
        defer { fresh.close() }
        try fresh.upload(Array("after restart".utf8), to: rig.exportPath + "/after", exclusive: true)
        XCTAssertEqual(try fresh.list(rig.exportPath).map(\.name), ["after"])
    }

    /// The server dies in the middle of a download: the error comes at once, no partial
    /// local file remains, and after the server is back a new connection gets it all.
    func testConnectionCutDuringDownloadLeavesNothingBehind() throws {
        let rig = try SSHServerRig(testCase: self)
        let remote = rig.exportPath + "/big.bin"
        try writePattern(to: remote, megabytes: 20)
        let local = try localFolder(rig) + "/big.bin"
        let sftp = try connect(rig, timeout: 5)
        defer { sftp.close() }

        // Cut when the first megabyte has arrived: freeze the server so nothing more is
        // sent, then kill it.
        let cutter = DispatchGroup()
        cutter.enter()
        DispatchQueue.global().async {
            defer { cutter.leave() }
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                let size = (try? FileManager.default.attributesOfItem(atPath: local)[.size] as? Int) ?? 0
                if size >= 1 << 20 { break }
                usleep(200)
            }
            rig.suspend()
            rig.stop()
        }
        let started = Date()
        var caught: SFTPError?
        do {
            try sftp.download(remote, to: local)
        } catch let error as SFTPError {
            caught = error
        }
        cutter.wait()
        let error = try XCTUnwrap(caught, "the download should have been cut")
        XCTAssertTrue(error.kind == .connectionLost || error.kind == .timeout, error.message)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertFalse(FileManager.default.fileExists(atPath: local), "no partial download remains")
        XCTAssertFalse(sftp.isUsable)

        try rig.restart()
        let fresh = try connect(rig)
        defer { fresh.close() }
        XCTAssertEqual(try fresh.download(remote, to: local), 20 << 20)
        try assertPattern(at: local, megabytes: 20)
    }

    func testServerThatStopsAnsweringTimesOut() throws {
        let rig = try SSHServerRig(testCase: self)
        let sftp = try connect(rig, timeout: 1.5)
        defer { sftp.close() }
        XCTAssertEqual(try sftp.list(rig.exportPath), [])

        rig.suspend()
        defer { rig.resume() }
        var started = Date()
        let error = expectError(.timeout) { try sftp.list(rig.exportPath) }
        var elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 1.2)
        XCTAssertLessThan(elapsed, 6, "about the 1.5 s timeout, not the default 30 s")
        XCTAssertTrue(error?.message.contains("no answer within 1.5 s") ?? false, error?.message ?? "")
        XCTAssertFalse(sftp.isUsable)

        // The kernel still accepts the TCP connection; the SSH handshake gets no answer.
        started = Date()
        expectError(.timeout) { try connect(rig, timeout: 1) }
        elapsed = Date().timeIntervalSince(started)
        XCTAssertLessThan(elapsed, 6)
    }

    // MARK: - Size

    func testLargeDownloadStreamsWithBoundedMemory() throws {
        let rig = try SSHServerRig(testCase: self)
        let remote = rig.exportPath + "/stock.csv"
        try writePattern(to: remote, megabytes: 20)
        let local = try localFolder(rig) + "/stock.csv"
        let sftp = try connect(rig)
        defer { sftp.close() }

        // Linux resets the peak resident size (VmHWM) when "5" is written to clear_refs.
        let canReset = (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
        let before = memoryKiB("VmRSS")
        let started = Date()
        XCTAssertEqual(try sftp.download(remote, to: local), 20 << 20)
        let elapsed = Date().timeIntervalSince(started)
        let peakGrowth = memoryKiB("VmHWM") - before
        try assertPattern(at: local, megabytes: 20)
        if canReset {
            XCTAssertLessThan(peakGrowth, 8 * 1024, "a 20 MiB download should not hold the file in memory (peak grew by \(peakGrowth) KiB)")
        }
        XCTAssertLessThan(elapsed, 10, "20 MiB over loopback")
    }

    // MARK: - Helpers

    private func connect(_ rig: SSHServerRig, knownHosts: String? = nil, identity: String? = nil,
                         timeout: Double = 10) throws -> SFTPConnection {
        try SFTPConnection(host: rig.host, port: rig.port, user: rig.user,
                           credentials: SFTPCredentials(identityFile: identity ?? rig.clientKeyPath,
                                                        knownHostsFile: knownHosts ?? rig.knownHostsPath),
                           timeout: timeout)
    }

    @discardableResult
    private func expectError<T>(_ kind: SFTPError.Kind, file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> T) -> SFTPError? {
        do {
            _ = try body()
            XCTFail("expected an SFTPError of kind \(kind)", file: file, line: line)
        } catch let error as SFTPError {
            XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
            return error
        } catch {
            XCTFail("expected an SFTPError, got \(error)", file: file, line: line)
        }
        return nil
    }

    /// A folder for the client's side of transfers (removed with the rig).
    private func localFolder(_ rig: SSHServerRig) throws -> String {
        let path = rig.directory + "/local"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static let baseChunk = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) })

    /// MiB number `index` of the test pattern: every MiB starts with its own number, so a
    /// lost, repeated or reordered chunk shows.
    private func patternChunk(_ index: Int) -> Data {
        var chunk = Self.baseChunk
        withUnsafeBytes(of: UInt64(index).bigEndian) { chunk.replaceSubrange(0..<8, with: $0) }
        return chunk
    }

    /// A file of `megabytes` MiB, written a MiB at a time, every MiB different.
    private func writePattern(to path: String, megabytes: Int) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        for index in 0..<megabytes { try handle.write(contentsOf: patternChunk(index)) }
    }

    private func assertPattern(at path: String, megabytes: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        for index in 0..<megabytes {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            guard chunk == patternChunk(index) else {
                XCTFail("MiB \(index) differs", file: file, line: line)
                return
            }
        }
        XCTAssertEqual(try handle.read(upToCount: 1) ?? Data(), Data(), "no bytes after the end", file: file, line: line)
    }

    /// A "Vm…" line of /proc/self/status, in KiB.
    private func memoryKiB(_ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
