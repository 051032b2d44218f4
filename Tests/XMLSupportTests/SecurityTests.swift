import XCTest
import CLibXML2
@testable import XMLSupport

final class SecurityTests: XCTestCase {
    func testParserOptions() {
        let options = UInt32(LibXML2Setup.parserOptions)
        XCTAssertNotEqual(options & XML_PARSE_NONET.rawValue, 0)
        for forbidden in [XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR, XML_PARSE_DTDVALID,
                          XML_PARSE_HUGE, XML_PARSE_XINCLUDE, XML_PARSE_RECOVER] {
            XCTAssertEqual(options & forbidden.rawValue, 0, "option \(forbidden.rawValue) must stay off")
        }
    }

    private func assertForbidden(_ doc: String, file: StaticString = #filePath, line: UInt = #line) -> ReadResult {
        let started = Date()
        let r = readAll(doc)
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "must not expand, load or wait", file: file, line: line)
        XCTAssertTrue(r.failed, file: file, line: line)
        XCTAssertEqual(r.problems.count, 1, describe(r), file: file, line: line)
        XCTAssertEqual(r.problems.first?.kind, .forbiddenDTD, describe(r), file: file, line: line)
        XCTAssertTrue(r.problems.first?.message.contains("document type declarations with entities are not allowed") ?? false,
                      file: file, line: line)
        XCTAssertTrue(r.texts.isEmpty, "no entity text may come out", file: file, line: line)
        return r
    }

    func testExternalEntityToALocalFile() throws {
        let passwd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
        let firstLine = try XCTUnwrap(passwd.split(separator: "\n").first.map(String.init))
        let r = assertForbidden("""
            <?xml version="1.0"?>
            <!DOCTYPE order [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <order><note>&xxe;</note><copy a="x">&xxe;</copy></order>
            """)
        XCTAssertFalse(r.everything.contains(firstLine))
        XCTAssertFalse(r.everything.contains("root:"))
        // The declaration is refused where it stands, before any element is handed out.
        XCTAssertEqual(r.events.count, 0)
        XCTAssertEqual(r.problems.first?.message, "line 2: document type declarations with entities are not allowed")
        XCTAssertEqual(r.problems.first?.line, 2)
    }

    func testExternalEntityOverHTTP() {
        _ = assertForbidden("""
            <?xml version="1.0"?>
            <!DOCTYPE order [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>
            <order>&xxe;</order>
            """)
    }

    func testParameterEntityXXE() {
        _ = assertForbidden("""
            <?xml version="1.0"?>
            <!DOCTYPE order [
              <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">
              %remote;
              <!ENTITY % file SYSTEM "file:///etc/passwd">
            ]>
            <order/>
            """)
    }

    func testExternalDTDReference() {
        _ = assertForbidden("<?xml version=\"1.0\"?>\n<!DOCTYPE order SYSTEM \"file:///etc/passwd\">\n<order/>")
        _ = assertForbidden("<!DOCTYPE order PUBLIC \"-//X//DTD X//EN\" \"http://127.0.0.1:9/x.dtd\">\n<order>&x;</order>")
    }

    func testUnusedInternalEntityIsStillRefused() {
        _ = assertForbidden("<!DOCTYPE order [<!ENTITY company \"ACME\">]>\n<order/>")
    }

    func testBillionLaughs() {
        var doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol \"lol\">\n"
        doc += "  <!ENTITY lol1 \"" + String(repeating: "&lol;", count: 10) + "\">\n"
        for i in 2...9 { doc += "  <!ENTITY lol\(i) \"" + String(repeating: "&lol\(i - 1);", count: 10) + "\">\n" }
        doc += "]>\n<lolz>&lol9;</lolz>\n"
        _ = assertForbidden(doc)
    }

    func testQuadraticBlowup() {
        var doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE kaboom [<!ENTITY a \"" + String(repeating: "x", count: 50_000) + "\">]>\n"
        doc += "<kaboom>" + String(repeating: "&a;", count: 5_000) + "</kaboom>\n"
        let r = assertForbidden(doc)
        XCTAssertLessThan(r.everything.count, 10_000)
    }

    func testAttributeDefaultsInADoctypeAreRefused() {
        let r = readAll("<!DOCTYPE orders [<!ELEMENT orders ANY><!ATTLIST orders v CDATA \"1\">]>\n<orders><order/></orders>")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.first?.kind, .forbiddenDTD, describe(r))
        XCTAssertEqual(r.starts.count, 0, "nothing read past a refused DOCTYPE")
    }

    func testDoctypeWithoutEntitiesIsAccepted() {
        for doc in ["<!DOCTYPE orders>\n<orders><order/></orders>"] {
            let r = readAll(doc)
            XCTAssertFalse(r.failed, describe(r))
            XCTAssertEqual(r.starts.map(\.localName), ["orders", "order"])
            XCTAssertEqual(r.starts[0].attributes, [], "DTD attribute defaults are not applied")
        }
    }

    /// The loader is what keeps a file: URL closed (NONET only covers the network): a schema
    /// including a perfectly good XSD from disk must fail.
    func testExternalEntityLoaderRefusesFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xmlsupport-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let included = folder.appendingPathComponent("part.xsd")
        try """
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="part" type="xs:string"/></xs:schema>
            """.write(to: included, atomically: true, encoding: .utf8)
        let main = """
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
              <xs:include schemaLocation="\(included.absoluteString)"/>
              <xs:element name="whole" type="xs:string"/>
            </xs:schema>
            """
        XCTAssertThrowsError(try XMLSchema(xsd: main, name: "main.xsd")) { error in
            XCTAssertEqual((error as? XMLProblem)?.kind, .schema)
            XCTAssertEqual((error as? XMLProblem)?.line, 2)
        }
        // Without the include the same schema compiles, so the refusal is the loader's.
        XCTAssertNoThrow(try XMLSchema(xsd: main.replacingOccurrences(of: "<xs:include schemaLocation=\"\(included.absoluteString)\"/>",
                                                                      with: ""), name: "main.xsd"))
    }

    func testTenThousandNestedElements() {
        let doc = String(repeating: "<a>\n", count: 10_000) + String(repeating: "</a>", count: 10_000)
        let started = Date()
        let r = readAll(doc)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.count, 1)
        XCTAssertEqual(r.problems[0].kind, .tooDeep)
        XCTAssertEqual(r.problems[0].line, 257, "the 257th nested element, on line 257")
        XCTAssertLessThanOrEqual(r.starts.count, 256)
    }

    func testTooDeepOnOneLineStoppedByLibXML2sOwnLimit() {
        // Parsing runs ahead of the reader, so libxml2's fixed limit (257 levels) can fire
        // before the reader reaches level 257; either way it is .tooDeep.
        let r = readAll(String(repeating: "<a>", count: 10_000))
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.map(\.kind), [.tooDeep])
        XCTAssertEqual(r.problems.first?.line, 1)
    }

    /// SAX passes text on in pieces; joined without a limit, one endless text would grow
    /// memory with the file.
    func testTextLargerThanLibXML2sNodeLimitIsRefused() {
        let limit = ParseState.maxTextLength
        let doc = Array("<a>\n<b>".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: limit + 1) + Array("</b></a>".utf8)
        for concurrent in [false, true] {
            let r = readAll(doc, chunk: 1 << 16, concurrent: concurrent)
            XCTAssertTrue(r.failed)
            XCTAssertEqual(r.problems, [XMLProblem(kind: .malformed, line: 2,
                                                   message: "line 2: a text of more than \(limit) bytes in one piece")])
            XCTAssertTrue(r.texts.isEmpty)
        }
        let fits = Array("<a>".utf8) + [UInt8](repeating: UInt8(ascii: "y"), count: limit) + Array("</a>".utf8)
        let r = readAll(fits, chunk: 1 << 16)
        XCTAssertFalse(r.failed, describe(r).suffix(300).description)
        XCTAssertEqual(r.texts.first?.utf8.count, limit)
    }

    func testCustomMaxDepth() {
        let three = "<a>\n<b>\n<c/>\n</b>\n</a>"
        XCTAssertFalse(readAll(three, maxDepth: 3).failed)
        let four = "<a>\n<b>\n<c>\n<d/>\n</c>\n</b>\n</a>"
        let r = readAll(four, maxDepth: 3)
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems, [XMLProblem(kind: .tooDeep, line: 4,
                                               message: "line 4: elements are nested more than 3 levels deep")])
        XCTAssertEqual(r.starts.map(\.localName), ["a", "b", "c"])
    }
}
