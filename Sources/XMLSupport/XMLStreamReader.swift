import Foundation
import HandOff

/// Reads an XML document as a stream of events, optionally validating it against an
/// `XMLSchema` on the way.
///
/// Underneath is libxml2's SAX2 push parser (`SAXParser`), fed a chunk of input at a
/// time, with the schema plugged into its event flow. A chunk's events are collected in
/// a compact batch and handed out one by one, so memory stays flat whatever the document
/// size. (xmlTextReader, used before, builds a node for every element and validates
/// through a slower relay: the same schema work took 1.6 times as long.)
///
/// With `concurrent`, parsing and validation run on a thread of their own, a few chunks
/// ahead of the caller, who turns batches into events: for a big document the two halves
/// of the work then overlap. Nothing else changes: the same events, problems and order.
///
/// Fatal problems (not well-formed, bad encoding, a DOCTYPE with entities, too deep, input
/// that cannot be read) stop the stream: the events before the point of the problem are
/// still handed out, then `next()` returns nil, `failed` is true and the last entry of
/// `problems` says why. Schema validity errors are not fatal: reading goes on so that
/// every one of them in the document is collected.
///
/// Problems may be found before the events that precede them in the document have been
/// handed out, because a whole chunk is parsed before its first event is handed out.
public final class XMLStreamReader {
    public let documentName: String
    private let maxProblems: Int
    private let parser: SAXParser
    private let concurrent: Bool
    private var handOff: ReadAhead<EventBatch>?
    private var started = false
    private var ended = false

    private var batch = EventBatch()
    private var position = 0
    private var names: [String] = []

    public private(set) var problems: [XMLProblem] = []
    public private(set) var problemsDropped = 0
    public private(set) var failed = false
    public private(set) var readError: (any Error)?
    public private(set) var encodingName: String?

    /// `read` fills the buffer from its start and returns the number of bytes (0 = end of input).
    /// It is first called from the first `next()`, never from `init`; with `concurrent`, it
    /// is called on the parsing thread (one call at a time, never after `next()` returned nil).
    ///
    /// `maxDepth` counts nesting levels: the root is level 1, so an element at depth
    /// `maxDepth` (0-based) is too deep. libxml2 itself refuses more than 257 levels
    /// (without XML_PARSE_HUGE, which stays off), so larger values act as 257.
    public init(documentName: String, schema: XMLSchema?, maxDepth: Int = 256, maxProblems: Int = 1000,
                concurrent: Bool = false, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.documentName = documentName
        self.maxProblems = maxProblems
        self.concurrent = concurrent
        parser = SAXParser(documentName: documentName, schema: schema, maxDepth: max(1, maxDepth),
                           maxProblems: maxProblems, read: read)
    }

    deinit {
        handOff?.close()
    }

    // In document order, at most `maxProblems` of them in `problems`; when the cap is
    // reached a fatal problem still replaces the last entry so the reason for stopping is
    // never lost. `problemsDropped`: how many more were found past the cap. `failed`: a
    // fatal problem stopped reading. `readError`: the error thrown by the `read` closure,
    // if one was (the problem only says "could not read input"). `encodingName`: the
    // encoding libxml2 decodes the document with (e.g. "UTF-8", "UTF-16", "ISO-8859-1"),
    // nil before the first `next()`; libxml2 only names an encoding that was declared,
    // otherwise the byte order mark decides, and without either it is UTF-8, as XML
    // prescribes and libxml2 does.

    /// The next event, or nil at the end of the document or after a fatal problem.
    public func next() -> XMLEvent? {
        while true {
            if position < batch.records.count {
                position += 1
                return event(batch.records[position - 1])
            }
            if ended { return nil }
            take(nextBatch())
        }
    }

    private func nextBatch() -> EventBatch {
        guard concurrent else { return parser.nextBatch() }
        if !started {
            started = true
            // Batches parsed ahead: enough to keep both threads busy, few enough to keep memory flat.
            handOff = ReadAhead(capacity: 4, threadName: "edidrop-xml-parse") { [parser] ahead in
                while true {
                    let batch = parser.nextBatch()
                    if !ahead.put(batch) || batch.isLast { return }
                }
            }
        }
        return handOff?.take() ?? EventBatch(isLast: true)
    }

    private func take(_ next: EventBatch) {
        batch = next
        position = 0
        names += batch.names
        if let name = batch.encodingName { encodingName = name }
        if let error = batch.readError { readError = error }
        problemsDropped += batch.dropped
        for (problem, fatal) in batch.problems {
            if fatal { failed = true }
            if problems.count < maxProblems {
                problems.append(problem)
            } else {
                problemsDropped += 1
                if fatal && !problems.isEmpty { problems[problems.count - 1] = problem }
            }
        }
        if batch.isLast {
            ended = true
            handOff?.close()
            handOff = nil
        }
    }

    private func event(_ record: EventBatch.Record) -> XMLEvent {
        switch record {
        case let .start(name, namespace, line, depth, empty, attributes):
            var list: [XMLAttribute] = []
            if !attributes.isEmpty {
                list.reserveCapacity(attributes.count)
                for attribute in batch.attributes[attributes] {
                    list.append(XMLAttribute(localName: names[Int(attribute.name)], namespaceURI: self.name(attribute.namespace),
                                             value: text(attribute.value)))
                }
            }
            return .start(XMLStart(localName: names[Int(name)], namespaceURI: self.name(namespace), attributes: list,
                                   line: line, depth: depth, isEmptyElement: empty))
        case let .end(name, namespace, depth):
            return .end(localName: names[Int(name)], namespaceURI: self.name(namespace), depth: depth)
        case let .text(range, line):
            return .text(text(range), line: line)
        }
    }

    private func name(_ number: Int32) -> String? {
        number < 0 ? nil : names[Int(number)]
    }

    private func text(_ range: Range<Int>) -> String {
        batch.bytes.withBytes(range) { String(decoding: $0, as: UTF8.self) }
    }
}
