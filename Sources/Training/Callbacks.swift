import Foundation
import TensorCore
import NN
import Optimizers

/// Something that watches training epoch by epoch, like a Keras callback.
public protocol TrainingCallback: AnyObject {
    /// Called after every epoch, once its validation and test figures are in `record`.
    /// Returns true to stop training after this epoch.
    func epochEnded(_ record: EpochRecord, trainer: Trainer) throws -> Bool
    /// Called once when `fit` finishes, however it finished.
    func trainingEnded(trainer: Trainer) throws
    /// What the callback has learnt so far (counters and best values, and any tensors it
    /// keeps), saved in a `TrainingCheckpoint` so a resumed run decides as the original would.
    var checkpointState: (values: [String: Double], tensors: [(name: String, tensor: Tensor)]) { get }
    /// Restores what `checkpointState` returned.
    func restore(values: [String: Double], tensors: [String: Tensor]) throws
}

extension TrainingCallback {
    public func trainingEnded(trainer: Trainer) throws {}
    public var checkpointState: (values: [String: Double], tensors: [(name: String, tensor: Tensor)]) { ([:], []) }
    public func restore(values: [String: Double], tensors: [String: Tensor]) throws {}
}

/// A figure of an epoch that callbacks watch.
public enum Monitor: String, Sendable, CaseIterable {
    case validationLoss = "val_loss"
    case validationAccuracy = "val_accuracy"
    case trainLoss = "loss"
    case trainAccuracy = "accuracy"

    /// Whether larger is better.
    public var maximizes: Bool { self == .validationAccuracy || self == .trainAccuracy }

    /// The figure in `record`, nil when the epoch has none (no validation split).
    public func value(in record: EpochRecord) -> Double? {
        switch self {
        case .validationLoss: return record.validationLoss
        case .validationAccuracy: return record.validationAccuracy
        case .trainLoss: return record.trainLoss
        case .trainAccuracy: return record.trainAccuracy
        }
    }
}

/// Stops training when `monitor` has not improved by more than `minDelta` for `patience`
/// epochs, and (by default) puts back the weights of the best epoch when training ends.
public final class EarlyStopping: TrainingCallback {
    public let monitor: Monitor
    public let patience: Int
    public let minDelta: Double
    public let restoreBestWeights: Bool
    /// The best value seen and its epoch.
    public private(set) var best: Double?
    public private(set) var bestEpoch = 0
    /// The epoch training stopped at, when it stopped early.
    public private(set) var stoppedEpoch: Int?
    private var wait = 0
    private var bestState: [(name: String, tensor: Tensor)] = []

    /// - Throws: `TrainingError.invalidSetting` for a negative patience or minDelta.
    public init(monitor: Monitor = .validationAccuracy, patience: Int, minDelta: Double = 0,
                restoreBestWeights: Bool = true) throws {
        guard patience >= 0 else { throw TrainingError.invalidSetting("early-stopping patience must be >= 0, got \(patience)") }
        guard minDelta >= 0, minDelta.isFinite else {
            throw TrainingError.invalidSetting("early-stopping minDelta must be >= 0, got \(minDelta)")
        }
        self.monitor = monitor
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBestWeights = restoreBestWeights
    }

    public func epochEnded(_ record: EpochRecord, trainer: Trainer) throws -> Bool {
        guard let value = monitor.value(in: record) else {
            throw TrainingError.invalidSetting("early stopping watches \(monitor.rawValue), which epoch \(record.epoch) does not have (is there a validation split?)")
        }
        let improved = best.map { monitor.maximizes ? value > $0 + minDelta : value < $0 - minDelta } ?? true
        if improved {
            best = value
            bestEpoch = record.epoch
            wait = 0
            if restoreBestWeights {
                bestState = trainer.model.stateDict().map { ($0.name, $0.tensor.detached()) }
            }
            return false
        }
        wait += 1
        if wait >= patience {
            stoppedEpoch = record.epoch
            return true
        }
        return false
    }

    public func trainingEnded(trainer: Trainer) throws {
        guard restoreBestWeights, !bestState.isEmpty, bestEpoch != trainer.lastEpoch else { return }
        try trainer.model.loadStateDict(Dictionary(bestState, uniquingKeysWith: { a, _ in a }))
    }

    /// best, best_epoch, wait (and stopped_epoch), with the best epoch's weights.
    public var checkpointState: (values: [String: Double], tensors: [(name: String, tensor: Tensor)]) {
        var values = ["best_epoch": Double(bestEpoch), "wait": Double(wait)]
        if let best { values["best"] = best }
        if let stoppedEpoch { values["stopped_epoch"] = Double(stoppedEpoch) }
        return (values, bestState)
    }

    public func restore(values: [String: Double], tensors: [String: Tensor]) throws {
        guard let bestEpoch = values["best_epoch"], let wait = values["wait"] else {
            throw TrainingError.invalidSetting("early-stopping state needs best_epoch and wait, got \(values.keys.sorted())")
        }
        // Counts from a file: NaN or infinity must not trap in Int() (issue 29 finding 6).
        let stopped = values["stopped_epoch"]
        guard let epoch = Int(exactly: bestEpoch), let waited = Int(exactly: wait),
              stopped.map({ Int(exactly: $0) != nil }) ?? true else {
            throw TrainingError.invalidSetting("early-stopping state needs whole numbers; got best_epoch \(bestEpoch), "
                + "wait \(wait), stopped_epoch \(stopped.map { "\($0)" } ?? "none")")
        }
        best = values["best"]
        self.bestEpoch = epoch
        self.wait = waited
        stoppedEpoch = stopped.map { Int(exactly: $0)! }
        bestState = tensors.keys.sorted().map { ($0, tensors[$0]!) }
    }
}

/// Divides the learning rate when `monitor` stalls: a `ReduceLROnPlateau` driving the
/// trainer's `learningRateScale` once per epoch.
public final class PlateauCallback: TrainingCallback {
    public let monitor: Monitor
    public let reducer: ReduceLROnPlateau

    public init(monitor: Monitor = .validationAccuracy, factor: Float = 0.1, patience: Int) throws {
        self.monitor = monitor
        reducer = try ReduceLROnPlateau(mode: monitor.maximizes ? .max : .min, factor: factor, patience: patience)
    }

    public func epochEnded(_ record: EpochRecord, trainer: Trainer) throws -> Bool {
        guard let value = monitor.value(in: record) else {
            throw TrainingError.invalidSetting("reduce-on-plateau watches \(monitor.rawValue), which epoch \(record.epoch) does not have (is there a validation split?)")
        }
        if reducer.step(value) {
            trainer.learningRateScale = reducer.scale
            if trainer.verbose { Console.write("\(monitor.rawValue) stalled: learning rate scaled by \(reducer.scale)") }
        }
        return false
    }

    public var checkpointState: (values: [String: Double], tensors: [(name: String, tensor: Tensor)]) { (reducer.state, []) }

    public func restore(values: [String: Double], tensors: [String: Tensor]) throws { try reducer.restore(values) }
}
