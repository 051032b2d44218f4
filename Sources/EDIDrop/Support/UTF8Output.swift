import Foundation

/// Text built as UTF-8 bytes, for the renderers that run once per order: the warehouse
/// order file and the order's JSON in the ledger.
///
/// They append many short pieces. Appending to a `String` checks its capacity and updates
/// its ASCII flag for every piece, and the result was then copied once more into `Data`
/// for the outbox; on a 100 000-line file the two renderers were a third of the reading
/// thread's time, and that thread decides when the file's commit can start (issue 8).
/// Appending bytes is a copy.
struct UTF8Output {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func append(_ s: String) {
        // Native and literal strings are contiguous UTF-8; a bridged one is walked.
        if s.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil {
            bytes.append(contentsOf: s.utf8)
        }
    }

    mutating func append(_ scalar: Unicode.Scalar) {
        UTF8.encode(scalar) { bytes.append($0) }
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    var data: Data { Data(bytes) }
}
