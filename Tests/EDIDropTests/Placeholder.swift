import XCTest
final class PlaceholderTests_EDIDropTests: XCTestCase { func testNothing() {} }
