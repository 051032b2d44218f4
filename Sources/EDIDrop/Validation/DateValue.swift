/// Date layouts a source may use. The time part, when present, is the same for all:
/// HH:MM[:SS[.fraction]] with an optional Z or ±HH:MM offset.
///
/// DD/MM/YYYY and MM/DD/YYYY are off by default and should never both be configured:
/// 03/04/2026 is a valid date either way, so no check can catch the wrong choice.
public enum DateFormat: String, Sendable, Codable, CaseIterable {
    case iso = "YYYY-MM-DD"
    case dotted = "DD.MM.YYYY"
    case slashedDMY = "DD/MM/YYYY"
    case slashedMDY = "MM/DD/YYYY"

    public static let defaults: [DateFormat] = [.iso, .dotted]
}

/// A calendar date, or a date and time, normalised to ISO 8601 (`iso`). Kept as text
/// rather than `Date` because the design sends values as received: a time without an
/// offset stays without one, and an offset stays the one the shop wrote.
public struct DateValue: Sendable, Equatable, Codable {
    /// "2026-11-27", "2026-11-27T10:15:00", "2026-11-27T10:15:00.250+01:00" or "…Z".
    public var iso: String
    public var hasTime: Bool

    public init(iso: String, hasTime: Bool) {
        self.iso = iso
        self.hasTime = hasTime
    }

    static let minYear = 1900
    static let maxYear = 2200

    public static func parse(_ text: String, formats: [DateFormat] = DateFormat.defaults) -> Result<DateValue, ValueProblem> {
        let scalars = ValueText.trimmedScalars(text)
        if scalars.isEmpty { return .failure(ValueProblem(message: "date is empty")) }
        // A value that has the shape of one format but an impossible day says more
        // than "no format matched", so the first such finding wins.
        var firstProblem: ValueProblem?
        // An empty list is a configuration slip, not a wish to refuse every date.
        let formats = formats.isEmpty ? DateFormat.defaults : formats
        for format in formats {
            switch DateScanner.scan(scalars, format) {
            case .success(let parts):
                return .success(DateValue(iso: parts.iso, hasTime: parts.time != nil))
            case .failure(.invalid(let problem)):
                if firstProblem == nil { firstProblem = problem }
            case .failure(.noMatch):
                continue
            }
        }
        if let problem = firstProblem { return .failure(problem) }
        return .failure(ValueProblem(
            message: "date must be " + formats.map(\.rawValue).joined(separator: " or ")
                + ", optionally followed by a time such as 10:15 or 10:15:00+01:00",
            hint: formats.contains(.iso) ? "for example 2026-11-27 or 2026-11-27T10:15:00+01:00" : nil))
    }

    /// The offset from UTC that the value states, in seconds; nil for a date alone or a
    /// local time without offset.
    public var offsetSeconds: Int? {
        components?.offsetSeconds
    }

    /// Seconds since 1970-01-01T00:00:00Z. A value without its own offset is read as
    /// being at `assumingOffsetSeconds` (a date alone as its midnight there). Fractions
    /// of a second are dropped. Nil when `iso` was changed into something unparsable.
    public func utcEpochSeconds(assumingOffsetSeconds: Int = 0) -> Int64? {
        guard let parts = components else { return nil }
        let days = DateValue.daysFromCivil(year: parts.year, month: parts.month, day: parts.day)
        let time = parts.time
        let secondsOfDay = Int64((time?.hour ?? 0) * 3600 + (time?.minute ?? 0) * 60 + (time?.second ?? 0))
        let offset = Int64(parts.offsetSeconds ?? assumingOffsetSeconds)
        return days * 86_400 + secondsOfDay - offset
    }

    private var components: DateScanner.Parts? {
        try? DateScanner.scan(ValueText.trimmedScalars(iso), .iso).get()
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
    /// days_from_civil): pure arithmetic, so no time zone database or Foundation.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// Reads one date format from the front of the text, then the shared time part.
struct DateScanner {
    enum Failure: Error {
        /// The text does not have this format's shape; another format may match.
        case noMatch
        /// It has the shape, but a field is out of range.
        case invalid(ValueProblem)
    }

    struct Time {
        var hour: Int
        var minute: Int
        var second: Int
        var fraction: String
    }

    struct Parts {
        var year: Int
        var month: Int
        var day: Int
        var time: Time?
        var offsetText: String?
        var offsetSeconds: Int?

        var iso: String {
            var out = DateScanner.pad(year, 4) + "-" + DateScanner.pad(month, 2) + "-" + DateScanner.pad(day, 2)
            if let t = time {
                out += "T" + DateScanner.pad(t.hour, 2) + ":" + DateScanner.pad(t.minute, 2) + ":" + DateScanner.pad(t.second, 2)
                if !t.fraction.isEmpty { out += "." + t.fraction }
                out += offsetText ?? ""
            }
            return out
        }
    }

    private let s: [Unicode.Scalar]
    private var i = 0

    init(_ scalars: [Unicode.Scalar]) {
        s = scalars
    }

    static func scan(_ scalars: [Unicode.Scalar], _ format: DateFormat) -> Result<Parts, Failure> {
        var scanner = DateScanner(scalars)
        return scanner.parse(format)
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private var atEnd: Bool { i >= s.count }

    private mutating func take(_ c: Unicode.Scalar) -> Bool {
        guard !atEnd, s[i] == c else { return false }
        i += 1
        return true
    }

    /// Reads between `min` and `max` digits.
    private mutating func number(_ min: Int, _ max: Int) -> Int? {
        var value = 0
        var count = 0
        while count < max, !atEnd, ValueText.isDigit(s[i]) {
            value = value * 10 + ValueText.digitValue(s[i])
            i += 1
            count += 1
        }
        return count >= min ? value : nil
    }

    mutating func parse(_ format: DateFormat) -> Result<Parts, Failure> {
        let year: Int, month: Int, day: Int
        switch format {
        case .iso:
            // ISO 8601 keeps every field at full width; "2026-1-5" is not ISO.
            guard let y = number(4, 4), take("-"), let m = number(2, 2), take("-"), let d = number(2, 2)
            else { return .failure(.noMatch) }
            (year, month, day) = (y, m, d)
        case .dotted, .slashedDMY, .slashedMDY:
            // Spreadsheets drop leading zeros ("1.12.2026"), so one digit is accepted.
            let sep: Unicode.Scalar = format == .dotted ? "." : "/"
            guard let a = number(1, 2), take(sep), let b = number(1, 2), take(sep), let y = number(4, 4)
            else { return .failure(.noMatch) }
            if format == .slashedMDY { (month, day) = (a, b) } else { (day, month) = (a, b) }
            year = y
        }
        if !atEnd, ValueText.isDigit(s[i]) { return .failure(.noMatch) }

        var parts = Parts(year: year, month: month, day: day)
        if let problem = DateScanner.checkDate(parts) { return .failure(.invalid(problem)) }
        if atEnd { return .success(parts) }

        // ISO 8601 separates date and time with T; a space is what SQL exports and
        // people write, and is accepted for every format.
        let isoSeparator = format == .iso && (take("T") || take("t"))
        guard isoSeparator || take(" ") else { return .failure(.noMatch) }
        switch parseTime() {
        case .failure(let failure): return .failure(failure)
        case .success(let (time, offsetText, offsetSeconds)):
            parts.time = time
            parts.offsetText = offsetText
            parts.offsetSeconds = offsetSeconds
        }
        return atEnd ? .success(parts) : .failure(.noMatch)
    }

    private mutating func parseTime() -> Result<(Time, String?, Int?), Failure> {
        guard let hour = number(2, 2), take(":"), let minute = number(2, 2) else { return .failure(.noMatch) }
        var second = 0
        var fraction = ""
        if take(":") {
            guard let sec = number(2, 2) else { return .failure(.noMatch) }
            second = sec
            if take(".") || take(",") {
                let start = i
                while !atEnd, ValueText.isDigit(s[i]) { i += 1 }
                let count = i - start
                guard count >= 1 else { return .failure(.noMatch) }
                guard count <= 9 else {
                    return .failure(.invalid(ValueProblem(message: "fractional seconds may have at most 9 digits")))
                }
                fraction = ValueText.string(s[start..<i])
            }
        }
        // 24:00 and leap second 60 are legal ISO 8601 but not xs:dateTime, which the
        // warehouse files are validated against, so they are refused here.
        guard hour <= 23, minute <= 59, second <= 59 else {
            return .failure(.invalid(ValueProblem(
                message: "time \(DateScanner.pad(hour, 2)):\(DateScanner.pad(minute, 2)):\(DateScanner.pad(second, 2)) is out of range",
                hint: "hours run from 00 to 23, minutes and seconds from 00 to 59")))
        }
        let time = Time(hour: hour, minute: minute, second: second, fraction: fraction)
        if atEnd { return .success((time, nil, nil)) }
        if take("Z") || take("z") { return .success((time, "Z", 0)) }

        let negative: Bool
        if take("+") { negative = false } else if take("-") { negative = true } else { return .failure(.noMatch) }
        guard let offsetHours = number(2, 2) else { return .failure(.noMatch) }
        var offsetMinutes = 0
        if take(":") {
            guard let m = number(2, 2) else { return .failure(.noMatch) }
            offsetMinutes = m
        } else if !atEnd {
            guard let m = number(2, 2) else { return .failure(.noMatch) }
            offsetMinutes = m
        }
        guard offsetMinutes <= 59, offsetHours * 60 + offsetMinutes <= 14 * 60 else {
            return .failure(.invalid(ValueProblem(message: "time zone offset must be between -14:00 and +14:00")))
        }
        let text = (negative ? "-" : "+") + DateScanner.pad(offsetHours, 2) + ":" + DateScanner.pad(offsetMinutes, 2)
        let seconds = (offsetHours * 3600 + offsetMinutes * 60) * (negative ? -1 : 1)
        return .success((time, text, seconds))
    }

    static func checkDate(_ p: Parts) -> ValueProblem? {
        guard p.year >= DateValue.minYear, p.year <= DateValue.maxYear else {
            return ValueProblem(message: "year must be between \(DateValue.minYear) and \(DateValue.maxYear), not \(p.year)")
        }
        guard p.month >= 1, p.month <= 12 else {
            return ValueProblem(message: "month must be between 01 and 12, not \(pad(p.month, 2))")
        }
        let days = DateValue.daysIn(month: p.month, year: p.year)
        guard p.day >= 1, p.day <= days else {
            let date = pad(p.year, 4) + "-" + pad(p.month, 2) + "-" + pad(p.day, 2)
            let hint = p.month == 2 && p.day == 29
                ? "\(p.year) is not a leap year"
                : "month \(pad(p.month, 2)) of \(p.year) has \(days) days"
            return ValueProblem(message: "\(date) is not a date in the calendar", hint: hint)
        }
        return nil
    }
}
