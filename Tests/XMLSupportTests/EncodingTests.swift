import XCTest
@testable import XMLSupport

func utf16LE(_ text: String) -> [UInt8] { text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }
func utf16BE(_ text: String) -> [UInt8] { text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } }

final class EncodingTests: XCTestCase {
    func testInvalidUTF8IsAnEncodingProblem() {
        let r = readAll(Array("<a>\n<b>".utf8) + [0xE9] + Array("t</b></a>".utf8))
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.count, 1)
        XCTAssertEqual(r.problems[0].kind, .encoding)
        XCTAssertEqual(r.problems[0].line, 2)
        XCTAssertTrue(r.problems[0].message.hasPrefix("line 2: input is not proper UTF-8"), r.problems[0].message)
    }

    func testUnsupportedEncodingIsAnEncodingProblem() {
        let r = readAll("<?xml version=\"1.0\" encoding=\"X-NO-SUCH\"?>\n<a/>")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems, [XMLProblem(kind: .encoding, line: 1, column: 41,
                                               message: "line 1: unsupported encoding X-NO-SUCH")])
    }

    func testForbiddenControlCharacterIsAnEncodingProblem() {
        let r = readAll("<a>\n\u{1}</a>")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.map(\.kind), [.encoding])
        XCTAssertEqual(r.problems.first?.message, "line 2: PCDATA invalid Char value 1")
    }

    func testUTF8BytesLabelledUTF16() {
        let r = readAll("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<a/>")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.map(\.kind), [.encoding])
        XCTAssertEqual(r.problems.first?.message, "line 1: document labelled UTF-16 but has UTF-8 content")
    }

    func testDeclaredLatin1IsDecoded() {
        let r = readAll(Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a k=\"".utf8) + [0xE9]
                        + Array("\">".utf8) + [0xE9] + Array("</a>".utf8))
        XCTAssertFalse(r.failed)
        XCTAssertEqual(r.texts, ["é"])
        XCTAssertEqual(r.starts.first?.attribute("k"), "é")
        XCTAssertEqual(r.encodingName, "ISO-8859-1")
    }

    /// Finding: libxml2 2.9.14 lets `encoding="ISO-8859-1"` override a UTF-8 byte order
    /// mark and would deliver "é" as "Ã©" without complaint. The reader refuses the
    /// contradiction itself before any garbled event is handed out.
    func testUTF8ByteOrderMarkWithLatin1DeclarationIsRefused() {
        let r = readAll([0xEF, 0xBB, 0xBF] + Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a>é</a>".utf8))
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.events.count, 0)
        XCTAssertEqual(r.problems, [XMLProblem(
            kind: .encoding, line: 1, column: 1,
            message: "line 1: the document starts with a UTF-8 byte order mark but declares encoding ISO-8859-1")])
    }

    func testUTF8ByteOrderMarkWithMatchingOrNoDeclaration() {
        for prolog in ["<?xml version=\"1.0\" encoding=\"utf-8\"?>", ""] {
            let r = readAll([0xEF, 0xBB, 0xBF] + Array("\(prolog)<a>é</a>".utf8))
            XCTAssertFalse(r.failed, prolog)
            XCTAssertEqual(r.texts, ["é"])
        }
    }

    /// Finding: a UTF-16LE document with a byte order mark is decoded correctly, with or
    /// without an encoding declaration; libxml2 names the encoding only when declared.
    func testUTF16LittleEndianWithByteOrderMark() {
        let declared = readAll([0xFF, 0xFE] + utf16LE("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<a n=\"ü\">é€</a>"))
        XCTAssertFalse(declared.failed)
        XCTAssertEqual(declared.texts, ["é€"])
        XCTAssertEqual(declared.starts.first?.attribute("n"), "ü")
        XCTAssertEqual(declared.starts.first?.line, 2)
        XCTAssertEqual(declared.encodingName, "UTF-16")

        let bare = readAll([0xFF, 0xFE] + utf16LE("<a>é</a>"))
        XCTAssertFalse(bare.failed)
        XCTAssertEqual(bare.texts, ["é"])
        XCTAssertEqual(bare.encodingName, "UTF-16LE")
    }

    func testUTF16BigEndianWithByteOrderMark() {
        let r = readAll([0xFE, 0xFF] + utf16BE("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>é</a>"))
        XCTAssertFalse(r.failed)
        XCTAssertEqual(r.texts, ["é"])
    }

    /// Finding: a UTF-16 byte order mark followed by a declaration of ISO-8859-1 makes
    /// libxml2 switch to Latin-1 and then fail on the zero bytes: an encoding problem.
    func testUTF16ByteOrderMarkWithLatin1Declaration() {
        let r = readAll([0xFF, 0xFE] + utf16LE("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a>é</a>"))
        XCTAssertTrue(r.failed)
        XCTAssertEqual(r.problems.map(\.kind), [.encoding])
        XCTAssertEqual(r.problems.first?.message, "line 2: char 0x0 out of allowed range")
    }

    func testEncodingNameDefaultsToUTF8OnceReadingStarted() {
        let reader = XMLStreamReader(documentName: "x", schema: nil, read: byteSource(Array("<a/>".utf8)))
        XCTAssertNil(reader.encodingName)
        while reader.next() != nil {}
        XCTAssertEqual(reader.encodingName, "UTF-8")
    }
}
