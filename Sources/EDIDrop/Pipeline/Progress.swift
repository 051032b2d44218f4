import Foundation

/// How far the file in hand has got, for a person watching a terminal.
public struct ProgressUpdate: Sendable {
    public var fileName: String
    public var bytesRead: Int64
    public var totalBytes: Int64
    public var records: Int
    public var errors: Int
    public var elapsed: Double
    /// The last update for this file.
    public var finished: Bool

    public var megabytesPerSecond: Double {
        elapsed > 0 ? Double(bytesRead) / 1_048_576 / elapsed : 0
    }
}

/// Throttles progress to a few updates a second; the command line decides whether and
/// where to show them (a terminal, never a pipe).
public final class ProgressSink: @unchecked Sendable {
    let show: (ProgressUpdate) -> Void
    let interval: Double
    private var last = 0.0
    private var started = 0.0
    private var fileName = ""
    private var total: Int64 = 0
    var meter = ReadMeter()

    public init(interval: Double = 0.25, show: @escaping (ProgressUpdate) -> Void) {
        self.interval = interval
        self.show = show
    }

    private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    func begin(fileName: String, totalBytes: Int64) -> ReadMeter {
        self.fileName = fileName
        total = totalBytes
        started = now()
        last = started
        meter = ReadMeter()
        return meter
    }

    func tick(records: Int, errors: Int, finished: Bool = false) {
        let t = now()
        guard finished || t - last >= interval else { return }
        last = t
        show(ProgressUpdate(fileName: fileName, bytesRead: min(meter.bytesRead, total), totalBytes: total,
                            records: records, errors: errors, elapsed: t - started, finished: finished))
    }
}
