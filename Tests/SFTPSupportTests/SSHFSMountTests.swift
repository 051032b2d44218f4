import Foundation
import XCTest

/// The rig's sshfs mount against its real sshd: what edidrop's mounted warehouse folders
/// rely on. Skipped only where the machine has no FUSE device.
final class SSHFSMountTests: XCTestCase {
    private func mountedRig() throws -> (rig: SSHServerRig, mount: String) {
        try XCTSkipUnless(SSHServerRig.fuseAvailable, "/dev/fuse is missing: this machine cannot mount FUSE file systems")
        let rig = try SSHServerRig(testCase: self)
        let mount = rig.directory + "/mnt"
        try rig.mountSSHFS(at: mount)
        return (rig, mount)
    }

    func testFilesCrossTheMountBothWays() throws {
        let (rig, mount) = try mountedRig()
        let files = FileManager.default

        // Written on the server, seen through the mount (dir_cache=no: at once).
        try Data("from the warehouse\n".utf8).write(to: URL(fileURLWithPath: rig.exportPath + "/stock.csv"))
        XCTAssertEqual(try files.contentsOfDirectory(atPath: mount), ["stock.csv"])
        XCTAssertEqual(files.contents(atPath: mount + "/stock.csv"), Data("from the warehouse\n".utf8))

        // Written through the mount, on the server's disk once closed.
        try Data("from edidrop\n".utf8).write(to: URL(fileURLWithPath: mount + "/.ORDER_1.xml.tmp"))
        XCTAssertEqual(files.contents(atPath: rig.exportPath + "/.ORDER_1.xml.tmp"), Data("from edidrop\n".utf8))

        // Rename through the mount is one rename on the server. sshfs 3 uses OpenSSH's
        // posix-rename extension, so unlike plain SFTP rename it REPLACES an existing
        // target (measured here; the direct sftp:// link refuses instead).
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: rig.exportPath + "/ORDER_1.xml"))
        XCTAssertEqual(rename(mount + "/.ORDER_1.xml.tmp", mount + "/ORDER_1.xml"), 0, String(cString: strerror(errno)))
        XCTAssertEqual(files.contents(atPath: rig.exportPath + "/ORDER_1.xml"), Data("from edidrop\n".utf8))
        XCTAssertFalse(files.fileExists(atPath: rig.exportPath + "/.ORDER_1.xml.tmp"))

        // Exclusive create on an existing name fails through the mount too.
        let fd = open(mount + "/ORDER_1.xml", O_WRONLY | O_CREAT | O_EXCL, 0o644)
        let createError = errno
        if fd >= 0 { close(fd) }
        XCTAssertEqual(fd, -1)
        XCTAssertEqual(createError, EEXIST)

        // Removed on the server, gone from the mount's listing.
        try files.removeItem(atPath: rig.exportPath + "/stock.csv")
        XCTAssertEqual(try files.contentsOfDirectory(atPath: mount), ["ORDER_1.xml"])

        rig.unmount()
        XCTAssertFalse(SSHServerRig.mountedPaths().contains(mount))
        XCTAssertEqual(try files.contentsOfDirectory(atPath: mount), [], "the mount point is an empty folder again")
    }

    /// The server goes away and comes back on the same port: with `reconnect` the mount
    /// works again without remounting. Reads go through a child process with a time limit
    /// so that a hung mount cannot hang the test run.
    func testMountComesBackAfterServerRestart() throws {
        let (rig, mount) = try mountedRig()
        try Data("before\n".utf8).write(to: URL(fileURLWithPath: rig.exportPath + "/a.csv"))
        XCTAssertEqual(try SSHServerRig.run(["/bin/cat", mount + "/a.csv"], timeout: 10).output, "before\n")

        rig.stop()
        let down = try SSHServerRig.run(["/bin/cat", mount + "/a.csv"], timeout: 10)
        XCTAssertNotEqual(down.status, 0, "no server, no file: \(down.output)")

        try rig.restart()
        try Data("after\n".utf8).write(to: URL(fileURLWithPath: rig.exportPath + "/b.csv"))
        var result = (status: Int32(-1), output: "")
        let deadline = Date().addingTimeInterval(10)
        repeat {
            result = try SSHServerRig.run(["/bin/cat", mount + "/b.csv"], timeout: 10)
            if result.status == 0 { break }
            usleep(200_000)
        } while Date() < deadline
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, "after\n")
    }
}
