public struct XMLAttribute: Sendable, Equatable {
    public var localName: String
    public var namespaceURI: String?
    public var value: String

    public init(localName: String, namespaceURI: String? = nil, value: String) {
        self.localName = localName
        self.namespaceURI = namespaceURI
        self.value = value
    }
}

public struct XMLStart: Sendable {
    public var localName: String
    public var namespaceURI: String?
    /// Namespace declarations (xmlns, xmlns:p) are not listed: they are not data.
    public var attributes: [XMLAttribute]
    /// Line of the start tag's closing ">", as libxml2 records it. Past line 65534 libxml2
    /// keeps no line for elements; the line where the tag begins is derived from the text
    /// before it instead (exact for documents with line breaks between tags, never ahead of
    /// the true line, never lower than the previous start's line).
    public var line: Int
    /// 0 for the root.
    public var depth: Int
    /// `<a/>`; an `.end` event follows right after.
    public var isEmptyElement: Bool

    public init(localName: String, namespaceURI: String? = nil, attributes: [XMLAttribute] = [],
                line: Int, depth: Int, isEmptyElement: Bool = false) {
        self.localName = localName
        self.namespaceURI = namespaceURI
        self.attributes = attributes
        self.line = line
        self.depth = depth
        self.isEmptyElement = isEmptyElement
    }

    /// The value of the attribute without namespace called `localName`.
    public func attribute(_ localName: String) -> String? {
        attributes.first { $0.namespaceURI == nil && $0.localName == localName }?.value
    }
}

public enum XMLEvent: Sendable {
    /// For `<a/>` an `.end` follows right after.
    case start(XMLStart)
    case end(localName: String, namespaceURI: String?, depth: Int)
    /// Character data and CDATA sections, adjacent pieces joined (comments and processing
    /// instructions in between are skipped, so "a<!--x-->b" arrives as "ab").
    /// Whitespace-only text is not reported. `line` is the line of the text's first
    /// character (which may be a line break), as far as libxml2's bookkeeping allows.
    case text(String, line: Int)
}
