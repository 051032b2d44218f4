import Foundation
import XCTest
@testable import EDIDrop

/// A file of at most 4 KiB is read once: hashed, then parsed from the same bytes.
final class FileSourceTests: XCTestCase {
    private func orderIDs(path: String, identity: FileIdentity) -> Result<[String], Diagnostic> {
        DocumentOpener.open(path: path, identity: identity, channel: .orders, schemas: Fixture.schemas,
                            configuration: SpoolConfiguration()).map { document in
            guard case .orders(var reader) = document.content else { return [] }
            var ids: [String] = []
            while let draft = reader.next() { ids.append(draft.id?.value ?? "?") }
            return ids
        }
    }

    func testASmallFileIsParsedFromTheBytesThatWereHashed() throws {
        let dir = FixtureFolder("edidrop-file-source")
        let path = dir.join("orders.csv")
        Fixture.write(Fixture.validOrdersCSV, to: path)
        let identity = try FileIdentity.read(path: path, fallbackEncoding: .windows1250)
        XCTAssertTrue(identity.holdsWholeFile)
        // Whatever happens to the file afterwards, what is parsed is what was hashed.
        Fixture.write(Fixture.validOrdersCSV.replacingOccurrences(of: "S-2", with: "S-9"), to: path)
        XCTAssertEqual(try orderIDs(path: path, identity: identity).get(), ["S-1", "S-2"])
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(try orderIDs(path: path, identity: identity).get(), ["S-1", "S-2"])

        let xmlPath = dir.join("orders.xml")
        Fixture.write("""
            <orders xmlns="urn:edidrop:orders:1"><order id="X-1">
              <customer name="Anna"/><shipTo street="Długa 5" city="Kraków" postcode="31-147" country="PL"/>
              <line sku="MUG-001" quantity="2"/></order></orders>
            """, to: xmlPath)
        let xmlIdentity = try FileIdentity.read(path: xmlPath, fallbackEncoding: .windows1250)
        try FileManager.default.removeItem(atPath: xmlPath)
        XCTAssertEqual(try orderIDs(path: xmlPath, identity: xmlIdentity).get(), ["X-1"])
    }

    func testALargerFileIsReadFromDisk() throws {
        let dir = FixtureFolder("edidrop-file-source")
        let path = dir.join("orders.csv")
        var text = Fixture.validOrdersCSV
        while text.utf8.count <= 4096 { text += "\n" }
        Fixture.write(text, to: path)
        let identity = try FileIdentity.read(path: path, fallbackEncoding: .windows1250)
        XCTAssertFalse(identity.holdsWholeFile)
        XCTAssertEqual(try orderIDs(path: path, identity: identity).get(), ["S-1", "S-2"])
        try FileManager.default.removeItem(atPath: path)
        guard case .failure(let problem) = orderIDs(path: path, identity: identity) else {
            return XCTFail("a file over 4 KiB is read from disk, and it is gone")
        }
        XCTAssertEqual(problem.code, .unreadable)
    }

    /// `edidrop parse` leaves the content hash out; everything parsing uses stays the same.
    func testAnIdentityWithoutContentHashDiffersOnlyInTheHash() throws {
        let dir = FixtureFolder("edidrop-file-identity")
        let path = dir.join("orders.csv")
        Fixture.write(Fixture.validOrdersCSV + String(repeating: "# padding\n", count: 800), to: path)
        let full = try FileIdentity.read(path: path, fallbackEncoding: .windows1250)
        let bare = try FileIdentity.read(path: path, fallbackEncoding: .windows1250, contentHash: false)
        XCTAssertEqual(full.sha256.count, 64)
        XCTAssertEqual(bare.sha256, "")
        XCTAssertEqual(bare.size, full.size)
        XCTAssertEqual(bare.encoding, full.encoding)
        XCTAssertEqual(bare.head, full.head)
        XCTAssertFalse(bare.holdsWholeFile, "more than 4 KiB: the head is only the start")
    }
}
