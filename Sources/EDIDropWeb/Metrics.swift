import EDIDrop
import Foundation

/// `/metrics` in the Prometheus text exposition format (version 0.0.4).
///
/// Written by hand rather than with swift-metrics/swift-prometheus on purpose: the files
/// and orders are handled by `edidrop run`, another process, so counters kept in this
/// server's memory would see nothing. The ledger is the one source of truth across
/// processes, and every value here is read from it at scrape time (gauges of the
/// ledger's counts). A metrics registry would only add a copy of those numbers that
/// must be refreshed before every scrape.
public struct MetricsExposition {
    /// How many of the newest files the processing-time histograms are built from.
    public static let histogramWindow = 1000
    /// Upper bounds of the processing-time buckets, in seconds.
    public static let buckets: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let status: StatusSnapshot
    let recentFiles: [FileSummary]
    let lastStockReport: FileSummary?

    init(status: StatusSnapshot, recentFiles: [FileSummary], lastStockReport: FileSummary?) {
        self.status = status
        self.recentFiles = recentFiles
        self.lastStockReport = lastStockReport
    }

    public func render() -> String {
        var w = Writer()
        w.family("edidrop_files", "gauge", "Files in the ledger by state.")
        for s in FileState.allCases { w.sample("edidrop_files", ["state": s.rawValue], status.filesByState[s.rawValue] ?? 0) }
        w.family("edidrop_files_in_flight", "gauge", "Files committed but not yet archived.")
        w.sample("edidrop_files_in_flight", [:], status.inFlight)
        w.family("edidrop_orders", "gauge", "Orders by status (received, sent to the warehouse, shipped).")
        for s in OrderStatus.allCases { w.sample("edidrop_orders", ["status": s.rawValue], status.ordersByStatus[s.rawValue] ?? 0) }
        w.family("edidrop_deliveries", "gauge", "Outgoing messages not yet delivered: pending (waiting or retrying) and held after a restore.")
        w.sample("edidrop_deliveries", ["state": "pending"], status.pendingDeliveries)
        w.sample("edidrop_deliveries", ["state": "held"], status.heldDeliveries)
        w.family("edidrop_deliveries_failing", "gauge", "Pending deliveries whose last attempt failed.")
        w.sample("edidrop_deliveries_failing", [:], status.failingDeliveries.count)
        w.family("edidrop_overdue", "gauge", "What the warehouse owes against [expectations]: 1 when that kind is overdue.")
        for kind in [Overdue.Kind.stockReport, .shipmentConfirmation] {
            w.sample("edidrop_overdue", ["kind": kind.rawValue], status.overdue.contains { $0.kind == kind } ? 1 : 0)
        }
        w.family("edidrop_overdue_total", "gauge", "Number of overdue expectations.")
        w.sample("edidrop_overdue_total", [:], status.overdue.count)
        w.family("edidrop_stuck", "gauge", "Work that should have finished (files left in flight, failing deliveries).")
        w.sample("edidrop_stuck", [:], status.stuck.count)
        w.family("edidrop_problems", "gauge", "Problems found (a folder missing or not writable, failing deliveries, held messages).")
        w.sample("edidrop_problems", [:], status.problems.count)
        w.family("edidrop_needs_attention", "gauge", "1 when `edidrop status --check` would exit 1.")
        w.sample("edidrop_needs_attention", [:], status.needsAttention ? 1 : 0)
        w.family("edidrop_run_active", "gauge", "1 while an `edidrop run` holds the spool.")
        w.sample("edidrop_run_active", [:], status.runActive ? 1 : 0)
        w.family("edidrop_work_leftovers", "gauge", "Files in work/ (in flight).")
        w.sample("edidrop_work_leftovers", [:], status.workLeftovers)
        if let at = status.lastActivity.flatMap(Timestamp.parse) {
            w.family("edidrop_last_activity_timestamp_seconds", "gauge", "Unix time of the ledger's last file event.")
            w.sample("edidrop_last_activity_timestamp_seconds", [:], at.timeIntervalSince1970)
        }
        // Absent (not 0) until a stock report has been accepted, as Prometheus advises for
        // unknown values; alert on `absent(...)` or on `time() - ... > N`.
        if let at = lastStockReport.flatMap({ Timestamp.parse($0.record.processedAt) }) {
            w.family("edidrop_last_stock_report_timestamp_seconds", "gauge", "Unix time the last stock report was accepted.")
            w.sample("edidrop_last_stock_report_timestamp_seconds", [:], at.timeIntervalSince1970)
        }
        // The ledger keeps when each file was claimed (received_at) and committed
        // (processed_at); nothing finer. So the histogram is that span for the newest
        // `histogramWindow` files, rebuilt at each scrape: a sliding window, not a
        // counter that only grows. Use histogram_quantile() on the buckets directly,
        // without rate().
        w.family("edidrop_file_processing_seconds", "histogram",
                 "Seconds from claiming a file to committing it, over the newest \(Self.histogramWindow) files, by input channel.")
        for channel in Channel.allCases {
            let spans = recentFiles.filter { $0.record.channel == channel }.compactMap { s -> Double? in
                guard let a = Timestamp.parse(s.record.receivedAt), let b = Timestamp.parse(s.record.processedAt) else { return nil }
                return max(0, b.timeIntervalSince(a))
            }
            for bound in Self.buckets {
                w.sample("edidrop_file_processing_seconds_bucket", ["channel": channel.rawValue, "le": Writer.number(bound)],
                         spans.filter { $0 <= bound }.count)
            }
            w.sample("edidrop_file_processing_seconds_bucket", ["channel": channel.rawValue, "le": "+Inf"], spans.count)
            w.sample("edidrop_file_processing_seconds_sum", ["channel": channel.rawValue], spans.reduce(0, +))
            w.sample("edidrop_file_processing_seconds_count", ["channel": channel.rawValue], spans.count)
        }
        return w.text
    }

    struct Writer {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
            text += "# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Int) {
            sample(name, labels, Double(value))
        }

        mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.key)=\"\(Self.labelValue($0.value))\"" }.joined(separator: ",") + "}"
            }
            text += " " + Self.number(value) + "\n"
        }

        static func labelValue(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }

        static func number(_ v: Double) -> String {
            if v.isNaN { return "NaN" }
            if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
            if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
            return String(v)
        }
    }
}
