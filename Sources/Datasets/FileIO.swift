import Foundation

/// Whole-file reads and writes that turn Foundation's errors into `DatasetError`s naming
/// the path.
enum FileIO {
    /// The bytes of the file at `url`.
    static func read(_ url: URL) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DatasetError.fileNotFound(path: url.path)
        }
        guard !isDirectory.boolValue else { throw DatasetError.readFailed(path: url.path, reason: "is a directory") }
        do {
            let data = try Data(contentsOf: url)
            return [UInt8](data)
        } catch {
            throw DatasetError.readFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Writes `bytes` to `url` atomically (a temporary file renamed into place), so a
    /// reader never sees half a file.
    static func write(_ bytes: [UInt8], to url: URL) throws {
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw DatasetError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}
