import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file in bounded chunks through one open descriptor (opened without following
/// links), so that a reader never holds more than a chunk of it in memory.
///
/// A file small enough to have been read whole already (`FileIdentity.head` holds all of
/// it) is served from those bytes instead: the same bytes that were hashed, and no
/// second and third open, read and close per file, which for one-order files were a
/// fifth of all system calls.
public final class FileSource: ByteSource {
    private let fd: Int32
    private let contents: [UInt8]?
    private var offset = 0
    public let path: String
    private let meter: ReadMeter?

    public init(path: String, meter: ReadMeter? = nil) throws {
        self.path = path
        self.meter = meter
        contents = nil
        fd = try FileSystem.openForReading(path)
    }

    /// The whole file, already in memory.
    public init(path: String, contents: [UInt8], meter: ReadMeter? = nil) {
        self.path = path
        self.meter = meter
        self.contents = contents
        fd = -1
    }

    /// From memory when `identity` holds the whole file, else from the file.
    public convenience init(path: String, identity: FileIdentity, meter: ReadMeter? = nil) throws {
        if identity.holdsWholeFile {
            self.init(path: path, contents: identity.head, meter: meter)
        } else {
            try self.init(path: path, meter: meter)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Known for a file held in memory; a file read from its descriptor may still grow.
    public var bytesLeft: Int? { contents.map { $0.count - offset } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let contents {
            let n = min(buffer.count, contents.count - offset)
            guard n > 0 else { return 0 }
            contents.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            meter?.add(n)
            return n
        }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if n >= 0 {
                meter?.add(n)
                return n
            }
            if errno == EINTR || errno == EAGAIN { continue }
            throw SystemError("read", path, errno: errno)
        }
    }
}

/// Bytes read so far by the readers of one file, for progress on a terminal. Written by
/// the reading thread, read by the progress display: a lock keeps the two apart.
public final class ReadMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: Int64 = 0

    public init() {}

    func add(_ n: Int) { lock.withLock { bytes += Int64(n) } }

    public var bytesRead: Int64 { lock.withLock { bytes } }
}
