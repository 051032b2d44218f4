import Foundation
import TOMLKit

/// Everything `edidrop.toml` can set, with the defaults of DESIGN.md. Values are plain
/// data; paths are resolved against the spool by `Spool`.
public struct SpoolConfiguration: Sendable, Equatable {
    public struct Folders: Sendable, Equatable {
        /// Delivery folders (outbox, to_shop) must be mount points: when an sshfs share
        /// drops, its mount point is an empty local folder, and a file written there would
        /// never reach the warehouse. With this set, deliveries wait for the mount instead.
        public var requireMount = false
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
        /// `file`: one bad order rejects the whole file. `record`: the valid orders of a
        /// CSV file go out, the bad ones go to rejected/NAME.rejects.csv.
        public var policy: AcceptancePolicy = .file
    }

    public enum AcceptancePolicy: String, Sendable, Equatable { case file, record }

    /// What edidrop expects from the warehouse, so that a quiet link is noticed.
    public struct Expectations: Sendable, Equatable {
        /// A stock report at least this often (seconds); nil: no expectation.
        public var stockReportEvery: Double?
        /// A shipment confirmation within this long after an order's delivery (seconds).
        public var shipmentWithin: Double?
    }

    /// What the warehouse receives in outbox/.
    public enum OutboxFormat: String, Sendable, Equatable, CaseIterable {
        /// The canonical orders XML (urn:edidrop:orders:1), one order per file.
        case edidropXML = "edidrop-xml"
        /// One OASIS UBL 2.1 Order document per order.
        case ubl
        /// The canonical orders CSV columns, one row per order line.
        case csv
    }

    public struct Outbox: Sendable, Equatable {
        public var format: OutboxFormat = .edidropXML
    }

    /// The shop's own orders CSV layout (`[formats.orders_csv]`): its column headers for
    /// our field names, and how it writes dates and amounts. Applies only to files read
    /// with that layout; the canonical layout and Shopify exports keep their own rules.
    public struct OrdersCSVLayout: Sendable, Equatable {
        /// Canonical field name (`order_id`, …) -> the shop's column header. Fields not
        /// named here are looked for under their canonical name.
        public var columns: [String: String] = [:]
        public var dateFormats: [DateFormat] = DateFormat.defaults
        public var decimalSeparator: DecimalSeparator = .auto

        /// The header that holds `field` in the shop's files.
        public func header(for field: String) -> String { columns[field] ?? field }
    }

    public struct Formats: Sendable, Equatable {
        public var ordersCSV = OrdersCSVLayout()
    }

    public var folders = Folders()
    public var intake = Intake()
    public var expectations = Expectations()
    /// `[sftp]`: how `sftp://USER@HOST:PORT/PATH` folders are reached.
    public struct SFTP: Sendable, Equatable {
        public var identityFile: String?
        public var knownHosts: String?
        /// Remote folder (relative to the input folder, or absolute) where taken files are
        /// moved after the ledger commit; empty: they are deleted.
        public var processed = "processed"
        public var timeout: Double = 30
    }

    public var sftp = SFTP()

    /// `[reports] language`: the words of text and HTML reports (codes stay the same).
    public var reportLanguage: ReportLanguage = .en
    public var outbox = Outbox()
    public var formats = Formats()
    /// `[web]`: the web console (`edidrop serve`).
    public var web = Web()

    public struct Web: Sendable, Equatable {
        /// The token every request to the console must carry; required to serve on any
        /// address but loopback (`--token` and `EDIDROP_WEB_TOKEN` take precedence).
        public var token: String?
    }

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
        try reader.section("folders", known: ["inbox", "outbox", "from_warehouse", "to_shop", "archive", "rejected", "require_mount"]) { s in
            if let v = try s.bool("require_mount") { config.folders.requireMount = v }
            config.folders.inbox = try s.string("inbox") ?? config.folders.inbox
            config.folders.outbox = try s.string("outbox") ?? config.folders.outbox
            config.folders.fromWarehouse = try s.string("from_warehouse") ?? config.folders.fromWarehouse
            config.folders.toShop = try s.string("to_shop") ?? config.folders.toShop
            config.folders.archive = try s.string("archive") ?? config.folders.archive
            config.folders.rejected = try s.string("rejected") ?? config.folders.rejected
        }
        try reader.section("intake", known: ["settle", "poll_interval", "done_marker", "max_file_size", "encoding", "policy"]) { s in
            if let v = try s.string("policy") {
                guard let p = AcceptancePolicy(rawValue: v) else {
                    throw Problem(message: "\(name): [intake] policy \"\(v)\" is not one of file, record")
                }
                config.intake.policy = p
            }
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
        try reader.section("outbox", known: ["format"]) { s in
            if let v = try s.string("format") {
                guard let f = OutboxFormat(rawValue: v.lowercased()) else {
                    throw Problem(message: "\(name): [outbox] format \"\(v)\" is not one of "
                                  + OutboxFormat.allCases.map(\.rawValue).joined(separator: ", "))
                }
                config.outbox.format = f
            }
        }
        try reader.section("formats", known: ["orders_csv"]) { s in
            guard let value = s.table["orders_csv"] else { return }
            guard let layout = value.table else {
                throw Problem(message: "\(name): formats.orders_csv must be a table ([formats.orders_csv])")
            }
            config.formats.ordersCSV = try parseOrdersCSVLayout(layout, file: name)
        }
        try reader.section("sftp", known: ["identity_file", "known_hosts", "processed", "timeout"]) { s in
            config.sftp.identityFile = try s.string("identity_file")
            config.sftp.knownHosts = try s.string("known_hosts")
            if let v = try s.string("processed") { config.sftp.processed = v }
            if let v = try s.number("timeout", min: 1) { config.sftp.timeout = v }
        }
        let folders = [config.folders.inbox, config.folders.outbox, config.folders.fromWarehouse, config.folders.toShop]
        for f in folders where f.hasPrefix("sftp://") {
            guard Spool.parseRemote(f) != nil else {
                throw Problem(message: "\(name): [folders] \"\(f)\" is not a valid sftp://USER@HOST:PORT/PATH address")
            }
            if config.sftp.identityFile == nil || config.sftp.knownHosts == nil {
                throw Problem(message: "\(name): [folders] uses \(f): set [sftp] identity_file and known_hosts (strict host-key checking)")
            }
        }
        for f in [config.folders.archive, config.folders.rejected] where f.hasPrefix("sftp://") {
            throw Problem(message: "\(name): [folders] archive and rejected must be local folders, not \(f)")
        }
        try reader.section("reports", known: ["language"]) { s in
            if let v = try s.string("language") {
                guard let l = ReportLanguage(rawValue: v.lowercased()) else {
                    throw Problem(message: "\(name): [reports] language \"\(v)\" is not one of en, pl")
                }
                config.reportLanguage = l
            }
        }
        try reader.section("web", known: ["token"]) { s in
            config.web.token = try s.string("token")
        }
        try reader.rejectUnknownSections(known: ["folders", "intake", "expectations", "outbox", "formats", "reports", "sftp", "web"])
        return config
    }

    /// `[formats.orders_csv]` and its `columns` table. Every mistake names the key, since a
    /// silently ignored mapping would make every file of the shop UNKNOWN_FORMAT.
    static func parseOrdersCSVLayout(_ table: TOMLTable, file: String) throws -> OrdersCSVLayout {
        let section = "formats.orders_csv"
        var layout = OrdersCSVLayout()
        let known = ["columns", "date_formats", "decimal_separator"]
        for key in table.keys where !known.contains(key) {
            throw Problem(message: "\(file): [\(section)] has no key \"\(key)\" (known: \(known.joined(separator: ", ")))")
        }
        if let v = table["decimal_separator"] {
            guard let text = v.string, let sep = DecimalSeparator(rawValue: text.lowercased()) else {
                throw Problem(message: "\(file): [\(section)] decimal_separator must be \"comma\", \"point\" or \"auto\"")
            }
            layout.decimalSeparator = sep
        }
        if let v = table["date_formats"] {
            let choices = DateFormat.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            guard let array = v.array else {
                throw Problem(message: "\(file): [\(section)] date_formats must be a list such as [\"DD.MM.YYYY\"] of \(choices)")
            }
            var formats: [DateFormat] = []
            for item in array {
                guard let text = item.string, let f = DateFormat(rawValue: text.uppercased()) else {
                    throw Problem(message: "\(file): [\(section)] date_formats: \(item.string.map { "\"\($0)\"" } ?? "a value") is not one of \(choices)")
                }
                if !formats.contains(f) { formats.append(f) }
            }
            if formats.isEmpty {
                throw Problem(message: "\(file): [\(section)] date_formats must name at least one of \(choices)")
            }
            // 03/04/2026 is a date either way, so no check could ever catch the wrong reading.
            if formats.contains(.slashedDMY) && formats.contains(.slashedMDY) {
                throw Problem(message: "\(file): [\(section)] date_formats cannot hold both DD/MM/YYYY and MM/DD/YYYY: 03/04/2026 would be ambiguous")
            }
            layout.dateFormats = formats
        }
        if let v = table["columns"] {
            guard let columns = v.table else {
                throw Problem(message: "\(file): [\(section).columns] must be a table of field = \"column header\"")
            }
            let fields = OrdersCSVReader<BytesSource>.columns
            var taken: [String: String] = [:]
            for key in columns.keys.sorted() {
                guard fields.contains(key) else {
                    throw Problem(message: "\(file): [\(section).columns] has no field \"\(key)\" (fields: \(fields.joined(separator: ", ")))")
                }
                guard let header = columns[key]?.string, !header.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw Problem(message: "\(file): [\(section).columns] \(key) must be the shop's column header, a non-empty string")
                }
                let normalized = CSVColumns.normalized(header)
                if let other = taken[normalized] {
                    throw Problem(message: "\(file): [\(section).columns] \(other) and \(key) both name the column \"\(header)\"")
                }
                taken[normalized] = key
                layout.columns[key] = header
            }
        }
        return layout
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
