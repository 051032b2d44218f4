#if canImport(Glibc)
import Glibc
#endif

/// Bytes appended at the end and read back by range: an attribute value or a piece of text
/// per call on the parsing thread. `[UInt8].append(contentsOf:)` takes the generic
/// sequence path, about 75 instructions a call before the copy itself, which made it the
/// largest part of that thread's own work; here an append is a capacity check and a memcpy.
struct ByteRun {
    /// Initialised up to its whole length (bytes past `count` are zeros or stale, never read).
    private var storage: [UInt8] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func reserve(_ capacity: Int) {
        if capacity > storage.count { grow(to: capacity) }
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let end = count + bytes.count
        if end > storage.count { grow(to: max(end, storage.count * 2, 256)) }
        let start = count
        storage.withUnsafeMutableBufferPointer { _ = memcpy($0.baseAddress! + start, source, bytes.count) }
        count = end
    }

    mutating func append(_ byte: UInt8) {
        withUnsafePointer(to: byte) { append(UnsafeBufferPointer(start: $0, count: 1)) }
    }

    mutating func append(_ other: ByteRun) {
        other.withBytes(0..<other.count) { append($0) }
    }

    /// Keeps the capacity.
    mutating func removeAll() {
        count = 0
    }

    func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range outside the written bytes")
        return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    private mutating func grow(to capacity: Int) {
        let old = storage
        let kept = count
        // The kept bytes copied once, the rest zeroed rather than copied: growth is rare
        // (each batch starts at its predecessor's size), so this costs next to nothing.
        storage = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            old.withUnsafeBufferPointer { if kept > 0 { _ = memcpy(buffer.baseAddress!, $0.baseAddress!, kept) } }
            (buffer.baseAddress! + kept).initialize(repeating: 0, count: capacity - kept)
            initialized = capacity
        }
    }
}
