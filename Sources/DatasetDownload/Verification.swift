import Datasets
import Foundation

/// How a file passed its check.
public enum VerifiedBy: Sendable, Equatable {
    /// Its SHA-256 is the published one.
    case publishedDigest
    /// Its SHA-256 differs (a mirror recompressed it) but the gunzipped contents have the
    /// known uncompressed digest.
    case uncompressedDigest
}

/// The SHA-256 checks of what arrives.
enum Verification {
    /// The result of checking one file.
    enum Verdict: Equatable {
        case passed(VerifiedBy)
        /// `actual` is the file's digest; `uncompressed` describes the fallback check when made.
        case failed(actual: String, uncompressed: String?)
    }

    /// Checks the file at `url` against `file`'s published digest, then, for a `.gz` file
    /// with a known uncompressed digest, against that.
    static func check(_ url: URL, against file: RemoteFile) throws -> Verdict {
        let actual = try sha256(of: url)
        if actual == file.sha256 { return .passed(.publishedDigest) }
        guard let expected = file.uncompressedSHA256, file.name.hasSuffix(".gz") else {
            return .failed(actual: actual, uncompressed: nil)
        }
        let bytes = try read(url)
        guard let inflated = try? Gzip.decompress(bytes, path: url.path) else {
            return .failed(actual: actual, uncompressed: "not gzip data, so the uncompressed digest \(expected) could not be checked")
        }
        let uncompressed = SHA256.hexDigest(inflated)
        if uncompressed == expected { return .passed(.uncompressedDigest) }
        return .failed(actual: actual, uncompressed: "uncompressed contents: expected \(expected), got \(uncompressed)")
    }

    /// The SHA-256 of a file, read in 1 MiB pieces so large archives need little memory.
    static func sha256(of url: URL) throws -> String {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw DownloadError.fileSystem(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { hasher.update($0) }
            }
        } catch {
            throw DownloadError.fileSystem(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return SHA256.hex(hasher.finalize())
    }

    /// The whole file.
    static func read(_ url: URL) throws -> [UInt8] {
        do { return [UInt8](try Data(contentsOf: url)) } catch {
            throw DownloadError.fileSystem(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
    }
}
