import Foundation
import SFTPSupport

/// The input folders edidrop watches. The raw value is stored in the ledger.
public enum Channel: String, Codable, Sendable, CaseIterable {
    /// inbox/: order files from the shop.
    case orders
    /// from-warehouse/: stock reports and shipment confirmations.
    case warehouse
}

/// The folders the outbox table delivers into. The raw value is stored in the ledger.
public enum DeliveryTarget: String, Codable, Sendable, CaseIterable {
    case outbox
    case toShop = "to_shop"
}

/// A spool: its root and every folder in it, resolved from the configuration.
public struct Spool: Sendable {
    public let root: String
    public let configuration: SpoolConfiguration
    public let inbox: String
    public let outbox: String
    public let fromWarehouse: String
    public let toShop: String
    public let archive: String
    public let rejected: String
    public let work: String
    public let ledgerPath: String
    public let lockPath: String
    /// Folders that are `sftp://` addresses, by role ("inbox", "outbox", "from_warehouse", "to_shop").
    public let remote: [String: SFTPLocation]
    /// `rejected` and `archive` as the ledger names them (relative to the root), for the
    /// hot path of `resolve(relative:)`.
    private let rejectedRelative: String
    private let archiveRelative: String
    public var configurationPath: String { FileSystem.join(root, "edidrop.toml") }

    public init(root: String, configuration: SpoolConfiguration) {
        let absoluteRoot = Spool.absolute(root, base: FileManager.default.currentDirectoryPath)
        self.root = absoluteRoot
        self.configuration = configuration
        var remote: [String: SFTPLocation] = [:]
        for (role, value) in [("inbox", configuration.folders.inbox), ("outbox", configuration.folders.outbox),
                              ("from_warehouse", configuration.folders.fromWarehouse), ("to_shop", configuration.folders.toShop)] {
            if let l = Spool.parseRemote(value) { remote[role] = l }
        }
        self.remote = remote
        // A remote folder keeps its address as its "path": it is never used as a local path.
        func resolve(_ p: String) -> String { p.hasPrefix("sftp://") ? p : Spool.absolute(p, base: absoluteRoot) }
        inbox = resolve(configuration.folders.inbox)
        outbox = resolve(configuration.folders.outbox)
        fromWarehouse = resolve(configuration.folders.fromWarehouse)
        toShop = resolve(configuration.folders.toShop)
        archive = resolve(configuration.folders.archive)
        rejected = resolve(configuration.folders.rejected)
        work = resolve("work")
        ledgerPath = resolve("ledger.sqlite")
        lockPath = resolve(".edidrop.lock")
        rejectedRelative = Spool.relativePath(rejected, root: absoluteRoot)
        archiveRelative = Spool.relativePath(archive, root: absoluteRoot)
    }

    /// Loads `<root>/edidrop.toml` (defaults when absent).
    public static func open(root: String) throws -> Spool {
        let config = try SpoolConfiguration.load(from: FileSystem.join(absolute(root, base: FileManager.default.currentDirectoryPath), "edidrop.toml"))
        return Spool(root: root, configuration: config)
    }

    static func parseRemote(_ value: String) -> SFTPLocation? {
        value.hasPrefix("sftp://") ? SFTPLocation(url: value) : nil
    }

    public func remoteLocation(for channel: Channel) -> SFTPLocation? {
        remote[channel == .orders ? "inbox" : "from_warehouse"]
    }

    public func remoteLocation(for target: DeliveryTarget) -> SFTPLocation? {
        remote[target == .outbox ? "outbox" : "to_shop"]
    }

    public func isRemote(_ folder: String) -> Bool { folder.hasPrefix("sftp://") }

    public func inputFolder(for channel: Channel) -> String {
        switch channel {
        case .orders: return inbox
        case .warehouse: return fromWarehouse
        }
    }

    public func folder(for target: DeliveryTarget) -> String {
        switch target {
        case .outbox: return outbox
        case .toShop: return toShop
        }
    }

    /// work/<channel>: files in flight, named as received.
    public func workFolder(for channel: Channel) -> String {
        FileSystem.join(work, channel.rawValue)
    }

    /// Every folder the spool needs, in the order they are created.
    public var allFolders: [String] {
        [inbox, outbox, fromWarehouse, toShop, archive, rejected, work,
         workFolder(for: .orders), workFolder(for: .warehouse)]
    }

    public func createFolders() throws {
        for folder in allFolders where !isRemote(folder) { try FileSystem.makeDirectories(folder) }
    }

    /// The archive's folder for one day (`archive/2026-11-28`): as the ledger names it, and its path.
    /// The ledger's name is built from the archive's own, not by taking the root off the
    /// path again: every accepted file is named this way, on the thread that commits.
    public func archiveFolder(day: String) -> (relative: String, path: String) {
        let path = FileSystem.join(archive, day)
        // An archive outside the spool (or the spool itself) has an absolute name.
        return (archiveRelative.hasPrefix("/") ? relative(path) : archiveRelative + "/" + day, path)
    }

    /// A path relative to the spool root when it lies inside it, for the ledger and reports.
    public func relative(_ path: String) -> String {
        Spool.relativePath(path, root: root)
    }

    static func relativePath(_ path: String, root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    public func resolve(relative path: String) -> String {
        // The destinations every file names (`rejected`, `archive/DAY`) are resolved on the
        // hot path; they need no clean-up beyond what the folders already had.
        let rejectedName = rejectedRelative, archiveName = archiveRelative
        if path == rejectedName && !rejectedName.hasPrefix("/") { return rejected }
        if !archiveName.hasPrefix("/"), path.hasPrefix(archiveName + "/") {
            let day = path.dropFirst(archiveName.count + 1)
            if !day.isEmpty && !day.contains("/") && !day.hasPrefix(".") { return archive + "/" + day }
        }
        return Spool.absolute(path, base: root)
    }

    static func absolute(_ path: String, base: String) -> String {
        let joined = path.hasPrefix("/") ? path : FileSystem.join(base, path)
        return (joined as NSString).standardizingPath
    }

    /// The commented configuration `edidrop init` writes.
    public static let configurationTemplate = """
    # edidrop configuration. Every key is optional; the values shown are the defaults.
    # Relative paths are relative to this spool folder.

    [folders]
    inbox = "inbox"                    # shop -> edidrop: order files (watched)
    outbox = "outbox"                  # edidrop -> warehouse: one file per order
    from_warehouse = "from-warehouse"  # warehouse -> edidrop: stock reports, shipment confirmations
    to_shop = "to-shop"                # edidrop -> shop: stock feeds, tracking files
    archive = "archive"                # originals that were processed, by local date
    rejected = "rejected"              # originals that were rejected, with their reports
    # Any of inbox, outbox, from_warehouse, to_shop may be "sftp://USER@HOST:PORT/PATH" (see [sftp]).
    require_mount = false              # deliver only into mount points (an sshfs share that dropped is not one)

    [intake]
    settle = 2.0          # seconds a file must stay unchanged before it is taken (more for SFTP mounts)
    poll_interval = 1.0   # seconds between scans of the input folders
    done_marker = false   # take NAME only once NAME.done exists
    max_file_size = "1GiB"
    policy = "file"       # "record": valid orders go out, bad ones to rejected/NAME.rejects.csv (or .xml)
    encoding = "windows-1250"  # how a file that is not UTF-8 and has no BOM is read (or "iso-8859-2")

    [reports]
    language = "en"        # words of the text and HTML reports: "en" or "pl" (codes stay the same)

    [expectations]         # when to call the link quiet: `edidrop status --check` exits 1 then
    # stock_report_every = "6h"   # a stock report at least this often
    # shipment_within = "48h"     # a shipment confirmation within this long after an order was delivered

    [outbox]
    format = "edidrop-xml"  # what the warehouse receives per order: "edidrop-xml" (ORDER_<id>.xml, urn:edidrop:orders:1),
                            # "ubl" (ORDER_<id>.xml, a UBL 2.1 Order) or "csv" (ORDER_<id>.csv, the canonical columns)

    # The shop's own orders CSV layout (README: "The shop's own CSV layout"). A file whose header
    # holds the column named for order_id is read with this mapping; unnamed fields keep their
    # canonical column name.
    # [formats.orders_csv]
    # date_formats = ["DD.MM.YYYY", "YYYY-MM-DD"]   # also "DD/MM/YYYY" or "MM/DD/YYYY"
    # decimal_separator = "auto"                     # "comma", "point" or "auto"
    # [formats.orders_csv.columns]
    # order_id = "Nr zamówienia"
    # customer_name = "Klient"
    # street = "Ulica"
    # city = "Miasto"
    # postcode = "Kod pocztowy"
    # country = "Kraj"
    # sku = "Indeks"
    # quantity = "Ilość"

    """
}
