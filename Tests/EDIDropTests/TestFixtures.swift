import Foundation
import XCTest
import Logging
@testable import EDIDrop

// Shared helpers for the per-stage unit tests. Everything lives in the `Fixture`
// namespace (or has a Fixture prefix) so it cannot clash with helpers of other test files.

/// A clock the test moves by hand.
final class FixtureClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_775_400)) { // 2026-11-27T10:30:00Z
        current = start
    }

    func now() -> Date { lock.withLock { current } }

    func advance(_ seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}

/// A fresh folder under the system temp folder, removed when the object goes away.
final class FixtureFolder {
    let path: String

    init(_ label: String = "edidrop-unit") {
        let base = FileManager.default.temporaryDirectory.path
        path = FileSystem.join(base, "\(label)-\(getpid())-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func join(_ name: String) -> String { FileSystem.join(path, name) }
}

enum Fixture {
    static let schemas: CompiledSchemas = try! CompiledSchemas()

    static var silentLogger: Logger {
        Logger(label: "edidrop.unit-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    static func write(_ text: String, to path: String) {
        write(Array(text.utf8), to: path)
    }

    static func write(_ bytes: [UInt8], to path: String) {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "could not write \(path)")
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Names in a folder, sorted; empty when the folder does not exist.
    static func names(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// A spool in a temp folder with every folder created, its ledger, and an engine.
    final class SpoolSetup {
        let folder: FixtureFolder
        let spool: Spool
        let ledger: Ledger
        let clock: FixtureClock
        let engine: Engine

        init(configuration: SpoolConfiguration = SpoolConfiguration(), clock: FixtureClock = FixtureClock()) throws {
            folder = FixtureFolder("edidrop-spool")
            spool = Spool(root: folder.path, configuration: configuration)
            try spool.createFolders()
            ledger = try Ledger(path: spool.ledgerPath)
            self.clock = clock
            engine = Engine(spool: spool, ledger: ledger, schemas: Fixture.schemas, clock: clock, logger: Fixture.silentLogger)
        }

        func drop(_ text: String, as name: String) {
            Fixture.write(text, to: FileSystem.join(spool.inbox, name))
        }

        var archiveToday: String {
            FileSystem.join(spool.archive, Timestamp.localDay(clock.now()))
        }
    }

    /// A small valid canonical orders CSV: S-1 with two lines, S-2 with one.
    static let validOrdersCSV = """
    order_id;order_date;customer_name;email;phone;street;city;postcode;country;carrier;pickup_point;cod_amount;currency;sku;ean;quantity;unit_price;product_name;notes
    S-1;27.11.2026;Anna Kowalska;anna@example.com;+48600100200;ul. Długa 5/3;Kraków;31-147;PL;inpost;KRA01M;129,99;PLN;MUG-001;5901234123457;2;19,99;Kubek;
    S-1;;;;;;;;;;;;;TEA-002;;1;90;Herbata;
    S-2;2026-11-27;Jan Nowak;;;Marszałkowska 1;Warszawa;00-624;PL;dpd;;;;BOOK-7;;3;49.5;Książka;zostawić u sąsiada

    """
}
