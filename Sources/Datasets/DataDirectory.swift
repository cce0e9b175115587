import Foundation

/// Finds the folder a data set lives in, so tools and tests work from the repository root,
/// from another working directory, or with the data kept elsewhere.
///
/// For a data set folder named `name` (`"mnist"`), the places tried, in order, are:
/// 1. `$FOVEA_DATA_DIR/<name>` when the environment variable is set;
/// 2. `./Data/<name>`, relative to the working directory;
/// 3. `Data/<name>` at the root of the source tree this module was compiled from (found
///    from `#filePath`, so it works for `swift run` and `swift test` anywhere);
/// 4. when `$FOVEA_DATA_DIR` is not set, `<name>` in the per-user download cache,
///    `$XDG_CACHE_HOME/fovea` or `~/.cache/fovea` (where `fovea data download` puts it;
///    with the variable set, downloads go to place 1);
/// 5. any `extra` places the data set adds (a system-wide install, say).
public enum DataDirectory {
    /// The environment variable naming a folder that holds data set folders.
    public static let environmentVariable = "FOVEA_DATA_DIR"

    /// The folder `fovea data download` fills by default: `$FOVEA_DATA_DIR` when set, else
    /// `userCache(environment:)`. Each data set gets its own folder inside (`mnist`, ...).
    public static func defaultCache(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let root = environment[environmentVariable], !root.isEmpty {
            return URL(fileURLWithPath: root, isDirectory: true)
        }
        return userCache(environment: environment)
    }

    /// The per-user cache folder: `$XDG_CACHE_HOME/fovea` when that variable is set (the XDG
    /// base-directory convention), else `$HOME/.cache/fovea`.
    public static func userCache(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("fovea", isDirectory: true)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? FileManager.default.homeDirectoryForCurrentUser.path
        return URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".cache", isDirectory: true).appendingPathComponent("fovea", isDirectory: true)
    }

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
        if (environment[environmentVariable] ?? "").isEmpty {
            places.append(userCache(environment: environment).appendingPathComponent(name, isDirectory: true))
        }
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
