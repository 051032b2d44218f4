import EDIDrop
import EDIDropWeb
import Foundation
import Logging
import XCTest

/// Hostile values that must never reach a page unescaped.
enum Hostile {
    static let script = "<script>alert(1)</script>"
    static let img = "\"><img src=x onerror=alert(1)>"
    /// A file name cannot hold "/", so the accepted file's name is this near twin.
    static let scriptFileName = "<script>alert(1)<\\script>"
    static let all = [script, img, scriptFileName]

    /// How `HTML.escape` writes them.
    static let scriptEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    static let imgEscaped = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
    static let scriptFileNameEscaped = "&lt;script&gt;alert(1)&lt;\\script&gt;"
}

/// A temporary spool filled by running the real pipeline (`Engine.runOnce`) on files with
/// hostile names and values: an accepted orders file, a rejected one, a stock report and
/// a shipment confirmation.
final class WebFixture {
    let root: String
    let spool: Spool
    let ledger: Ledger

    /// Ledger ids, found by name after the run.
    private(set) var acceptedID: Int64 = 0
    private(set) var rejectedID: Int64 = 0
    private(set) var stockID: Int64 = 0

    /// Accepted: orders S-1 (shipped later) and the hostile order id, whose customer is hostile too.
    static let acceptedName = "\(Hostile.scriptFileName).csv"
    static let acceptedCSV = """
    order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes
    S-1;27.11.2026;Anna Kowalska;anna@example.com;+48600100200;ul. Długa 5/3;Kraków;31-147;PL;inpost;KRA01M;129,99;PLN;MUG-001;5901234123457;2;19,99;Kubek;
    \(Hostile.script);2026-11-27;\"\"\"><img src=x onerror=alert(1)>\";;;Marszałkowska 1;Warszawa;00-624;PL;dpd;;;;BOOK-7;;3;49.5;Książka;

    """

    /// Rejected: a wrong EAN check digit in the hostile order; the quoted line holds both payloads.
    static let rejectedName = "\(Hostile.img).csv"
    static let badEAN = "4006381333932"
    static let rejectedCSV = """
    order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes
    S-2;27.11.2026;Jan Nowak;;;Polna 3;Kraków;31-147;PL;dpd;;;PLN;SKU-A;;1;1,00;ok;
    \"\"\"><img src=x onerror=alert(1)>\";27.11.2026;\(Hostile.script);;;Polna 3;Kraków;31-147;PL;dpd;;;PLN;SKU-B;\(badEAN);1;1,00;bad ean;

    """

    static let stockName = "stock-1.csv"
    static let stockCSV = """
    sku;ean;available;reserved;as_of
    MUG-001;5901234123457;40;2;2026-11-27T08:00:00Z
    \(Hostile.script);;5;;2026-11-27T08:00:00Z

    """

    static let shipmentsName = "shipments-1.csv"
    static let shipmentsCSV = """
    order_id;shipped_at;carrier;tracking_number
    S-1;2026-11-28T09:00:00Z;inpost;TRACK-123

    """

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("edidrop-web-\(getpid())-\(UUID().uuidString)").path
        spool = Spool(root: root, configuration: SpoolConfiguration())
        try spool.createFolders()
        ledger = try Ledger(path: spool.ledgerPath)
        let engine = Engine(spool: spool, ledger: ledger, schemas: try CompiledSchemas(),
                            logger: Logger(label: "edidrop.web-tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        try write(Self.acceptedCSV, to: FileSystem.join(spool.inbox, Self.acceptedName))
        try write(Self.rejectedCSV, to: FileSystem.join(spool.inbox, Self.rejectedName))
        try write(Self.stockCSV, to: FileSystem.join(spool.fromWarehouse, Self.stockName))
        _ = try engine.runOnce(settle: 0)
        // The confirmation only applies to an order already sent, so in a second pass.
        try write(Self.shipmentsCSV, to: FileSystem.join(spool.fromWarehouse, Self.shipmentsName))
        _ = try engine.runOnce(settle: 0)
        for s in try ledger.files() {
            switch s.record.name {
            case Self.acceptedName: acceptedID = s.record.id ?? 0
            case Self.rejectedName: rejectedID = s.record.id ?? 0
            case Self.stockName: stockID = s.record.id ?? 0
            default: break
            }
        }
        guard acceptedID > 0, rejectedID > 0, stockID > 0 else {
            throw FixtureError("the pipeline did not take the fixture files as expected: \(try ledger.files().map { ($0.record.name, $0.record.state) })")
        }
        guard try ledger.fileRecord(id: acceptedID)?.state == .accepted, try ledger.fileRecord(id: rejectedID)?.state == .rejected else {
            throw FixtureError("unexpected states: \(try ledger.files().map { ($0.record.name, $0.record.state, $0.record.errorCount) })")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func console(token: String? = nil, csrf: CSRFTokens = CSRFTokens()) -> WebConsole {
        WebConsole(spool: spool, ledger: ledger, access: WebAccess(token: token), csrf: csrf,
                   logger: Logger(label: "edidrop.web-tests", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
