import CLibXML2

/// Process-wide libxml2 preparation shared by `XMLSchema` and `XMLStreamReader`.
enum LibXML2Setup {
    /// NONET: no network even if something slipped past the loader below.
    /// BIG_LINES: without it libxml2 stops counting text lines at 65535.
    /// Deliberately absent: NOENT (entity expansion is the door to XXE and billion laughs),
    /// DTDLOAD / DTDATTR / DTDVALID (they fetch and apply external DTDs), HUGE (it lifts the
    /// depth, text-size and amplification limits that keep hostile input cheap).
    static let parserOptions: Int32 = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_BIG_LINES.rawValue)

    /// The external entity loader is one C global for the whole process, not a per-parser
    /// setting, so it is installed exactly once; a Swift static `let` gives a thread-safe
    /// one-time initialisation before the first parser or schema compiler can run.
    /// xmlInitParser belongs here too: libxml2 wants it called once before any
    /// concurrent use.
    private static let prepared: Bool = {
        xmlInitParser()
        xmlSetExternalEntityLoader(refuseEveryExternalLoad)
        return true
    }()

    static func prepare() {
        _ = prepared
        edidrop_xml_silence_generic_errors()
    }

    /// Runs `body` with libxml2's structured error handler of this thread (a per-thread
    /// global in libxml2) pointed at `handler`, and puts the previous one back after: some
    /// errors reach only that handler, not the ones a context can be given.
    static func withStructuredErrors<T>(to handler: xmlStructuredErrorFunc, context: UnsafeMutableRawPointer,
                                        _ body: () -> T) -> T {
        let savedHandler = __xmlStructuredError().pointee
        let savedContext = __xmlStructuredErrorContext().pointee
        xmlSetStructuredErrorFunc(context, handler)
        defer { xmlSetStructuredErrorFunc(savedContext, savedHandler) }
        return body()
    }
}

/// Every file, URL or catalog lookup libxml2 would make for an external DTD, an external
/// entity or an xs:include goes through this loader; refusing here means no input can make
/// the parser open anything, whatever options a future change might add.
private func refuseEveryExternalLoad(_ url: UnsafePointer<CChar>?, _ id: UnsafePointer<CChar>?,
                                     _ context: xmlParserCtxtPtr?) -> xmlParserInputPtr? {
    nil
}
