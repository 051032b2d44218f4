import Foundation
import TOMLKit

/// Everything `edidrop.toml` can set, with the defaults of DESIGN.md. Values are plain
/// data; paths are resolved against the spool by `Spool`.
public struct SpoolConfiguration: Sendable, Equatable {
    public struct Folders: Sendable, Equatable {
        public var inbox = "inbox"
        public var outbox = "outbox"
        public var fromWarehouse = "from-warehouse"
        public var toShop = "to-shop"
        public var archive = "archive"
        public var rejected = "rejected"
    }

    public struct Intake: Sendable, Equatable {
        /// Seconds a file's size and modification time must stay unchanged.
        public var settle: Double = 2.0
        public var pollInterval: Double = 1.0
        public var doneMarker = false
        public var maxFileSize: Int64 = 1 << 30
        /// How a file that is neither valid UTF-8 nor marked by a BOM is read.
        public var fallbackEncoding: TextEncoding = .windows1250
    }

    /// What edidrop expects from the warehouse, so that a quiet link is noticed.
    public struct Expectations: Sendable, Equatable {
        /// A stock report at least this often (seconds); nil: no expectation.
        public var stockReportEvery: Double?
        /// A shipment confirmation within this long after an order's delivery (seconds).
        public var shipmentWithin: Double?
    }

    public var folders = Folders()
    public var intake = Intake()
    public var expectations = Expectations()

    public init() {}

    /// A configuration error, located in the file where possible.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    /// Reads `edidrop.toml`; a missing file means every default.
    public static func load(from path: String) throws -> SpoolConfiguration {
        guard FileManager.default.fileExists(atPath: path) else { return SpoolConfiguration() }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(message: "\(path): cannot be read as UTF-8 text")
        }
        return try parse(text, name: path)
    }

    public static func parse(_ text: String, name: String = "edidrop.toml") throws -> SpoolConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw Problem(message: "\(name) line \(error.source.begin.line): \(error.description)")
        }
        var config = SpoolConfiguration()
        var reader = KeyReader(table: table, file: name)
        try reader.section("folders", known: ["inbox", "outbox", "from_warehouse", "to_shop", "archive", "rejected"]) { s in
            config.folders.inbox = try s.string("inbox") ?? config.folders.inbox
            config.folders.outbox = try s.string("outbox") ?? config.folders.outbox
            config.folders.fromWarehouse = try s.string("from_warehouse") ?? config.folders.fromWarehouse
            config.folders.toShop = try s.string("to_shop") ?? config.folders.toShop
            config.folders.archive = try s.string("archive") ?? config.folders.archive
            config.folders.rejected = try s.string("rejected") ?? config.folders.rejected
        }
        try reader.section("intake", known: ["settle", "poll_interval", "done_marker", "max_file_size", "encoding"]) { s in
            if let v = try s.number("settle", min: 0) { config.intake.settle = v }
            if let v = try s.number("poll_interval", min: 0.05) { config.intake.pollInterval = v }
            if let v = try s.bool("done_marker") { config.intake.doneMarker = v }
            if let v = try s.string("max_file_size") {
                guard let bytes = parseByteSize(v) else {
                    throw Problem(message: "\(name): [intake] max_file_size \"\(v)\" is not a size like \"1GiB\", \"500MB\" or \"1048576\"")
                }
                config.intake.maxFileSize = bytes
            } else if let v = try s.integerIfPresent("max_file_size") {
                config.intake.maxFileSize = Int64(v)
            }
            if let v = try s.string("encoding") {
                guard let e = TextEncoding(configName: v) else {
                    throw Problem(message: "\(name): [intake] encoding \"\(v)\" is not one of windows-1250, iso-8859-2, utf-8")
                }
                config.intake.fallbackEncoding = e
            }
        }
        try reader.section("expectations", known: ["stock_report_every", "shipment_within"]) { s in
            config.expectations.stockReportEvery = try s.duration("stock_report_every")
            config.expectations.shipmentWithin = try s.duration("shipment_within")
        }
        try reader.rejectUnknownSections(known: ["folders", "intake", "expectations"])
        return config
    }

    /// "90s", "30m", "6h", "2d" -> seconds; a bare number is hours.
    public static func parseDuration(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let number = t.prefix { $0.isNumber || $0 == "." }
        guard let n = Double(number), n > 0, n.isFinite else { return nil }
        switch t.dropFirst(number.count).trimmingCharacters(in: .whitespaces) {
        case "s", "sec", "seconds": return n
        case "m", "min", "minutes": return n * 60
        case "h", "hours", "": return n * 3600
        case "d", "days": return n * 86_400
        default: return nil
        }
    }

    /// "1GiB", "500 MB", "64k", "1048576" -> bytes. Binary and decimal units both accepted.
    public static func parseByteSize(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int64(digits) else { return nil }
        let unit = t.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        let factors: [String: Int64] = [
            "": 1, "b": 1,
            "k": 1 << 10, "kib": 1 << 10, "kb": 1000,
            "m": 1 << 20, "mib": 1 << 20, "mb": 1_000_000,
            "g": 1 << 30, "gib": 1 << 30, "gb": 1_000_000_000,
            "t": 1 << 40, "tib": 1 << 40, "tb": 1_000_000_000_000,
        ]
        guard let f = factors[unit] else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: f)
        return overflow ? nil : product
    }
}

/// Reads typed keys and says precisely which key is wrong, so a typo in the
/// configuration is a clear message instead of a silently ignored setting.
struct KeyReader {
    let table: TOMLTable
    let file: String

    struct Section {
        let table: TOMLTable
        let name: String
        let file: String

        func problem(_ key: String, _ expected: String) -> SpoolConfiguration.Problem {
            SpoolConfiguration.Problem(message: "\(file): [\(name)] \(key) must be \(expected)")
        }

        func string(_ key: String) throws -> String? {
            guard let v = table[key] else { return nil }
            if let s = v.string { return s }
            if key == "max_file_size", v.int != nil { return nil }
            throw problem(key, "a string")
        }

        func integerIfPresent(_ key: String) throws -> Int? {
            guard let v = table[key] else { return nil }
            guard let i = v.int, i >= 0 else { throw problem(key, "a whole number ≥ 0") }
            return i
        }

        func number(_ key: String, min: Double) throws -> Double? {
            guard let v = table[key] else { return nil }
            let d = v.double ?? v.int.map(Double.init)
            guard let d, d.isFinite, d >= min else { throw problem(key, "a number ≥ \(min)") }
            return d
        }

        func duration(_ key: String) throws -> Double? {
            guard let v = table[key] else { return nil }
            if let s = v.string {
                if s.isEmpty { return nil }
                guard let d = SpoolConfiguration.parseDuration(s) else { throw problem(key, "a duration like \"90s\", \"30m\", \"6h\" or \"2d\"") }
                return d
            }
            if let n = v.double ?? v.int.map(Double.init), n > 0 { return n * 3600 }
            throw problem(key, "a duration like \"6h\" (a bare number is hours)")
        }

        func bool(_ key: String) throws -> Bool? {
            guard let v = table[key] else { return nil }
            guard let b = v.bool else { throw problem(key, "true or false") }
            return b
        }
    }

    mutating func section(_ name: String, known: Set<String>, _ body: (Section) throws -> Void) throws {
        guard let value = table[name] else { return }
        guard let sub = value.table else {
            throw SpoolConfiguration.Problem(message: "\(file): \(name) must be a table ([\(name)])")
        }
        for key in sub.keys where !known.contains(key) {
            throw SpoolConfiguration.Problem(message: "\(file): [\(name)] has no key \"\(key)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        try body(Section(table: sub, name: name, file: file))
    }

    func rejectUnknownSections(known: Set<String>) throws {
        for key in table.keys where !known.contains(key) {
            throw SpoolConfiguration.Problem(message: "\(file): unknown section or key \"\(key)\" (known sections: \(known.sorted().joined(separator: ", ")))")
        }
    }
}
