import Datasets
import Foundation

/// Checks that an unpacked archive delivered what its `ArchiveLayout` promises.
enum ArchiveCheck {
    /// Throws `DownloadError.badArchiveContents` naming the first missing, wrongly sized or
    /// unparsable member of `layout` in `dataFolder`.
    static func check(_ layout: ArchiveLayout, in dataFolder: URL) throws {
        for member in layout.members {
            let url = dataFolder.appendingPathComponent(member.name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = attributes[.size] as? Int else {
                throw DownloadError.badArchiveContents(path: url.path, reason: "missing after unpacking \(layout.archive)")
            }
            if let expected = member.size, size != expected {
                throw DownloadError.badArchiveContents(path: url.path, reason: "\(size) bytes, expected \(expected)")
            }
            if let variant = layout.cifarVariant, member.name.hasSuffix(".bin") {
                do { _ = try CIFAR.parse(try Verification.read(url), variant: variant, path: url.path) } catch {
                    throw DownloadError.badArchiveContents(path: url.path, reason: "not CIFAR records: \(error)")
                }
            }
        }
    }
}
