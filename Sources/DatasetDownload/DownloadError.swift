/// One failed try of one URL: what went wrong, and whether the host could not be reached at
/// all (name not found, connection refused, timed out) rather than answering badly.
public struct DownloadAttempt: Sendable, Equatable {
    /// The URL tried.
    public var url: String
    /// Why it failed, e.g. `could not connect to the server` or `HTTP 404`.
    public var reason: String
    /// True when no connection was made (the offline case), false for a bad answer.
    public var unreachable: Bool

    public init(url: String, reason: String, unreachable: Bool) {
        self.url = url; self.reason = reason; self.unreachable = unreachable
    }
}

/// Everything that can go wrong fetching, checking or unpacking a data set. Each message
/// names the file and quotes the values: URLs, digests, offsets.
public enum DownloadError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A data set name that is not built in.
    case unknownDataset(name: String, known: [String])
    /// No mirror could be reached for `file`: every attempt failed before an answer came.
    /// `folder` is where the files belong; `hint` says where else to find them.
    case offline(dataset: String, file: String, folder: String, files: [String], attempts: [DownloadAttempt], hint: String?)
    /// Every mirror failed for `file`, at least one with an answer (HTTP 404, a bad range...).
    case mirrorsFailed(file: String, attempts: [DownloadAttempt])
    /// What arrived has neither the published digest nor (for `.gz` files) contents with the
    /// known uncompressed digest. `uncompressed` describes the second check when it was made.
    /// The partial file has been deleted.
    case checksumMismatch(file: String, url: String, expected: String, actual: String, uncompressed: String?)
    /// A tar archive that ends early or holds a malformed header at byte `offset`.
    case corruptTar(path: String?, offset: Int, reason: String)
    /// A tar member whose name would escape the target folder (absolute, or with `..`).
    case unsafeTarMember(path: String?, name: String)
    /// An unpacked data set that lacks a file or holds one of the wrong size or contents.
    case badArchiveContents(path: String, reason: String)
    /// A file or folder in the cache could not be written, moved or read.
    case fileSystem(path: String, reason: String)

    /// The message: the file first, then what is wrong, quoting the values.
    public var description: String {
        switch self {
        case .unknownDataset(let name, let known):
            return "unknown data set '\(name)'; the data sets are: \(known.joined(separator: ", "))"
        case .offline(let dataset, let file, let folder, let files, let attempts, let hint):
            var text = "\(file): no mirror of \(dataset) could be reached (offline?): "
                + attempts.map { "\($0.url): \($0.reason)" }.joined(separator: "; ")
            text += ". To proceed, copy the files (\(files.joined(separator: ", "))) into \(folder) by hand"
            if let hint { text += " (\(hint))" }
            text += ", or pass --mirror URL naming a reachable copy."
            return text
        case .mirrorsFailed(let file, let attempts):
            return "\(file): every mirror failed: " + attempts.map { "\($0.url): \($0.reason)" }.joined(separator: "; ")
        case .checksumMismatch(let file, let url, let expected, let actual, let uncompressed):
            var text = "\(file) from \(url): SHA-256 mismatch: expected \(expected), got \(actual)"
            if let uncompressed { text += "; \(uncompressed)" }
            return text + "; the download was deleted"
        case .corruptTar(let path, let offset, let reason):
            return (path.map { "\($0): " } ?? "") + "corrupt tar archive at byte \(offset): \(reason)"
        case .unsafeTarMember(let path, let name):
            return (path.map { "\($0): " } ?? "") + "refusing tar member '\(name)': absolute paths and '..' would escape the target folder"
        case .badArchiveContents(let path, let reason):
            return "\(path): \(reason)"
        case .fileSystem(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}
