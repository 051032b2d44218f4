import XCTest
@testable import XMLSupport

let testXSD = """
    <?xml version="1.0"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test"
               xmlns="urn:test" elementFormDefault="qualified">
      <xs:element name="orders">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="item" maxOccurs="unbounded">
              <xs:complexType>
                <xs:simpleContent>
                  <xs:extension base="xs:string">
                    <xs:attribute name="qty" type="xs:positiveInteger" use="required"/>
                  </xs:extension>
                </xs:simpleContent>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:schema>
    """

final class SchemaTests: XCTestCase {
    func testValidDocumentPasses() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let r = readAll("<orders xmlns=\"urn:test\">\n  <item qty=\"1\">bolts</item>\n  <item qty=\"20\"/>\n</orders>",
                        schema: schema)
        XCTAssertFalse(r.failed)
        XCTAssertEqual(r.problems, [])
        XCTAssertEqual(r.texts, ["bolts"])
    }

    func testAllSchemaErrorsAreCollectedAndReadingContinues() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let doc = """
            <orders xmlns="urn:test">
              <item qty="1">a</item>
              <item>missing qty</item>
              <item qty="2">b</item>
              <item
                 qty="0">zero</item>
              <item qty="3">last</item>
            </orders>
            """
        let r = readAll(doc, schema: schema)
        XCTAssertFalse(r.failed, "schema errors are not fatal")
        XCTAssertEqual(r.problems.map(\.kind), [.schema, .schema])
        XCTAssertEqual(r.problems.map(\.line), [3, 6])
        XCTAssertEqual(r.problems[0].message,
                       "line 3: element '{urn:test}item': The attribute 'qty' is required but missing.")
        XCTAssertEqual(r.problems[1].message,
                       "line 6: element '{urn:test}item', attribute 'qty': '0' is not a valid value of the atomic type 'xs:positiveInteger'.")
        XCTAssertTrue(r.problems.allSatisfy { $0.column != nil })
        XCTAssertEqual(r.texts, ["a", "missing qty", "b", "zero", "last"])
        guard case .end(let name, _, 0)? = r.events.last else { return XCTFail("did not read to the end") }
        XCTAssertEqual(name, "orders")
    }

    func testUnexpectedElementAndWrongNamespace() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let r = readAll("<orders xmlns=\"urn:test\">\n<item qty=\"1\"/>\n<bogus/>\n</orders>", schema: schema)
        XCTAssertFalse(r.failed)
        XCTAssertEqual(r.problems.map(\.kind), [.schema])
        XCTAssertEqual(r.problems.first?.line, 3)

        let other = readAll("<orders xmlns=\"urn:other\"/>", schema: schema)
        XCTAssertFalse(other.failed)
        XCTAssertEqual(other.problems.map(\.kind), [.schema])
        XCTAssertEqual(other.problems.first?.line, 1)
    }

    func testWellFormednessErrorStillFatalWhileValidating() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let r = readAll("<orders xmlns=\"urn:test\">\n<item/>\n<item qty=\"1\">\n</orders>", schema: schema)
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.map(\.kind), [.schema, .malformed])
        XCTAssertEqual(r.problems.map(\.line), [2, 4])
    }

    func testOneSchemaServesReadersInSequenceAndInParallel() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let good = "<orders xmlns=\"urn:test\"><item qty=\"1\"/></orders>"
        let bad = "<orders xmlns=\"urn:test\">\n<item qty=\"x\"/></orders>"
        for _ in 0..<3 {
            XCTAssertEqual(readAll(good, schema: schema).problems, [])
            XCTAssertEqual(readAll(bad, schema: schema).problems.map(\.line), [2])
        }
        let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            var count = 0
            for _ in 0..<50 { count += readAll(i % 2 == 0 ? good : bad, schema: schema).problems.count }
            results[i] = count
        }
        XCTAssertEqual(Array(results), [0, 50, 0, 50, 0, 50, 0, 50])
    }

    func testProblemCapKeepsTheFatalReason() throws {
        let schema = try XMLSchema(xsd: testXSD, name: "test.xsd")
        let items = String(repeating: "<item/>\n", count: 5)
        let capped = readAll("<orders xmlns=\"urn:test\">\n\(items)</orders>", schema: schema, maxProblems: 2)
        XCTAssertFalse(capped.failed)
        XCTAssertEqual(capped.problems.map(\.line), [2, 3])
        XCTAssertEqual(capped.dropped, 3)

        let broken = readAll("<orders xmlns=\"urn:test\">\n\(items)</order>", schema: schema, maxProblems: 2)
        XCTAssertTrue(broken.failed)
        XCTAssertEqual(broken.problems.map(\.kind), [.schema, .malformed])
        XCTAssertEqual(broken.problems.last?.line, 7)
        XCTAssertEqual(broken.dropped, 4)
    }

    func testBadSchemasThrow() {
        let cases: [(String, Int?)] = [
            ("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n<xs:element name=\"a\"></xs:schema>", 2),
            ("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n\n<xs:element name=\"a\" type=\"nope\"/></xs:schema>", 3),
            ("<notaschema/>", nil),
            ("", nil),
        ]
        for (xsd, line) in cases {
            XCTAssertThrowsError(try XMLSchema(xsd: xsd, name: "bad.xsd"), xsd) { error in
                guard let problem = error as? XMLProblem else { return XCTFail("not an XMLProblem: \(error)") }
                XCTAssertEqual(problem.kind, .schema)
                XCTAssertEqual(problem.line, line, problem.message)
                XCTAssertTrue(problem.message.hasPrefix("schema bad.xsd: "), problem.message)
            }
        }
    }
}
