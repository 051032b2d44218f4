/// Where a format reader gets its bytes from. Readers pull bounded chunks, so memory
/// does not grow with the size of a file.
public protocol ByteSource {
    /// Fills `buffer` from the start with up to `buffer.count` bytes and returns how many
    /// were written; 0 means the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// How many bytes are left, when that is known for sure (a file held in memory): a
    /// reader then sizes its buffer to the input instead of to its largest chunk.
    var bytesLeft: Int? { get }
}

extension ByteSource {
    public var bytesLeft: Int? { nil }
}

/// An in-memory source, for tests and for small documents.
public struct BytesSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }

    public var bytesLeft: Int? { bytes.count - offset }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}
