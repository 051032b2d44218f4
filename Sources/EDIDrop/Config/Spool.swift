import Foundation

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
    public var configurationPath: String { FileSystem.join(root, "edidrop.toml") }

    public init(root: String, configuration: SpoolConfiguration) {
        let absoluteRoot = Spool.absolute(root, base: FileManager.default.currentDirectoryPath)
        self.root = absoluteRoot
        self.configuration = configuration
        func resolve(_ p: String) -> String { Spool.absolute(p, base: absoluteRoot) }
        inbox = resolve(configuration.folders.inbox)
        outbox = resolve(configuration.folders.outbox)
        fromWarehouse = resolve(configuration.folders.fromWarehouse)
        toShop = resolve(configuration.folders.toShop)
        archive = resolve(configuration.folders.archive)
        rejected = resolve(configuration.folders.rejected)
        work = resolve("work")
        ledgerPath = resolve("ledger.sqlite")
        lockPath = resolve(".edidrop.lock")
    }

    /// Loads `<root>/edidrop.toml` (defaults when absent).
    public static func open(root: String) throws -> Spool {
        let config = try SpoolConfiguration.load(from: FileSystem.join(absolute(root, base: FileManager.default.currentDirectoryPath), "edidrop.toml"))
        return Spool(root: root, configuration: config)
    }

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
        for folder in allFolders { try FileSystem.makeDirectories(folder) }
    }

    /// A path relative to the spool root when it lies inside it, for the ledger and reports.
    public func relative(_ path: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    public func resolve(relative path: String) -> String {
        Spool.absolute(path, base: root)
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

    [intake]
    settle = 2.0          # seconds a file must stay unchanged before it is taken (more for SFTP mounts)
    poll_interval = 1.0   # seconds between scans of the input folders
    done_marker = false   # take NAME only once NAME.done exists
    max_file_size = "1GiB"
    encoding = "windows-1250"  # how a file that is not UTF-8 and has no BOM is read (or "iso-8859-2")

    [expectations]         # when to call the link quiet: `edidrop status --check` exits 1 then
    # stock_report_every = "6h"   # a stock report at least this often
    # shipment_within = "48h"     # a shipment confirmation within this long after an order was delivered

    """
}
