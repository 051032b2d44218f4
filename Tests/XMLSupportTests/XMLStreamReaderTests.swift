import XCTest
@testable import XMLSupport

final class XMLStreamReaderTests: XCTestCase {
    func testEventsOfASimpleDocument() {
        let doc = """
        <?xml version="1.0"?>
        <orders xmlns="urn:x" xmlns:p="urn:p" version="2">
          <order id="7" p:flag="yes">
            <qty>5</qty>
            <empty/>
            <blank></blank>
          </order>
        </orders>
        """
        let r = readAll(doc)
        XCTAssertFalse(r.failed)
        XCTAssertEqual(r.problems, [])
        let starts = r.starts
        XCTAssertEqual(starts.map(\.localName), ["orders", "order", "qty", "empty", "blank"])
        XCTAssertEqual(starts.map(\.line), [2, 3, 4, 5, 6])
        XCTAssertEqual(starts.map(\.depth), [0, 1, 2, 2, 2])
        XCTAssertEqual(starts.map(\.isEmptyElement), [false, false, false, true, false])
        XCTAssertTrue(starts.allSatisfy { $0.namespaceURI == "urn:x" })
        // Namespace declarations are not attributes; a prefixed attribute keeps its namespace.
        XCTAssertEqual(starts[0].attributes, [XMLAttribute(localName: "version", value: "2")])
        XCTAssertEqual(starts[1].attributes, [XMLAttribute(localName: "id", value: "7"),
                                              XMLAttribute(localName: "flag", namespaceURI: "urn:p", value: "yes")])
        XCTAssertEqual(starts[1].attribute("id"), "7")
        XCTAssertNil(starts[1].attribute("flag"), "attribute(_:) only finds attributes without namespace")
        XCTAssertEqual(r.texts, ["5"])

        var shape: [String] = []
        for event in r.events {
            switch event {
            case .start(let s): shape.append("<\(s.localName)@\(s.depth)")
            case .end(let name, let uri, let depth):
                XCTAssertEqual(uri, "urn:x")
                shape.append("</\(name)@\(depth)")
            case .text(let t, let line): shape.append("'\(t)'@\(line)")
            }
        }
        XCTAssertEqual(shape, ["<orders@0", "<order@1", "<qty@2", "'5'@4", "</qty@2", "<empty@2", "</empty@2",
                               "<blank@2", "</blank@2", "</order@1", "</orders@0"])
    }

    func testAdjacentTextCDATAAndReferencesArriveAsOneEvent() {
        let r = readAll("<a>\n  <b>x &amp; <![CDATA[<y>]]><!-- note -->z&#65;</b>\n  <c>   </c>\n</a>")
        XCTAssertFalse(r.failed)
        // Whitespace-only text (indentation, and the blank <c>) is not reported.
        XCTAssertEqual(r.events.count, 7)
        guard case .text(let text, let line) = r.events[2] else { return XCTFail("expected text, got \(r.events[2])") }
        XCTAssertEqual(text, "x & <y>zA")
        XCTAssertEqual(line, 2)
    }

    func testAttributeValuesWithReferencesArriveDecoded() {
        // libxml2 passes "&" on as the text "&#38;" when entities are not replaced; the
        // reader must undo exactly that and nothing more ("&amp;#38;" stays "&#38;").
        let r = readAll(#"<a v="x &amp; y &#38; z &#x26; &lt;b&gt; &amp;#38; &quot;q&quot;" w="&#233;&amp;"/>"#)
        XCTAssertFalse(r.failed, describe(r))
        XCTAssertEqual(r.starts.first?.attribute("v"), #"x & y & z & <b> &#38; "q""#)
        XCTAssertEqual(r.starts.first?.attribute("w"), "é&")
    }

    func testTextLineIsWhereTheTextBegins() {
        let r = readAll("<a>\n<b>first\nsecond\nthird</b>\n<c>\n  indented\n</c><d>one &amp; two\nthree</d>\n</a>")
        XCTAssertFalse(r.failed)
        let lines = r.events.compactMap { event -> Int? in
            if case .text(_, let line) = event { return line } else { return nil }
        }
        XCTAssertEqual(r.texts, ["first\nsecond\nthird", "\n  indented\n", "one & two\nthree"])
        XCTAssertEqual(lines, [2, 5, 7])
    }

    func testTinyReadsGiveTheSameEventsAsLargeOnes() {
        var doc = "<list>\n"
        for i in 0..<200 { doc += "  <item n=\"\(i)\">value \(i) with some text to cross chunk borders</item>\n" }
        doc += "</list>\n"
        let small = readAll(doc, chunk: 1)
        let large = readAll(doc, chunk: 1 << 16)
        XCTAssertFalse(small.failed)
        XCTAssertEqual(describe(small), describe(large))
        XCTAssertEqual(small.texts.count, 200)
        XCTAssertEqual(small.texts[199], "value 199 with some text to cross chunk borders")
        XCTAssertEqual(small.starts.last?.line, 201)
    }

    func testTagMismatchIsFatalMalformedWithLine() {
        let reader = XMLStreamReader(documentName: "bad.xml", schema: nil,
                                     read: byteSource(Array("<orders>\n<order>\n</orders>\n<more/>".utf8)))
        while reader.next() != nil {}
        XCTAssertTrue(reader.failed)
        XCTAssertEqual(reader.problems.count, 1, "follow-on errors are not reported")
        let problem = reader.problems[0]
        XCTAssertEqual(problem.kind, .malformed)
        XCTAssertEqual(problem.line, 3)
        XCTAssertEqual(problem.column, 10)
        XCTAssertEqual(problem.message, "line 3: opening and ending tag mismatch: order line 2 and orders")
        XCTAssertNil(reader.next(), "nothing more after a fatal problem")
    }

    func testEmptyInput() {
        let r = readAll([UInt8]())
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.events.count, 0)
        XCTAssertEqual(r.problems, [XMLProblem(kind: .malformed, line: nil, column: nil, message: "the document is empty")])
    }

    func testInputWithoutRootElement() {
        for doc in ["  \n  ", "<?xml version=\"1.0\"?>\n<!-- only a comment -->\n"] {
            let r = readAll(doc)
            XCTAssertTrue(r.failed)
            XCTAssertEqual(r.problems.map(\.kind), [.malformed])
            XCTAssertTrue(r.problems[0].message.hasSuffix("the document has no root element"), r.problems[0].message)
        }
    }

    func testTruncatedDocumentReportsWhereItEnds() {
        let r = readAll("<a>\n  <b>\n    <c>text")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.count, 1)
        XCTAssertEqual(r.problems[0].kind, .malformed)
        XCTAssertEqual(r.problems[0].line, 3)
        XCTAssertEqual(r.problems[0].message, "line 3: the document ends before element 'c' is closed")
    }

    func testContentAfterTheRootIsMalformed() {
        let r = readAll("<a/>\n<b/>")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.first?.kind, .malformed)
        XCTAssertEqual(r.problems.first?.line, 2)
        XCTAssertEqual(r.problems.first?.message, "line 2: extra content at the end of the document")
    }

    func testUndeclaredNamespacePrefixIsMalformed() {
        let r = readAll("<a>\n<p:b/></a>")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems, [XMLProblem(kind: .malformed, line: 2, column: 5,
                                               message: "line 2: namespace prefix p on b is not defined")])
    }

    func testUndefinedEntityWithoutDoctypeIsMalformed() {
        let r = readAll("<a>\n&nope;</a>")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.map(\.kind), [.malformed])
        XCTAssertEqual(r.problems.first?.message, "line 2: entity 'nope' not defined")
    }

    struct Broken: Error, Equatable {}

    func testErrorFromTheReadClosureIsFatal() {
        let serve = byteSource(Array("<a>\n<b>partial text".utf8), chunk: 8)
        var served = 0
        let reader = XMLStreamReader(documentName: "pipe", schema: nil) { buffer in
            if served >= 12 { throw Broken() }
            let n = try serve(buffer)
            served += n
            return n
        }
        while reader.next() != nil {}
        XCTAssertTrue(reader.failed)
        XCTAssertEqual(reader.problems, [XMLProblem(kind: .malformed, message: "could not read input")])
        XCTAssertEqual(reader.readError as? Broken, Broken())
    }

    func testReadClosureClaimingTooManyBytesIsFatal() {
        let reader = XMLStreamReader(documentName: "liar", schema: nil) { buffer in buffer.count + 1 }
        XCTAssertNil(reader.next())
        XCTAssertTrue(reader.failed)
        XCTAssertEqual(reader.problems.map(\.message), ["could not read input"])
    }

    func testNextKeepsReturningNilAtTheEnd() {
        let reader = XMLStreamReader(documentName: "x", schema: nil, read: byteSource(Array("<a/>".utf8)))
        var count = 0
        while reader.next() != nil { count += 1 }
        XCTAssertEqual(count, 2)
        XCTAssertNil(reader.next())
        XCTAssertNil(reader.next())
        XCTAssertFalse(reader.failed)
    }

    func testLinesPastLibXML2sSixteenBitLimit() {
        // libxml2 stops recording element lines at 65535; check the replacement is exact
        // for containers, leaves and empty elements alike.
        var doc = "<root>\n"
        var expected: [String: Int] = [:]
        var line = 2
        for i in 0..<40_000 {
            if i % 3 == 0 {
                doc += "<g n=\"\(i)\">\n  <b n=\"b\(i)\"/>\n  <c>x</c>\n</g>\n"
                expected["\(i)"] = line
                expected["b\(i)"] = line + 1
                line += 4
            } else {
                doc += "<a n=\"\(i)\">v</a>\n"
                expected["\(i)"] = line
                line += 1
            }
        }
        doc += "<last>end</last>\n</root>\n"
        let r = readAll(doc)
        XCTAssertFalse(r.failed)
        XCTAssertGreaterThan(line, 70_000)
        var wrong: [String] = []
        for start in r.starts {
            guard let n = start.attribute("n") else { continue }
            if start.line != expected[n] { wrong.append("\(n): \(start.line) != \(expected[n]!)") }
        }
        XCTAssertEqual(wrong.prefix(5), [])
        XCTAssertEqual(r.starts.last?.line, line)
        guard case .text(let text, let textLine)? = r.events.dropLast(2).last else { return XCTFail("no text") }
        XCTAssertEqual(text, "end")
        XCTAssertEqual(textLine, line)
    }

    func testMessageCleanup() {
        XCTAssertEqual(XMLProblem.cleanMessage("Opening and ending tag mismatch: a line 1 and b\n"),
                       "opening and ending tag mismatch: a line 1 and b")
        XCTAssertEqual(XMLProblem.cleanMessage("Input is not proper UTF-8, indicate encoding !\nBytes: 0xE9 0x3C\n"),
                       "input is not proper UTF-8, indicate encoding ! Bytes: 0xE9 0x3C")
        XCTAssertEqual(XMLProblem.cleanMessage("PCDATA invalid Char value 1\n"), "PCDATA invalid Char value 1")
        XCTAssertEqual(XMLProblem.cleanMessage("  \n"), "unknown XML problem")
    }
}
