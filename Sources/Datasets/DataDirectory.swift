import Foundation

/// Finds the folder a data set lives in, so tools and tests work from the repository root,
/// from another working directory, or with the data kept elsewhere.
///
/// For a data set folder named `name` (`"mnist"`), the places tried, in order, are:
/// 1. `$FOVEA_DATA_DIR/<name>` when the environment variable is set;
/// 2. `./Data/<name>`, relative to the working directory;
/// 3. `Data/<name>` at the root of the source tree this module was compiled from (found
///    from `#filePath`, so it works for `swift run` and `swift test` anywhere);
/// 4. any `extra` places the data set adds (a system-wide install, say).
public enum DataDirectory {
    /// The environment variable naming a folder that holds data set folders.
    public static let environmentVariable = "FOVEA_DATA_DIR"

    /// The places tried for data set folder `name`, in order (see the type's documentation).
    public static func candidates(for name: String,
                                  environment: [String: String] = ProcessInfo.processInfo.environment,
                                  workingDirectory: String = FileManager.default.currentDirectoryPath,
                                  extra: [URL] = []) -> [URL] {
        var places: [URL] = []
        if let root = environment[environmentVariable], !root.isEmpty {
            places.append(URL(fileURLWithPath: root, isDirectory: true).appendingPathComponent(name, isDirectory: true))
        }
        places.append(URL(fileURLWithPath: workingDirectory, isDirectory: true)
            .appendingPathComponent("Data", isDirectory: true).appendingPathComponent(name, isDirectory: true))
        // This file is Sources/Datasets/DataDirectory.swift: three levels below the root.
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        places.append(sourceRoot.appendingPathComponent("Data", isDirectory: true).appendingPathComponent(name, isDirectory: true))
        places.append(contentsOf: extra)
        return places
    }

    /// The first candidate folder that holds at least one of `files`.
    ///
    /// - Parameter dataset: the data set's display name for the error (`"MNIST"`).
    /// - Throws: `DatasetError.dataNotFound`, listing every place tried.
    public static func find(_ name: String, dataset: String, containingAnyOf files: [String],
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            workingDirectory: String = FileManager.default.currentDirectoryPath,
                            extra: [URL] = []) throws -> URL {
        let places = candidates(for: name, environment: environment, workingDirectory: workingDirectory, extra: extra)
        for place in places where files.contains(where: {
            FileManager.default.fileExists(atPath: place.appendingPathComponent($0).path)
        }) {
            return place.standardizedFileURL
        }
        throw DatasetError.dataNotFound(dataset: dataset, folder: name, searched: places.map(\.path))
    }
}
