import Foundation
import CEDIDropSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, on which path, and the errno it gave.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public var call: String
    public var path: String
    public var errno: Int32

    public init(_ call: String, _ path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(call) \(path): \(String(cString: strerror(errno)))"
    }

    public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
    public var isMissing: Bool { errno == ENOENT || errno == ENOTDIR }
}

/// What lstat(2) says about a path; links are described, never followed.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case regular, directory, symlink, other }
    public var kind: Kind
    public var size: Int64
    /// Modification time in nanoseconds since 1970.
    public var modified: Int64
    public var inode: UInt64
    public var device: UInt64
}

/// Thin wrappers over the POSIX calls the protocol relies on. Every wrapper retries
/// on EINTR and names the C call it wraps in its error, so a log line says exactly
/// which step failed.
public enum FileSystem {
    @discardableResult
    static func retry(_ call: String, _ path: String, _ body: () -> Int32) throws -> Int32 {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw SystemError(call, path, errno: e)
        }
    }

    /// lstat(2); nil when nothing is at `path`.
    public static func status(_ path: String) throws -> FileStatus? {
        var st = stat()
        while lstat(path, &st) != 0 {
            let e = errno
            if e == EINTR { continue }
            if e == ENOENT || e == ENOTDIR { return nil }
            throw SystemError("lstat", path, errno: e)
        }
        let kind: FileStatus.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        return FileStatus(kind: kind, size: Int64(st.st_size), modified: mtime,
                          inode: UInt64(st.st_ino), device: UInt64(st.st_dev))
    }

    public static func exists(_ path: String) -> Bool {
        (try? status(path)).flatMap { $0 } != nil
    }

    /// The names in a folder, without "." and "..", unsorted. A name whose bytes are not
    /// UTF-8 (a Windows-1250 "zamówienie.csv" copied by an old tool) is given a UTF-8 name
    /// in place first, its bad bytes written as %XX, so that it is never silently skipped.
    public static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw SystemError("opendir", path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let raw: [UInt8] = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) { p in
                    Array(UnsafeBufferPointer(start: p, count: strlen(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))))
                }
            }
            if raw == [0x2E] || raw == [0x2E, 0x2E] { continue }
            if let name = String(validating: raw, as: UTF8.self) {
                names.append(name)
            } else if let renamed = try? giveUTF8Name(folder: path, raw: raw) {
                names.append(renamed)
            }
        }
        return names
    }

    /// Renames an entry whose name is not UTF-8 to one that is: valid runs kept, every other
    /// byte written as %XX.
    static func giveUTF8Name(folder: String, raw: [UInt8]) throws -> String {
        var name = ""
        var i = 0
        while i < raw.count {
            var j = raw.count
            while j > i, String(validating: raw[i..<j], as: UTF8.self) == nil { j -= 1 }
            if j > i {
                name += String(decoding: raw[i..<j], as: UTF8.self)
                i = j
            } else {
                name += String(format: "%%%02X", raw[i])
                i += 1
            }
        }
        let from = Array(folder.utf8) + [0x2F] + raw + [0]
        var target = name
        var k = 1
        while exists(join(folder, target)) {
            k += 1
            target = "\(name)~\(k)"
        }
        let to = Array(join(folder, target).utf8) + [0]
        let r = from.withUnsafeBufferPointer { f in
            to.withUnsafeBufferPointer { t in
                edidrop_rename_noreplace(UnsafeRawPointer(f.baseAddress!).assumingMemoryBound(to: CChar.self),
                                         UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: CChar.self))
            }
        }
        if r != 0 { throw SystemError("rename", join(folder, target), errno: errno) }
        return target
    }

    /// mkdir -p, then fsync of each parent whose entry list changed, so a new folder
    /// survives a power loss before anything is written into it.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if let st = try status(path) {
            if st.kind == .directory { return }
            throw SystemError("mkdir", path, errno: EEXIST)
        }
        let parent = parentPath(of: path)
        if parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 {
            let e = errno
            if e != EEXIST { throw SystemError("mkdir", path, errno: e) }
        }
        try? syncDirectory(parent)
    }

    /// Opens for reading without following a final symlink and without blocking on a FIFO.
    public static func openForReading(_ path: String) throws -> Int32 {
        try retry("open", path) { open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
    }

    /// Writes `bytes` to a new file at `path` (replacing a leftover one) and fsyncs it.
    public static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        try writeNew(bytes, to: path, sync: true)
    }

    /// Writes `bytes` to a new file at `path` (replacing a leftover one) without fsync: for
    /// files made durable together by a `DurableBatch`.
    public static func writeUnsynced(_ bytes: [UInt8], to path: String) throws {
        try writeNew(bytes, to: path, sync: false)
    }

    private static func writeNew(_ bytes: [UInt8], to path: String, sync: Bool) throws {
        let fd = try retry("open", path) {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        }
        var closed = false
        defer { if !closed { close(fd) } }
        try writeAll(fd, bytes, path: path)
        if sync { try retry("fsync", path) { fsync(fd) } }
        closed = true
        try retry("close", path) { close(fd) }
    }

    /// syncfs(2) of the file system holding `path`: every file written there is on disk.
    public static func syncFileSystem(of path: String) throws {
        let fd = try retry("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try retry("syncfs", path) { edidrop_syncfs(fd) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("write", path, errno: errno)
                }
                offset += n
            }
        }
    }

    /// fsync(2) of a folder, so that renames and new entries in it are durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = try retry("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try retry("fsync", path) { fsync(fd) }
    }

    /// Renames without ever replacing an existing `to`: renameat2(RENAME_NOREPLACE) where the
    /// file system supports it, else link(2) + unlink(2) (also atomic against replacing),
    /// else, on file systems with neither (some network mounts), a check then rename(2).
    /// Throws SystemError with EEXIST when `to` exists.
    public static func renameNoReplace(from: String, to: String) throws {
        if edidrop_rename_noreplace(from, to) == 0 { return }
        var e = errno
        if e != EINVAL && e != ENOSYS && e != ENOTSUP {
            throw SystemError("renameat2", "\(from) -> \(to)", errno: e)
        }
        if link(from, to) == 0 {
            _ = unlink(from)
            return
        }
        e = errno
        if e == EEXIST { throw SystemError("link", "\(from) -> \(to)", errno: e) }
        if try status(to) != nil { throw SystemError("rename", "\(from) -> \(to)", errno: EEXIST) }
        try retry("rename", "\(from) -> \(to)") { rename(from, to) }
    }

    /// Removes a file; a file that is already gone is not an error.
    public static func removeFile(_ path: String) throws {
        if unlink(path) != 0 {
            let e = errno
            if e == ENOENT { return }
            throw SystemError("unlink", path, errno: e)
        }
    }

    /// Copies a file into a new one, fsynced; used when a claim crosses file systems.
    public static func copyDurably(from: String, to: String) throws {
        let input = try openForReading(from)
        defer { close(input) }
        let output = try retry("open", to) {
            open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw SystemError("read", from, errno: errno)
            }
            if n == 0 { break }
            try writeAll(output, Array(buffer[0..<n]), path: to)
        }
        try retry("fsync", to) { fsync(output) }
    }

    public static func parentPath(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    public static func join(_ base: String, _ name: String) -> String {
        base.hasSuffix("/") ? base + name : base + "/" + name
    }

    /// A mount point: its device differs from its parent's (or it is "/").
    public static func isMountPoint(_ path: String) -> Bool {
        guard let here = try? status(path), here.kind == .directory,
              let parent = try? status(parentPath(of: path)) else { return false }
        return here.device != parent.device || here.inode == parent.inode
    }

    /// Network file systems where inotify sees nothing the server writes and attribute
    /// caches lie about size and time: status warns about them.
    public static func networkFileSystemName(_ path: String) -> String? {
        let type = edidrop_fs_type(path)
        switch type {
        case 0x6573_5546: return "FUSE (sshfs?)"   // FUSE_SUPER_MAGIC
        case 0x6969: return "NFS"
        case 0xFF53_4D42, 0xFE53_4D42: return "SMB/CIFS"
        case 0x517B: return "SMB"
        default: return nil
        }
    }
}

/// An exclusive, advisory lock on a file, held for the life of the process (flock(2)).
/// The kernel drops it when the process dies, so a crashed run never leaves a stale lock.
public final class SpoolLock {
    private let fd: Int32

    public enum Failure: Error, CustomStringConvertible {
        case held(path: String, holder: String?)
        case system(SystemError)

        public var description: String {
            switch self {
            case .held(let path, let holder):
                let who = holder.map { " (pid \($0))" } ?? ""
                return "another edidrop run is already working on this spool\(who); lock file \(path)"
            case .system(let error):
                return error.description
            }
        }
    }

    public init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure.system(SystemError("open", path, errno: errno)) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 32, 0) }
            close(fd)
            if e == EWOULDBLOCK {
                let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines) : nil
                throw Failure.held(path: path, holder: holder)
            }
            throw Failure.system(SystemError("flock", path, errno: e))
        }
        self.fd = fd
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
    }

    deinit { close(fd) }

    /// Whether a run holds the lock now (tested with a shared lock, which a running
    /// `run`'s exclusive lock refuses; nothing is written).
    public static func isHeld(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}

/// Files written into one folder and made durable together: one syncfs(2) for the whole
/// batch instead of one fsync per file (an fsync of a small file costs about as much as
/// the whole syncfs here). On network and FUSE mounts, where syncfs may not reach the
/// server, each file is fsynced as it is written instead.
public struct DurableBatch {
    public let folder: String
    let perFile: Bool

    public init(folder: String) {
        self.folder = folder
        perFile = FileSystem.networkFileSystemName(folder) != nil
    }

    public func write(_ bytes: [UInt8], to path: String) throws {
        if perFile {
            try FileSystem.writeDurably(bytes, to: path)
        } else {
            try FileSystem.writeUnsynced(bytes, to: path)
        }
    }

    /// After this returns, every file written through the batch is durable.
    public func makeDurable() throws {
        if !perFile { try FileSystem.syncFileSystem(of: folder) }
    }
}
