import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file in bounded chunks through one open descriptor (opened without following
/// links), so that a reader never holds more than a chunk of it in memory.
public final class FileSource: ByteSource {
    private let fd: Int32
    public let path: String
    private let meter: ReadMeter?

    public init(path: String, meter: ReadMeter? = nil) throws {
        self.path = path
        self.meter = meter
        fd = try FileSystem.openForReading(path)
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
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
