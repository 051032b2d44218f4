import SFTPSupport
import XCTest

final class SFTPLocationTests: XCTestCase {
    func testParsesUserHostPortAndPath() throws {
        let location = try XCTUnwrap(SFTPLocation(url: "sftp://edi@warehouse.example.com:2222/in/orders"))
        XCTAssertEqual(location, SFTPLocation(user: "edi", host: "warehouse.example.com", port: 2222, path: "/in/orders"))
        XCTAssertEqual(location.description, "sftp://edi@warehouse.example.com:2222/in/orders")
    }

    func testDefaultsAndSpellings() throws {
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@Warehouse.Example.COM/out"),
                       SFTPLocation(user: "edi", host: "warehouse.example.com", port: 22, path: "/out"))
        XCTAssertEqual(SFTPLocation(url: "SFTP://edi@10.0.0.5")?.path, "/")
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@h:/x")?.port, 22)
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@[::1]:2200/x"),
                       SFTPLocation(user: "edi", host: "::1", port: 2200, path: "/x"))
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@[::1]:2200/x")?.description, "sftp://edi@[::1]:2200/x")
        // The sftp URI draft's home-relative form.
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@h/~/in")?.path, "in")
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@h/~/")?.path, ".")
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@h/~")?.path, ".")
        XCTAssertEqual(SFTPLocation(url: "sftp://edi@h/~/in")?.description, "sftp://edi@h/~/in")
    }

    func testPercentDecoding() throws {
        let location = try XCTUnwrap(SFTPLocation(url: "sftp://edi%40shop@h/Zam%C3%B3wienia%20PL/in%2Fout"))
        XCTAssertEqual(location.user, "edi@shop")
        XCTAssertEqual(location.path, "/Zamówienia PL/in/out")
        XCTAssertEqual(location.description, "sftp://edi%40shop@h/Zam%C3%B3wienia%20PL/in/out")
    }

    func testRejectsWhatIsNotAnSFTPLocation() {
        for url in [
            "", "sftp://", "http://edi@h/x", "sftp:/edi@h/x", "edi@h:/x",
            "sftp://h/x",                 // no user
            "sftp://@h/x",                // empty user
            "sftp://edi:secret@h/x",      // password in the URL
            "sftp://edi@/x",              // no host
            "sftp://edi@h:0/x", "sftp://edi@h:65536/x", "sftp://edi@h:22a/x", "sftp://edi@h:-1/x",
            "sftp://edi@[::1/x", "sftp://edi@[::1]x/x",
            "sftp://edi@h/x?y=1", "sftp://edi@h/x#frag",
            "sftp://edi@h/bad%2", "sftp://edi@h/bad%zz", "sftp://edi@h/nul%00", "sftp://edi@h/latin%E9",
        ] {
            XCTAssertNil(SFTPLocation(url: url), url)
        }
    }
}
