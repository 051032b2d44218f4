import Foundation
import XCTest
@testable import EDIDrop

final class JSONValueTests: XCTestCase {
    func testScalars() {
        XCTAssertEqual(JSONValue.null.render(), "null")
        XCTAssertEqual(JSONValue.bool(true).render(), "true")
        XCTAssertEqual(JSONValue.bool(false).render(), "false")
        XCTAssertEqual(JSONValue.int(0).render(), "0")
        XCTAssertEqual(JSONValue.int(-42).render(), "-42")
        XCTAssertEqual(JSONValue.int(Int.max).render(), "9223372036854775807")
        XCTAssertEqual(JSONValue.double(1.5).render(), "1.5")
        XCTAssertEqual(JSONValue.double(.nan).render(), "null", "JSON has no NaN")
        XCTAssertEqual(JSONValue.double(.infinity).render(), "null")
        XCTAssertEqual(JSONValue.string("").render(), "\"\"")
        XCTAssertEqual(JSONValue.optional(nil as String?).render(), "null")
        XCTAssertEqual(JSONValue.optional("x").render(), "\"x\"")
        XCTAssertEqual(JSONValue.optional(nil as Int?).render(), "null")
        XCTAssertEqual(JSONValue.optional(7).render(), "7")
    }

    func testStringEscapes() {
        XCTAssertEqual(JSONValue.string("a\"b").render(), #""a\"b""#)
        XCTAssertEqual(JSONValue.string("a\\b").render(), #""a\\b""#)
        XCTAssertEqual(JSONValue.string("a\nb\rc\td").render(), #""a\nb\rc\td""#)
        XCTAssertEqual(JSONValue.string("\u{0}\u{1}\u{1F}\u{7F}").render(), #""\u0000\u0001\u001f\u007f""#)
        XCTAssertEqual(JSONValue.string("a\u{2028}b\u{2029}c").render(), #""a\u2028b\u2029c""#,
                       "line separators break JavaScript string literals")
        XCTAssertEqual(JSONValue.string("/").render(), #""/""#)
        XCTAssertEqual(JSONValue.string("Zażółć gęślą jaźń 😀").render(), "\"Zażółć gęślą jaźń 😀\"", "no need to escape non-ASCII")
        XCTAssertEqual(JSONValue.string("\u{1B}[31m").render(), #""\u001b[31m""#)
    }

    func testEscapedStringsReadBackIdentically() throws {
        var all = ""
        for v in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(v)!) }
        all += "ąę\u{2028}😀"
        let rendered = JSONValue.array([.string(all)]).render()
        let back = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(rendered.utf8)) as? [String])
        XCTAssertEqual(back, [all])
    }

    func testObjectsKeepInsertionOrder() {
        var o = JSONObject()
        o.add("zeta", .int(1))
        o.add("alpha", .null)
        o.add("mid", .string("x"))
        XCTAssertEqual(JSONValue.object(o).render(), #"{"zeta":1,"alpha":null,"mid":"x"}"#)

        var k = JSONObject()
        k.add("we\"ird\nkey", .bool(true))
        XCTAssertEqual(JSONValue.object(k).render(), #"{"we\"ird\nkey":true}"#)
    }

    func testNestedCompactAndPretty() {
        var inner = JSONObject()
        inner.add("b", .array([.int(1), .null, .string("x")]))
        inner.add("c", .object(JSONObject()))
        var outer = JSONObject()
        outer.add("a", .object(inner))
        outer.add("d", .array([]))
        outer.add("e", .array([.array([.int(2)])]))
        let value = JSONValue.object(outer)
        XCTAssertEqual(value.render(), #"{"a":{"b":[1,null,"x"],"c":{}},"d":[],"e":[[2]]}"#)
        XCTAssertEqual(value.render(pretty: true), """
        {
          "a": {
            "b": [
              1,
              null,
              "x"
            ],
            "c": {}
          },
          "d": [],
          "e": [
            [
              2
            ]
          ]
        }
        """)
    }

    func testObjectEqualityDependsOnOrder() {
        var a = JSONObject(), b = JSONObject(), c = JSONObject()
        a.add("x", .int(1)); a.add("y", .int(2))
        b.add("x", .int(1)); b.add("y", .int(2))
        c.add("y", .int(2)); c.add("x", .int(1))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
