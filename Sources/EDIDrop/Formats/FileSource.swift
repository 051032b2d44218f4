import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file in bounded chunks through one open descriptor (opened without following
/// links), so that a reader never holds more than a chunk of it in memory.
public final class FileSource: ByteSource {
    private let fd: Int32
    public let path: String

    public init(path: String) throws {
        self.path = path
        fd = try FileSystem.openForReading(path)
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR || errno == EAGAIN { continue }
            throw SystemError("read", path, errno: errno)
        }
    }
}
