// A real OpenSSH server for tests, and an sshfs mount of it.
//
// Self-contained on purpose (Foundation, XCTest and Glibc only, nothing from the
// project's modules): other test targets may use a copy of this file as it is.
//
//     let rig = try SSHServerRig(testCase: self)     // sshd on 127.0.0.1:<free port>
//     rig.exportPath                                 // the folder clients work in
//     rig.clientKeyPath, rig.knownHostsPath          // what a client needs
//     rig.sftpURL                                    // sftp://root@127.0.0.1:PORT/<export>
//     rig.stop(); try rig.restart()                  // cut every connection; come back
//     rig.suspend(); rig.resume()                    // a server that stops answering
//     try rig.mountSSHFS(at: dir); rig.unmount()
//
// Needs Debian's openssh-server (/usr/sbin/sshd) and, for mounts, sshfs and /dev/fuse;
// run as root (sshd must switch users, sshfs must mount). Everything it starts, it
// stops: in `shutdown()`, called by the test case's teardown block and by deinit.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class SSHServerRig: @unchecked Sendable {
    struct RigError: Error, CustomStringConvertible {
        let description: String
    }

    static let sshdPath = "/usr/sbin/sshd"
    static let sshKeygenPath = "/usr/bin/ssh-keygen"
    static let sshfsPath = "/usr/bin/sshfs"

    /// True when this machine can mount FUSE file systems at all.
    static var fuseAvailable: Bool {
        FileManager.default.fileExists(atPath: "/dev/fuse")
    }

    let host = "127.0.0.1"
    /// The login user: the current user (root in the test environment).
    let user: String
    /// Temporary folder holding keys, configuration, logs and the export folder.
    let directory: String
    /// The folder the server's clients work in (an absolute server path).
    let exportPath: String
    /// The server's host key (private; `.pub` beside it).
    let hostKeyPath: String
    /// A client key the server accepts (private, unencrypted; `.pub` beside it).
    let clientKeyPath: String
    /// known_hosts with exactly one line: the host key for "[127.0.0.1]:PORT".
    let knownHostsPath: String
    private(set) var port: Int
    /// Where the current sshfs mount is, if any.
    private(set) var mountPoint: String?

    private let configPath: String
    private let sshdLogPath: String
    private let sshfsLogPath: String
    private var sshd: ChildProcess?
    private var sshfs: ChildProcess?
    private var isShutDown = false

    /// Further host keys the server offers besides the ed25519 one (e.g. "ecdsa", "rsa"),
    /// in `directory` as `ssh_host_TYPE_key`. known_hosts lists only the ed25519 key.
    let extraHostKeyPaths: [String]

    /// Creates keys and configuration in a new temporary folder and starts sshd. With a
    /// test case, the rig shuts itself down in the test's teardown, pass or fail.
    init(testCase: XCTestCase? = nil, extraHostKeyTypes: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.sshdPath) else {
            throw RigError(description: "\(Self.sshdPath) is missing: install Debian's openssh-server (scripts/bootstrap)")
        }
        user = String(cString: getpwuid(geteuid()).pointee.pw_name)
        var template = Array((NSTemporaryDirectory() + "/sshrig.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw RigError(description: "cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        directory = URL(fileURLWithPath: String(cString: made)).standardizedFileURL.path  // no "//"
        exportPath = directory + "/export"
        hostKeyPath = directory + "/ssh_host_ed25519_key"
        clientKeyPath = directory + "/client_ed25519"
        knownHostsPath = directory + "/known_hosts"
        configPath = directory + "/sshd_config"
        sshdLogPath = directory + "/sshd.log"
        sshfsLogPath = directory + "/sshfs.log"
        let folder = directory
        extraHostKeyPaths = extraHostKeyTypes.map { "\(folder)/ssh_host_\($0)_key" }
        port = 0

        do {
            try FileManager.default.createDirectory(atPath: exportPath, withIntermediateDirectories: true)
            try Self.makeKey(at: hostKeyPath, comment: "sshrig-host")
            for (type, path) in zip(extraHostKeyTypes, extraHostKeyPaths) {
                try Self.makeKey(at: path, comment: "sshrig-host", type: type)
            }
            try Self.makeKey(at: clientKeyPath, comment: "sshrig-client")
            try FileManager.default.copyItem(atPath: clientKeyPath + ".pub", toPath: directory + "/authorized_keys")
            // sshd refuses to start without its privilege-separation folder.
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)

            // A free port can be taken by someone else between the probe and sshd's bind;
            // try a few.
            var lastError: Error?
            for _ in 0..<5 {
                port = try Self.freePort()
                do {
                    try writeConfig()
                    try startSSHD()
                    lastError = nil
                    break
                } catch {
                    lastError = error
                }
            }
            if let lastError { throw lastError }
            try knownHostsLine(forKeyAt: hostKeyPath).write(toFile: knownHostsPath, atomically: true, encoding: .utf8)
        } catch {
            shutdown()
            throw error
        }
        testCase?.addTeardownBlock { [self] in
            shutdown()
        }
    }

    deinit {
        shutdown()
    }

    /// `sftp://USER@127.0.0.1:PORT/<export>[/sub]`.
    func sftpURL(_ subpath: String = "") -> String {
        "sftp://\(user)@\(host):\(port)\(exportPath)\(subpath.isEmpty ? "" : "/" + subpath)"
    }

    /// The known_hosts line OpenSSH writes for this server and the public key next to
    /// the private key at `path` ("[127.0.0.1]:PORT TYPE BASE64").
    func knownHostsLine(forKeyAt path: String) throws -> String {
        let fields = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
        guard fields.count >= 2 else { throw RigError(description: "unexpected public key in \(path).pub") }
        return "[\(host)]:\(port) \(fields[0]) \(fields[1])\n"
    }

    /// A new key pair in the rig's folder that the server does not know.
    func makeExtraKey(named name: String, type: String = "ed25519") throws -> String {
        let path = directory + "/" + name
        try Self.makeKey(at: path, comment: "sshrig-\(name)", type: type)
        return path
    }

    /// What sshd wrote to stderr so far (for failure messages).
    var sshdLog: String {
        (try? String(contentsOfFile: sshdLogPath, encoding: .utf8)) ?? ""
    }

    // MARK: - Server lifecycle

    /// Kills sshd and every connection it serves (sshd runs each connection in its own
    /// process in a new session, so killing the listener alone would leave established
    /// connections working). Clients see their connections cut, as when a server dies.
    func stop() {
        guard let process = sshd else { return }
        sshd = nil
        guard process.isRunning else { return }
        let all = Self.freeze(root: process.pid)
        for pid in all { kill(pid, SIGKILL) }
        process.waitForExit()
    }

    /// Starts sshd again on the same port, with the same keys.
    func restart() throws {
        stop()
        try startSSHD()
    }

    /// Stops sshd and its connections from running (SIGSTOP) without closing anything:
    /// a server that stops answering, as behind a dead network link.
    func suspend() {
        guard let process = sshd, process.isRunning else { return }
        _ = Self.freeze(root: process.pid)
    }

    func resume() {
        guard let process = sshd, process.isRunning else { return }
        for pid in [process.pid] + Self.descendants(of: [process.pid]) { kill(pid, SIGCONT) }
    }

    /// Unmounts, stops sshd, removes the temporary folder. Idempotent.
    func shutdown() {
        if isShutDown { return }
        isShutDown = true
        unmount()
        resume()
        stop()
        // Never delete through a mount that could not be removed.
        if !Self.mountedPaths().contains(where: { $0.hasPrefix(directory + "/") }) {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    private func writeConfig() throws {
        var lines = [
            "ListenAddress \(host)",
            "Port \(port)",
            "HostKey \(hostKeyPath)",
        ] + extraHostKeyPaths.map { "HostKey \($0)" } + [
            "PidFile \(directory)/sshd.pid",
            "AuthorizedKeysFile \(directory)/authorized_keys",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            // Keys live under /tmp, which is world-writable.
            "StrictModes no",
            "UsePAM no",
            "UseDNS no",
            "PrintMotd no",
            "MaxStartups 100",
            "MaxSessions 100",
            "Subsystem sftp internal-sftp",
            "LogLevel VERBOSE",
        ]
        // OpenSSH 9.8 and later throttle an address after failed logins; the tests fail
        // logins on purpose. Older versions do not know the option and would not start.
        if Self.openSSHVersion() >= [9, 8] { lines.append("PerSourcePenalties no") }
        try (lines.joined(separator: "\n") + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    private func startSSHD() throws {
        // sshd re-executes itself, so it needs its absolute path.
        let process = try ChildProcess([Self.sshdPath, "-D", "-e", "-f", configPath], outputPath: sshdLogPath)
        sshd = process

        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else {
                sshd = nil
                throw RigError(description: "sshd exited at start (status \(process.exitStatus ?? -1)):\n\(sshdLog)")
            }
            if Self.portAccepts(host: host, port: port) { return }
            usleep(20_000)
        }
        stop()
        throw RigError(description: "sshd did not accept connections on \(host):\(port) within 10 s:\n\(sshdLog)")
    }

    // MARK: - sshfs

    /// Mounts the export folder (or `remotePath`) at `mountPoint` with sshfs, strict
    /// host-key checking and no directory cache, and waits until the mount is there.
    /// `reconnect` and `ServerAliveInterval=2` let the mount survive a server restart.
    func mountSSHFS(at mountPoint: String, remotePath: String? = nil, extraOptions: [String] = []) throws {
        guard Self.fuseAvailable else { throw RigError(description: "/dev/fuse is missing: no FUSE on this machine") }
        guard FileManager.default.isExecutableFile(atPath: Self.sshfsPath) else {
            throw RigError(description: "\(Self.sshfsPath) is missing: install Debian's sshfs (scripts/bootstrap)")
        }
        guard self.mountPoint == nil else { throw RigError(description: "already mounted at \(self.mountPoint!)") }
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let target = URL(fileURLWithPath: mountPoint).resolvingSymlinksInPath().path
        // sshfs splits -o at commas: the rig's own paths have none.
        let options = [
            "IdentityFile=\(clientKeyPath)",
            "UserKnownHostsFile=\(knownHostsPath)",
            "StrictHostKeyChecking=yes",
            "BatchMode=yes",
            "dir_cache=no",
            "port=\(port)",
            "reconnect",
            "ServerAliveInterval=2",
            "ServerAliveCountMax=3",
        ] + extraOptions

        // -f: stay a child of ours, so that we know its process id and can end it.
        // -F /dev/null: no user or system ssh_config changes what the test sees.
        let process = try ChildProcess([Self.sshfsPath, "-f", "-F", "/dev/null", "-o", options.joined(separator: ","),
                                        "\(user)@\(host):\(remotePath ?? exportPath)", target], outputPath: sshfsLogPath)
        sshfs = process
        self.mountPoint = target

        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.mountedPaths().contains(target) { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        let output = (try? String(contentsOfFile: sshfsLogPath, encoding: .utf8)) ?? ""
        unmount()
        throw RigError(description: "sshfs did not mount \(target) within 10 s:\n\(output)")
    }

    /// Unmounts (fusermount -u, else a lazy umount) and ends sshfs and its ssh.
    func unmount() {
        guard let mountPoint else { return }
        self.mountPoint = nil
        let helpers = sshfs.map { Self.descendants(of: [$0.pid]) } ?? []
        if Self.mountedPaths().contains(mountPoint) {
            let fusermount = ["/usr/bin/fusermount3", "/bin/fusermount3", "/usr/bin/fusermount", "/bin/fusermount"]
                .first { FileManager.default.isExecutableFile(atPath: $0) }
            var done = false
            if let fusermount, let result = try? Self.run([fusermount, "-u", mountPoint], timeout: 10) {
                done = result.status == 0
            }
            if !done { _ = try? Self.run(["/bin/umount", "-l", mountPoint], timeout: 10) }
        }
        if let process = sshfs {
            sshfs = nil
            if !process.waitForExit(timeout: 5) {
                process.kill(SIGKILL)
                process.waitForExit()
            }
        }
        for pid in helpers where Self.isAlive(pid) { kill(pid, SIGKILL) }
    }

    // MARK: - Helpers

    /// Runs a program with a time limit (killed after it), returning its exit status and
    /// its output (stdout and stderr together). For anything that may hang, such as
    /// reading through a mount whose server is gone.
    @discardableResult
    static func run(_ arguments: [String], timeout: Double = 30) throws -> (status: Int32, output: String) {
        let outputPath = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sshrig-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = try ChildProcess(arguments, outputPath: outputPath)
        if !process.waitForExit(timeout: timeout) {
            process.kill(SIGKILL)
            process.waitForExit()
            throw RigError(description: "\(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (process.exitStatus ?? -1, text)
    }

    private static func makeKey(at path: String, comment: String, type: String = "ed25519") throws {
        let result = try run([sshKeygenPath, "-q", "-t", type, "-N", "", "-C", comment, "-f", path])
        guard result.status == 0 else { throw RigError(description: "ssh-keygen failed: \(result.output)") }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RigError(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw RigError(description: "cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func portAccepts(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// SIGSTOPs `root` and all its descendants, looking again until no new process
    /// appears (a stopped process cannot fork), and returns them all.
    private static func freeze(root: pid_t) -> [pid_t] {
        kill(root, SIGSTOP)
        var all: Set<pid_t> = [root]
        while true {
            let more = Set(descendants(of: all)).subtracting(all)
            if more.isEmpty { break }
            for pid in more { kill(pid, SIGSTOP) }
            all.formUnion(more)
        }
        return Array(all)
    }

    /// Children, grandchildren, … of the given processes, from /proc.
    private static func descendants(of roots: Set<pid_t>) -> [pid_t] {
        var parents: [pid_t: pid_t] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name),
                  let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // "PID (COMMAND) STATE PPID …"; the command may hold spaces and parentheses.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[pid] = parent }
        }
        var found: [pid_t] = []
        var frontier = roots
        while !frontier.isEmpty {
            let children = parents.filter { frontier.contains($0.value) }.map(\.key).filter { !roots.contains($0) && !found.contains($0) }
            found += children
            frontier = Set(children)
        }
        return found
    }

    private static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0
    }

    /// Mount points of FUSE file systems, from /proc/self/mountinfo.
    static func mountedPaths() -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.components(separatedBy: " - ")
            guard parts.count == 2, parts[1].hasPrefix("fuse") else { return nil }
            let fields = parts[0].split(separator: " ")
            guard fields.count > 4 else { return nil }
            // Spaces and the like are written as octal escapes (\040).
            return String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
        }
    }

    /// [major, minor] of the installed OpenSSH server, [0, 0] when unknown.
    private static func openSSHVersion() -> [Int] {
        guard let result = try? run([sshdPath, "-V"], timeout: 10),
              let range = result.output.range(of: #"OpenSSH_(\d+)\.(\d+)"#, options: .regularExpression) else { return [0, 0] }
        let numbers = result.output[range].dropFirst("OpenSSH_".count).split(separator: ".").compactMap { Int($0) }
        return numbers.count == 2 ? numbers : [0, 0]
    }
}

/// A child process started with posix_spawn, stdin from /dev/null, stdout and stderr
/// appended to a file.
///
/// Foundation's Process is not used: on Linux it learns that a child ended when a
/// descriptor the child inherited gets closed, then waits for it without a time limit.
/// Daemons such as sshd close every inherited descriptor at start, so Foundation would
/// wait for sshd forever, and no other Process in the test run would ever finish.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    /// Exit code, or 128 + signal number; nil while running.
    private(set) var exitStatus: Int32?

    init(_ arguments: [String], outputPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // Default signal handling and an empty mask, whatever the test runner set up
        // (an ignored SIGPIPE, for one, would be inherited).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, arguments[0], &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw SSHServerRig.RigError(description: "cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    deinit {
        if exitStatus == nil {
            kill(SIGKILL)
            waitForExit()
        }
    }

    var isRunning: Bool {
        reap(blocking: false)
        return exitStatus == nil
    }

    /// True when the process ended within `timeout` seconds (forever when nil).
    @discardableResult
    func waitForExit(timeout: Double? = nil) -> Bool {
        guard let timeout else {
            reap(blocking: true)
            return true
        }
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() >= deadline { return false }
            usleep(2_000)
        }
        return true
    }

    func kill(_ signal: Int32) {
        if exitStatus == nil { _ = Glibc.kill(pid, signal) }
    }

    private func reap(blocking: Bool) {
        guard exitStatus == nil else { return }
        var status: Int32 = 0
        var result: pid_t
        repeat {
            result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        } while result < 0 && errno == EINTR
        if result == pid {
            exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        } else if result < 0 {
            exitStatus = -1  // not our child any more (reaped elsewhere)
        }
    }
}

private extension Array where Element == Int {
    static func >= (lhs: [Int], rhs: [Int]) -> Bool {
        !lhs.lexicographicallyPrecedes(rhs)
    }
}
