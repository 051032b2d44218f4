import CLibXML2
import Foundation
import XCTest
import XMLSupport
@testable import EDIDrop

/// Helpers for the Formats*Tests: open a file the way the pipeline does (content decides
/// the format), drain its reader, and check UBL output against the compact schema.
enum FormatsSupport {
    struct Opened {
        var format: DocumentFormat
        var encoding: String
        var drafts: [OrderDraft] = []
        var stock: [StockLineDraft] = []
        var shipments: [ShipmentDraft] = []
        var findings: [Diagnostic] = []
        var skipped: [SkippedOrder] = []
        var columnName: (String) -> String? = { _ in nil }
    }

    static func open(_ bytes: [UInt8], name: String = "file", channel: Channel = .orders,
                     configuration: SpoolConfiguration = SpoolConfiguration()) throws -> Result<Opened, Diagnostic> {
        let folder = FixtureFolder("edidrop-formats")
        let path = folder.join(name)
        Fixture.write(bytes, to: path)
        defer { withExtendedLifetime(folder) {} }
        let identity = try FileIdentity.read(path: path, fallbackEncoding: configuration.intake.fallbackEncoding)
        let result = DocumentOpener.open(path: path, identity: identity, channel: channel, schemas: Fixture.schemas,
                                         configuration: configuration)
        switch result {
        case .failure(let d):
            return .failure(d)
        case .success(let document):
            var out = Opened(format: document.format, encoding: document.encoding ?? identity.encoding.description)
            switch document.content {
            case .orders(var reader):
                while let d = reader.next() { out.drafts.append(d) }
                out.findings = reader.findings
                out.skipped = reader.skipped
                let r = reader
                out.columnName = { r.columnName(for: $0) }
            case .stock(var reader):
                while let d = reader.next() { out.stock.append(d) }
                out.findings = reader.findings
            case .shipments(var reader):
                while let d = reader.next() { out.shipments.append(d) }
                out.findings = reader.findings
            }
            return .success(out)
        }
    }

    static func open(_ text: String, name: String = "file", channel: Channel = .orders,
                     configuration: SpoolConfiguration = SpoolConfiguration()) throws -> Opened {
        try open(Array(text.utf8), name: name, channel: channel, configuration: configuration).get()
    }

    /// Every draft through the validator; fails the test on any finding.
    static func orders(_ opened: Opened, validator: OrderValidator = OrderValidator(),
                       file: StaticString = #filePath, line: UInt = #line) -> [Order] {
        XCTAssertEqual(opened.findings, [], file: file, line: line)
        return opened.drafts.compactMap { draft in
            let (order, problems) = validator.validate(draft)
            XCTAssertEqual(problems, [], "order \(draft.id?.value ?? "?")", file: file, line: line)
            return order
        }
    }

    /// Text in a single-byte code page, byte by byte from a table of the letters used.
    static func encode(_ text: String, _ encoding: TextEncoding) -> [UInt8] {
        let table: [UInt32]
        switch encoding {
        case .windows1250: table = singleByteWindows1250
        case .iso8859_2: table = singleByteISO8859_2
        case .utf8: return Array(text.utf8)
        case .utf16LE:
            return [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case .utf16BE:
            return [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        }
        return text.unicodeScalars.map { scalar in
            guard let byte = table.firstIndex(of: scalar.value) else {
                XCTFail("\(scalar) has no byte in \(encoding.rawValue)")
                return UInt8(ascii: "?")
            }
            return UInt8(byte)
        }
    }

    /// The compact UBL 2.1 Order schema (three documents), compiled once. XMLSupport's
    /// loader refuses every external load, so for the time of compiling, and only then,
    /// a loader that serves the two imported parts from memory stands in.
    static let ublOutputSchema: XMLSchema = {
        _ = Fixture.schemas // XMLSupport installs its refusing loader first
        let saved = xmlGetExternalEntityLoader()
        xmlSetExternalEntityLoader(formatsUBLPartsLoader)
        defer { xmlSetExternalEntityLoader(saved) }
        return try! XMLSchema(xsd: Schemas.ublOrderOutputXSD, name: "edidrop-ubl-order.xsd")
    }()

    /// libxml2's problems with `xml` against the compact UBL Order schema.
    static func ublProblems(_ xml: String) -> [XMLProblem] {
        var source = BytesSource(xml)
        let reader = XMLStreamReader(documentName: "ubl.xml", schema: ublOutputSchema) { try source.read(into: $0) }
        while reader.next() != nil {}
        return reader.problems
    }

    static func ublOrderReader(_ xml: String) -> UBLOrderReader {
        var source = BytesSource(xml)
        return UBLOrderReader(reader: XMLStreamReader(documentName: "ubl.xml", schema: nil) { try source.read(into: $0) })
    }
}

private func formatsUBLPartsLoader(_ url: UnsafePointer<CChar>?, _ id: UnsafePointer<CChar>?,
                                   _ context: xmlParserCtxtPtr?) -> xmlParserInputPtr? {
    guard let url, let context else { return nil }
    let name = String(cString: url)
    guard let part = Schemas.ublOrderOutputParts.first(where: { name.hasSuffix($0.key) })?.value else { return nil }
    let bytes = Array(part.utf8)
    let buffer = bytes.withUnsafeBufferPointer { p in
        p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
            xmlParserInputBufferCreateMem($0, Int32(bytes.count), XML_CHAR_ENCODING_NONE)
        }
    }
    guard let buffer else { return nil }
    return xmlNewIOInputStream(context, buffer, XML_CHAR_ENCODING_NONE)
}
