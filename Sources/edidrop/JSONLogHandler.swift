import EDIDrop
import Foundation
import Logging

/// `--log-format json`: one JSON object per line on stderr, for journald, Loki and the like.
/// Metadata keys become fields as they are ("file.name", "error"...).
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
             source: String, file: String, function: String, line: UInt) {
        var o = JSONObject()
        o.add("ts", .string(Timestamp.iso(Date())))
        o.add("level", .string(level.rawValue))
        o.add("msg", .string(message.description))
        let all = metadata.merging(explicit ?? [:]) { $1 }
        for key in all.keys.sorted() {
            o.add(key, .string(all[key]!.description))
        }
        FileHandle.standardError.write(Data((JSONValue.object(o).render() + "\n").utf8))
    }
}
