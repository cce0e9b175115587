/// What a `DatasetDownloader` reports as it works; `description` is the line `fovea data
/// download` prints.
public enum DownloadEvent: Sendable, Equatable, CustomStringConvertible {
    /// The file is in the cache already and passed its check: nothing is fetched.
    case alreadyPresent(file: String, path: String, by: VerifiedBy)
    /// The file in the cache fails its check (or `force` was given) and is fetched again.
    case replacing(file: String, path: String, reason: String)
    /// A GET of `url` begins, after the `resumeAt` bytes a previous try left (0: from the start).
    case fetching(file: String, url: String, resumeAt: Int)
    /// Bytes received so far of the current GET, of `total` when the server said.
    case progress(file: String, received: Int, total: Int?)
    /// The GET ended: `bytes` arrived, appended at `resumedAt` when the range was honoured.
    case received(file: String, bytes: Int, resumedAt: Int?, restarted: Bool)
    /// 416 to the range request: the partial file may already be whole and is checked.
    case partMayBeComplete(file: String, bytes: Int)
    /// A resumed file failed its check, so it is fetched once more from the start.
    case retryingFromStart(file: String)
    /// A mirror failed; the next, if any, is tried.
    case mirrorFailed(file: String, url: String, reason: String)
    /// The file passed its SHA-256 check and is in place.
    case verified(file: String, by: VerifiedBy)
    /// The archive was unpacked and its contents checked.
    case extracted(archive: String, files: Int, folder: String)

    public var description: String {
        switch self {
        case .alreadyPresent(let file, let path, let by):
            return "\(file): already present, verified\(by == .uncompressedDigest ? " after decompression" : "") (\(path))"
        case .replacing(let file, let path, let reason):
            return "\(file): \(reason); fetching it again (\(path))"
        case .fetching(let file, let url, let resumeAt):
            return "\(file): \(url)" + (resumeAt > 0 ? " (resuming at \(resumeAt) bytes)" : "")
        case .progress(_, let received, let total):
            guard let total, total > 0 else { return "  \(received) bytes" }
            return "  \(received * 100 / total)% (\(received) of \(total) bytes)"
        case .received(_, let bytes, let resumedAt, let restarted):
            if let resumedAt { return "  received \(bytes) bytes, resumed at \(resumedAt) bytes" }
            return "  received \(bytes) bytes" + (restarted ? " (the server ignored the range and sent the whole file)" : "")
        case .partMayBeComplete(_, let bytes):
            return "  the server has nothing past byte \(bytes); checking the partial file"
        case .retryingFromStart(let file):
            return "  \(file): the resumed file fails its check; fetching it from the start"
        case .mirrorFailed(_, _, let reason):
            return "  failed: \(reason)"
        case .verified(_, let by):
            return by == .publishedDigest ? "  SHA-256 verified"
                : "  SHA-256 verified after decompression (this copy was recompressed; its contents are the published ones)"
        case .extracted(let archive, let files, let folder):
            return "\(archive): unpacked \(files) files into \(folder), checked"
        }
    }
}
