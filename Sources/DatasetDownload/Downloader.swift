import Datasets
import Foundation

/// Fetches a data set into a cache folder: each file from the first mirror that serves it,
/// resuming a partial download, checked against its SHA-256 before it takes its final name.
///
/// ```swift
/// let folder = try DatasetDownloader().download(.fashionMNIST) { print($0) }
/// let test = try FashionMNIST.load(split: .test, from: folder, checksums: FashionMNIST.sha256)
/// ```
///
/// Files land in `<cache>/<manifest.folder>/`. While a file arrives it is `<name>.part`; it is
/// renamed to `<name>` only once verified, so the final name never holds half a file. A file
/// already present and verified is not fetched again (unless `force`).
///
/// Blocks the calling thread while transfers run; call it from a plain thread, not a task.
public struct DatasetDownloader: Sendable {
    /// The folder holding the data set folders.
    public var cache: URL
    /// Mirrors to use instead of the manifest's, in order (nil: the manifest's).
    public var mirrors: [URL]?
    /// Fetch every file again even when a verified copy is present.
    public var force: Bool
    /// Seconds without progress before a mirror counts as unreachable.
    public var timeout: TimeInterval

    /// - Parameters:
    ///   - cache: the folder for data set folders (default `DataDirectory.defaultCache()`).
    ///   - mirrors: replaces the manifest's mirror list when given.
    ///   - force: fetch even files already present and verified.
    ///   - timeout: seconds without progress (connecting or receiving) before giving up on a mirror.
    public init(cache: URL = DataDirectory.defaultCache(), mirrors: [URL]? = nil, force: Bool = false,
                timeout: TimeInterval = 30) {
        self.cache = cache; self.mirrors = mirrors; self.force = force; self.timeout = timeout
    }

    /// Downloads, checks and (for an archive) unpacks `manifest`'s files; returns the folder
    /// holding the ready data (`manifest.dataDirectory(in: cache)`).
    ///
    /// - Throws: `DownloadError.offline` when no mirror could be reached for a file,
    ///   `.mirrorsFailed` when all answered badly, `.checksumMismatch` when what arrived fails
    ///   its check (the partial file is deleted), tar and file errors otherwise.
    @discardableResult
    public func download(_ manifest: DatasetManifest, events: @escaping @Sendable (DownloadEvent) -> Void = { _ in }) throws -> URL {
        let folder = cache.appendingPathComponent(manifest.folder, isDirectory: true)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw DownloadError.fileSystem(path: folder.path, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        var fetchedArchive = false
        for file in manifest.files {
            let fetched = try obtain(file, of: manifest, in: folder, events: events)
            if file.name == manifest.archive?.archive { fetchedArchive = fetched }
        }
        if let layout = manifest.archive {
            try unpack(layout, in: folder, always: fetchedArchive || force, events: events)
        }
        return manifest.dataDirectory(in: cache)
    }

    /// Whether `folder` holds every file of `manifest`, each passing its SHA-256 check
    /// (a system-wide install, say, that makes a download unnecessary).
    public static func isVerifiedCopy(of manifest: DatasetManifest, in folder: URL) -> Bool {
        manifest.files.allSatisfy { file in
            let url = folder.appendingPathComponent(file.name)
            guard FileManager.default.fileExists(atPath: url.path), let verdict = try? Verification.check(url, against: file) else {
                return false
            }
            if case .passed = verdict { return true }
            return false
        }
    }

    /// Makes `folder/file.name` a verified copy; returns whether it had to be fetched.
    private func obtain(_ file: RemoteFile, of manifest: DatasetManifest, in folder: URL,
                        events: @escaping @Sendable (DownloadEvent) -> Void) throws -> Bool {
        let final = folder.appendingPathComponent(file.name)
        let part = folder.appendingPathComponent(file.name + ".part")
        if FileManager.default.fileExists(atPath: final.path) {
            if force {
                events(.replacing(file: file.name, path: final.path, reason: "--force given"))
            } else if case .passed(let by) = try Verification.check(final, against: file) {
                events(.alreadyPresent(file: file.name, path: final.path, by: by))
                return false
            } else {
                events(.replacing(file: file.name, path: final.path, reason: "the copy present fails its SHA-256 check"))
            }
            try remove(final)
        }
        if force { try remove(part) }

        var attempts: [DownloadAttempt] = []
        for mirror in mirrors ?? manifest.mirrors {
            let url = mirror.appendingPathComponent(file.name)
            do {
                let by = try fetch(file, from: url, into: part, events: events)
                try moveIntoPlace(part, final)
                events(.verified(file: file.name, by: by))
                return true
            } catch let failure as HTTPFetch.Failure {
                attempts.append(DownloadAttempt(url: url.absoluteString, reason: failure.reason, unreachable: failure.unreachable))
                events(.mirrorFailed(file: file.name, url: url.absoluteString, reason: failure.reason))
            }
        }
        if !attempts.isEmpty, attempts.allSatisfy(\.unreachable) {
            throw DownloadError.offline(dataset: manifest.displayName, file: file.name, folder: folder.path,
                                        files: manifest.files.map(\.name), attempts: attempts, hint: manifest.offlineHint)
        }
        throw DownloadError.mirrorsFailed(file: file.name, attempts: attempts)
    }

    /// Fetches `url` into `part` (resuming), then checks it. A resumed file that fails is
    /// fetched once more from the start, since its first bytes may have come from another copy.
    private func fetch(_ file: RemoteFile, from url: URL, into part: URL,
                       events: @escaping @Sendable (DownloadEvent) -> Void) throws -> VerifiedBy {
        let name = file.name
        let http = HTTPFetch(timeout: timeout) { received, total in
            events(.progress(file: name, received: received, total: total))
        }
        var fromStart = false
        while true {
            let offset = size(of: part)
            events(.fetching(file: name, url: url.absoluteString, resumeAt: offset))
            let resumed: Bool
            switch try http.run(url, into: part) {
            case .complete(let bytes, let resumedAt, let restarted):
                events(.received(file: name, bytes: bytes, resumedAt: resumedAt, restarted: restarted))
                resumed = resumedAt != nil
            case .rangeNotSatisfiable(let bytes):
                events(.partMayBeComplete(file: name, bytes: bytes))
                resumed = true
            }
            switch try Verification.check(part, against: file) {
            case .passed(let by):
                return by
            case .failed(let actual, let uncompressed):
                try remove(part)
                if resumed && !fromStart {
                    events(.retryingFromStart(file: name))
                    fromStart = true
                    continue
                }
                throw DownloadError.checksumMismatch(file: name, url: url.absoluteString, expected: file.sha256,
                                                     actual: actual, uncompressed: uncompressed)
            }
        }
    }

    /// Unpacks a verified archive unless its contents are already in place and well-formed.
    private func unpack(_ layout: ArchiveLayout, in folder: URL, always: Bool,
                        events: @escaping @Sendable (DownloadEvent) -> Void) throws {
        let dataFolder = folder.appendingPathComponent(layout.dataFolder, isDirectory: true)
        if !always, (try? ArchiveCheck.check(layout, in: dataFolder)) != nil { return }
        let archive = folder.appendingPathComponent(layout.archive)
        let tar = try Gzip.decompress(try Verification.read(archive), path: archive.path)
        let written = try Tar.extract(tar, into: folder, path: archive.path)
        try ArchiveCheck.check(layout, in: dataFolder)
        events(.extracted(archive: layout.archive, files: written.count, folder: dataFolder.path))
    }

    /// Renames the verified part file to its final name (replacing nothing: the final name
    /// was cleared before the download).
    private func moveIntoPlace(_ part: URL, _ final: URL) throws {
        do {
            if FileManager.default.fileExists(atPath: final.path) { try FileManager.default.removeItem(at: final) }
            try FileManager.default.moveItem(at: part, to: final)
        } catch {
            throw DownloadError.fileSystem(path: final.path, reason: "cannot rename \(part.lastPathComponent) into place: \(error.localizedDescription)")
        }
    }

    private func remove(_ url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        do { try FileManager.default.removeItem(at: url) } catch {
            throw DownloadError.fileSystem(path: url.path, reason: "cannot delete: \(error.localizedDescription)")
        }
    }

    private func size(of url: URL) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }
}
