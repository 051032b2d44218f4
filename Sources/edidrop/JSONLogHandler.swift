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

    func log(event: LogEvent) {
        var o = JSONObject()
        o.add("ts", .string(Timestamp.iso(Date())))
        o.add("level", .string(event.level.rawValue))
        o.add("msg", .string(event.message.description))
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in all.keys.sorted() {
            o.add(key, .string(all[key]!.description))
        }
        FileHandle.standardError.write(Data((JSONValue.object(o).render() + "\n").utf8))
    }
}
