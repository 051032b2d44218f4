import Foundation
import Logging

/// The default log lines on stderr, in swift-log's `StreamLogHandler` layout:
/// `2026-11-28T03:28:12+0000 info edidrop: file.id=5 file.name=a.csv [EDIDrop] accepted`.
///
/// Written here rather than taken from swift-log because of its cost per line: `run` logs
/// twice per file, and `StreamLogHandler` took 27 000 instructions a line (callgrind,
/// issue 8), 8% of the thread that commits files. It formats the time with `localtime` and
/// `strftime` every time, merges the metadata into a fresh dictionary, and builds the line
/// from a dozen intermediate strings. This one formats the time once a second, sorts only
/// the keys, appends into one byte buffer and writes it with a single `write(2)`.
struct TextLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
    private let clock = SecondStamp()

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // Bytes rather than a String: appending to a String cost about 340 instructions a
        // piece, a line has two dozen pieces.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        func put(_ s: String) { bytes.append(contentsOf: s.utf8) }
        put(clock.now())
        bytes.append(UInt8(ascii: " "))
        put(event.level.rawValue)
        if !label.isEmpty {
            bytes.append(UInt8(ascii: " "))
            put(label)
        }
        bytes.append(UInt8(ascii: ":"))
        let all = metadata.isEmpty ? (event.metadata ?? [:]) : metadata.merging(event.metadata ?? [:]) { $1 }
        for key in all.keys.sorted() {
            bytes.append(UInt8(ascii: " "))
            put(key)
            bytes.append(UInt8(ascii: "="))
            put(all[key]!.description)
        }
        bytes.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: "[")])
        put(event.source)
        bytes.append(contentsOf: [UInt8(ascii: "]"), UInt8(ascii: " ")])
        put(event.message.description)
        bytes.append(UInt8(ascii: "\n"))
        Self.writeAll(bytes)
    }

    /// One `write` per line, so that lines from two threads never interleave; retried
    /// after a partial write or an interrupted call. A failing stderr is ignored, as
    /// swift-log's own handler ignores it.
    private static func writeAll(_ line: [UInt8]) {
        line.withUnsafeBufferPointer { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}

/// The local time as `2026-11-28T03:28:12+0000`, formatted again only when the second
/// changes. Shared by the copies of a handler, which log from several threads.
private final class SecondStamp: @unchecked Sendable {
    private let lock = NSLock()
    private var second: time_t = -1
    private var text = ""

    func now() -> String {
        var t = time(nil)
        lock.lock()
        defer { lock.unlock() }
        if t != second {
            var parts = tm()
            localtime_r(&t, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
            text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            second = t
        }
        return text
    }
}
