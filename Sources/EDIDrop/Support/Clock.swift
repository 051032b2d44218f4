import Foundation

/// Where "now" comes from: the system in production, a fixed or advancing time in tests.
public protocol Clock: Sendable {
    func now() -> Date
}

public struct SystemClock: Clock {
    public init() {}
    public func now() -> Date { Date() }
}

/// Timestamps as the ledger and reports write them.
public enum Timestamp {
    /// ISO 8601 UTC with milliseconds: sortable as text.
    public static func iso(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        // Floor division, so that instants before 1970 keep a positive millisecond part.
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = ms - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        var out = [UInt8]()
        out.reserveCapacity(24)
        digits(y, 4, &out); out.append(0x2D); digits(m, 2, &out); out.append(0x2D); digits(d, 2, &out)
        out.append(0x54); digits(Int(secondOfDay / 3600), 2, &out); out.append(0x3A)
        digits(Int((secondOfDay % 3600) / 60), 2, &out); out.append(0x3A); digits(Int(secondOfDay % 60), 2, &out)
        out.append(0x2E); digits(Int(millis), 3, &out); out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    /// ISO 8601 UTC to the second: 2026-11-27T10:30:00Z.
    public static func isoSeconds(_ date: Date) -> String {
        let full = iso(date)
        return String(full.prefix(19)) + "Z"
    }

    /// The local calendar date, YYYY-MM-DD, as archive folders are named.
    public static func localDay(_ date: Date, timeZone: TimeZone = .current) -> String {
        let local = Int64(date.timeIntervalSince1970) + Int64(timeZone.secondsFromGMT(for: date))
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let (y, m, d) = civil(fromDays: days)
        var out = [UInt8]()
        out.reserveCapacity(10)
        digits(y, 4, &out); out.append(0x2D); digits(m, 2, &out); out.append(0x2D); digits(d, 2, &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact UTC form for file names: 20261127T103000Z.
    public static func compact(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let s = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", y, m, d, s / 3600, (s % 3600) / 60, s % 60)
    }

    /// Appends `value` in decimal, zero-padded to `width` (String(format:) is slow on the
    /// hot path: several timestamps per file).
    /// The digits are written in place, most significant first: a scratch array for them
    /// was a heap allocation per call.
    static func digits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var v = value
        if v < 0 { out.append(0x2D); v = -v }
        var count = 1
        var scale = 1
        while v / scale >= 10 { scale *= 10; count += 1 }
        if count < width { out.append(contentsOf: repeatElement(0x30, count: width - count)) }
        while scale > 0 {
            out.append(UInt8(0x30 + (v / scale) % 10))
            scale /= 10
        }
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}
