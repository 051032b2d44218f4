import Foundation
import GRDB
import SFTPSupport

/// Input folders that are `sftp://` addresses: listed over SFTP, settled like local ones,
/// downloaded into work/ as the claim, and removed (or moved to `[sftp] processed`) on
/// the server only after the ledger commit. A crash anywhere leaves either the remote
/// file (taken again) or a committed record whose remote original is finished by recovery.
enum RemoteIntake {
    /// Sidecar written next to a download in work/, naming the remote original, so that a
    /// claim interrupted before its commit still knows what to remove afterwards.
    static func originPath(_ workFolder: String, _ name: String) -> String {
        FileSystem.join(workFolder, ".\(name).origin")
    }

    static func url(_ location: SFTPLocation, _ name: String) -> String {
        var l = location
        l.path = RemoteFolders.join(location.path, name)
        return l.description
    }

    static func scan(_ location: SFTPLocation, channel: Channel, doneMarker: Bool, remotes: RemoteFolders) throws -> [Candidate] {
        let entries = try remotes.with(location) { try $0.list(location.path) }
        let names = Set(entries.map(\.name))
        var out: [Candidate] = []
        for e in entries.sorted(by: { $0.name < $1.name }) {
            if e.isDirectory || CandidateRules.isUnfinishedName(e.name) || e.name.hasSuffix(CandidateRules.doneSuffix) { continue }
            if doneMarker && !names.contains(e.name + CandidateRules.doneSuffix) { continue }
            let kind: FileStatus.Kind = e.isRegularFile ? .regular : (e.isSymlink ? .symlink : .other)
            out.append(Candidate(channel: channel, name: e.name, path: url(location, e.name),
                                 status: FileStatus(kind: kind, size: e.size, modified: e.modified * 1_000_000_000, inode: 0, device: 0)))
        }
        return out
    }

    /// Downloads a settled remote file into work/<channel>/ (complete and fsynced before it
    /// gets its work name). A file the ledger already committed (its removal on the server
    /// failed) is not taken again: only its removal is retried. Returns nil then.
    static func claim(_ c: Candidate, location: SFTPLocation, spool: Spool, ledger: Ledger, remotes: RemoteFolders) throws -> ClaimedFile? {
        if try ledger.read({ db in try Int.fetchOne(db, sql: "SELECT 1 FROM files WHERE source_path = ? LIMIT 1", arguments: [c.path]) }) != nil {
            try finish(c.path, spool: spool, remotes: remotes)
            return nil
        }
        guard c.status.kind == .regular else {
            // Links and specials on the server are never followed; leave them for a person.
            return nil
        }
        let folder = spool.workFolder(for: c.channel)
        var workName = c.name
        var n = 1
        while FileSystem.exists(FileSystem.join(folder, workName)) {
            n += 1
            workName = "\(c.name)~w\(n)"
        }
        let origin = originPath(folder, workName)
        try FileSystem.writeDurably(Array(c.path.utf8), to: origin)
        let partial = FileSystem.join(folder, ".\(workName).download")
        try FileSystem.removeFile(partial)
        _ = try remotes.with(location) { try $0.download(RemoteFolders.join(location.path, c.name), to: partial) }
        let target = FileSystem.join(folder, workName)
        try FileSystem.renameNoReplace(from: partial, to: target)
        try FileSystem.syncDirectory(folder)
        guard let status = try FileSystem.status(target) else { return nil }
        return ClaimedFile(channel: c.channel, name: c.name, workName: workName, workPath: target, sourcePath: c.path, status: status)
    }

    /// After the commit: the remote original moves to the processed folder (or goes).
    /// Repeating it is harmless: a file already gone is done.
    static func finish(_ sourceURL: String, spool: Spool, remotes: RemoteFolders) throws {
        guard let source = SFTPLocation(url: sourceURL) else { return }
        let processed = spool.configuration.sftp.processed
        try remotes.with(source) { c in
            guard try c.stat(source.path) != nil else { return }
            if processed.isEmpty {
                try c.remove(source.path)
                return
            }
            let dir = processed.hasPrefix("/") ? processed
                : RemoteFolders.join(String(source.path[..<(source.path.lastIndex(of: "/") ?? source.path.startIndex)]), processed)
            try c.makeDirectory(dir)
            let name = FileSystem.fileName(of: source.path)
            var target = RemoteFolders.join(dir, name)
            var k = 1
            while try c.stat(target) != nil {
                k += 1
                target = RemoteFolders.join(dir, "\(name)~\(k)")
            }
            try c.rename(source.path, target)
        }
    }
}
