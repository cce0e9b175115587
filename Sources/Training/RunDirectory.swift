import Foundation
import Interop

/// The folder one training run leaves behind:
/// - `model.safetensors`: the trained weights (PyTorch state-dict names) and how to rebuild the model;
/// - `history.csv`: one row per epoch;
/// - `metrics.json`: the final figures (`test_accuracy` as a fraction, `test_loss`, `epochs`,
///   `train_seconds`, `train_images_per_second`, ...) and the settings of the run.
public struct RunDirectory {
    public let url: URL
    /// Whether `init` made the folder (it did not exist before).
    public let created: Bool
    /// The temporary files of killed writers (`.model.safetensors.tmp-<pid>`, see
    /// `AtomicFile`) that `init` found in the folder and removed.
    public let removedStaleFiles: [URL]

    /// Creates the folder (and parents) if needed, and removes the temporary files that
    /// writers killed mid-write (SIGKILL, a power cut) left there.
    ///
    /// - Throws: `RunDirectoryError` when the path is a file or cannot be created.
    public init(_ url: URL) throws {
        self.url = url
        var isDirectory: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if existed, !isDirectory.boolValue {
            throw RunDirectoryError.notADirectory(path: url.path)
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw RunDirectoryError.cannotCreate(path: url.path, reason: FileWriteError.describe(error))
        }
        created = !existed
        removedStaleFiles = existed ? AtomicFile.removeStaleTemporaryFiles(in: url) : []
    }

    /// Removes the folder when `init` made it and nothing was written into it (a run that
    /// failed before its first epoch leaves no empty folder behind).
    public func removeIfEmpty() {
        guard created, (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.isEmpty == true else { return }
        try? FileManager.default.removeItem(at: url)
    }

    /// A fresh folder under `runs/` named after the model and the time, e.g. `runs/lenet5-20261122-153012`.
    public static func timestamped(model: String, root: URL = URL(fileURLWithPath: "runs")) throws -> RunDirectory {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        var candidate = root.appendingPathComponent("\(model)-\(f.string(from: Date()))")
        var n = 2
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = root.appendingPathComponent("\(model)-\(f.string(from: Date()))-\(n)"); n += 1
        }
        return try RunDirectory(candidate)
    }

    public var weightsURL: URL { url.appendingPathComponent("model.safetensors") }
    public var historyURL: URL { url.appendingPathComponent("history.csv") }
    public var metricsURL: URL { url.appendingPathComponent("metrics.json") }

    /// Writes `history.csv`: `epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,seconds,images_per_second,learning_rate`
    /// (empty cells where an epoch has no such figure).
    public func writeHistory(_ records: [EpochRecord]) throws {
        var s = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,seconds,images_per_second,learning_rate\n"
        for r in records {
            let cells: [String] = [String(r.epoch), fmt(r.trainLoss), fmt(r.trainAccuracy),
                                   r.validationLoss.map(fmt) ?? "", r.validationAccuracy.map(fmt) ?? "",
                                   r.testLoss.map(fmt) ?? "", r.testAccuracy.map(fmt) ?? "",
                                   fmt(r.seconds), fmt(r.imagesPerSecond), fmt(r.learningRate)]
            s += cells.joined(separator: ",") + "\n"
        }
        try writeAtomically(Data(s.utf8), to: historyURL)
    }

    /// Writes `metrics.json` with keys sorted; inf and NaN, which JSON cannot hold, are written as null.
    public func writeMetrics(_ metrics: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: RunDirectory.finiteJSON(metrics), options: [.prettyPrinted, .sortedKeys])
        try writeAtomically(data + Data("\n".utf8), to: metricsURL)
    }

    /// `value` with every non-finite Double or Float, at any depth, replaced by null.
    static func finiteJSON(_ value: Any) -> Any {
        switch value {
        case let x as Double: return x.isFinite ? x : NSNull()
        case let x as Float: return x.isFinite ? x : NSNull()
        case let object as [String: Any]: return object.mapValues(finiteJSON)
        case let array as [Any]: return array.map(finiteJSON)
        default: return value
        }
    }

    private func fmt(_ x: Double) -> String { String(format: "%.6g", x) }
}

/// Why a run directory cannot be used.
public enum RunDirectoryError: Error, CustomStringConvertible, Equatable {
    case notADirectory(path: String)
    case cannotCreate(path: String, reason: String)

    public var description: String {
        switch self {
        case .notADirectory(let path): return "\(path): exists and is not a folder; choose another --output"
        case .cannotCreate(let path, let reason): return "\(path): cannot create the run folder (\(reason))"
        }
    }
}
