import Foundation

/// An entry in an input folder that may become a file to process.
public struct Candidate: Sendable, Equatable {
    public var channel: Channel
    public var name: String
    public var path: String
    public var status: FileStatus
    /// Links, FIFOs and devices are never opened; they are moved aside and reported.
    public var isRegularFile: Bool { status.kind == .regular }
}

/// Which names in an input folder are candidates (DESIGN.md "Picking up files safely").
public enum CandidateRules {
    static let unfinishedSuffixes = [".tmp", ".part", ".partial", ".filepart", ".crdownload", ".writing"]
    public static let doneSuffix = ".done"

    /// True for names that mark a file still being written or hidden.
    public static func isUnfinishedName(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasPrefix("~") { return true }
        let lower = name.lowercased()
        return unfinishedSuffixes.contains { lower.hasSuffix($0) }
    }

    /// Lists the candidates of one folder: regular files, links and other non-folders
    /// whose names are not unfinished; in done-marker mode only those whose NAME.done exists.
    public static func scan(folder: String, channel: Channel, doneMarker: Bool) throws -> [Candidate] {
        let names = try FileSystem.list(folder)
        // Only done markers need a set of the names (hashing every name of a big drop was
        // time the run waits for: nothing is claimed before the scan ends).
        let present = doneMarker ? Set(names) : []
        var out: [Candidate] = []
        for name in names.sorted() {
            if isUnfinishedName(name) || name.hasSuffix(doneSuffix) { continue }
            if doneMarker && !present.contains(name + doneSuffix) { continue }
            let path = FileSystem.join(folder, name)
            guard let status = try FileSystem.status(path), status.kind != .directory else { continue }
            out.append(Candidate(channel: channel, name: name, path: path, status: status))
        }
        return out
    }
}

/// The settle rule as a value: a file is ready once its size and modification time have
/// stayed the same across observations at least `settle` seconds apart. Pure, so that it
/// is tested with a made-up clock.
public struct SettleTracker: Sendable {
    struct Seen: Sendable {
        var size: Int64
        var modified: Int64
        var inode: UInt64
        var since: Double
    }

    public var settle: Double
    private var seen: [String: Seen] = [:]

    public init(settle: Double) { self.settle = settle }

    /// Records an observation at time `now` (seconds) and says whether the file is ready.
    public mutating func observe(_ c: Candidate, now: Double) -> Bool {
        // Links and FIFOs have nothing to settle: they are never read.
        if !c.isRegularFile || settle <= 0 { return true }
        let key = c.path
        if let s = seen[key], s.size == c.status.size, s.modified == c.status.modified, s.inode == c.status.inode {
            return now - s.since >= settle
        }
        seen[key] = Seen(size: c.status.size, modified: c.status.modified, inode: c.status.inode, since: now)
        return false
    }

    /// Forgets paths no longer present (or taken), so the table stays small.
    public mutating func keepOnly(_ paths: Set<String>) {
        seen = seen.filter { paths.contains($0.key) }
    }

    public mutating func forget(_ path: String) { seen[path] = nil }
}

/// A file moved into work/: the claim of step 1 of the protocol.
public struct ClaimedFile: Sendable {
    public var channel: Channel
    /// The name as received.
    public var name: String
    /// Its name in work/<channel>/.
    public var workName: String
    public var workPath: String
    /// Set when the claim had to copy across file systems: the original, still in the
    /// input folder, removed only after the ledger commit.
    public var sourcePath: String?
    public var status: FileStatus
}

public enum Claim {
    /// Moves a candidate into work/<channel>/ without ever replacing a file there.
    /// Returns nil when the candidate vanished meanwhile (someone else took it). With
    /// `sync` false the caller fsyncs work/<channel>/ (once for a batch of claims) before
    /// it commits anything about the file.
    public static func take(_ c: Candidate, spool: Spool, sync: Bool = true) throws -> ClaimedFile? {
        let folder = spool.workFolder(for: c.channel)
        var workName = c.name
        var attempt = 1
        while true {
            let target = FileSystem.join(folder, workName)
            do {
                try FileSystem.renameNoReplace(from: c.path, to: target)
                if sync {
                    try FileSystem.syncDirectory(folder)
                    try? FileSystem.syncDirectory(FileSystem.parentPath(of: c.path))
                }
                return ClaimedFile(channel: c.channel, name: c.name, workName: workName, workPath: target,
                                   sourcePath: nil, status: c.status)
            } catch let e as SystemError where e.errno == EEXIST {
                attempt += 1
                workName = "\(c.name)~w\(attempt)"
            } catch let e as SystemError where e.errno == ENOENT {
                return nil
            } catch let e as SystemError where e.errno == EXDEV {
                return try copyAcross(c, folder: folder, workName: workName)
            }
        }
    }

    /// The input folder is on another file system than the spool: copy, make the copy
    /// durable under a hidden name, then give it its work name. The original stays until
    /// the ledger has committed the file.
    static func copyAcross(_ c: Candidate, folder: String, workName: String) throws -> ClaimedFile {
        let hidden = FileSystem.join(folder, ".\(workName).copying")
        try FileSystem.removeFile(hidden)
        try FileSystem.copyDurably(from: c.path, to: hidden)
        let target = FileSystem.join(folder, workName)
        try FileSystem.renameNoReplace(from: hidden, to: target)
        try FileSystem.syncDirectory(folder)
        return ClaimedFile(channel: c.channel, name: c.name, workName: workName, workPath: target,
                           sourcePath: c.path, status: c.status)
    }

    /// The name as received, from a work name (which may carry a `~wN` suffix).
    static func receivedName(fromWorkName w: String) -> String {
        if let r = w.range(of: "~w", options: .backwards), Int(w[r.upperBound...]) != nil {
            return String(w[..<r.lowerBound])
        }
        return w
    }
}
