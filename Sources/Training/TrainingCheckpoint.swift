import Foundation
import TensorCore
import NN
import Optimizers
import Interop

/// Everything an interrupted run needs to go on as if it had never stopped: the model's
/// state dict, the optimizer's state, the global random generator (dropout), the
/// learning-rate scale, the callbacks' state and the finished epochs' records, plus the
/// caller's own settings (the CLI keeps its command line there).
///
/// It is one safetensors file, written atomically after every epoch (a crash mid-write
/// leaves the previous one): tensors `model.<state-dict name>` (PyTorch's names),
/// `optimizer.<name>` (see `OptimizerState.swift`) and `callback.<i>.<name>`; metadata
/// `format` = `fovea-training-checkpoint-1`, `epoch`, `random` (four decimal words),
/// `learning_rate_scale`, `history` and `callbacks` (JSON), and `setting.<key>`.
public struct TrainingCheckpoint {
    /// The file name inside a run folder.
    public static let fileName = "checkpoint.safetensors"
    static let format = "fovea-training-checkpoint-1"

    /// Model parameters and buffers by state-dict name.
    public var model: [(name: String, tensor: Tensor)]
    /// The optimizer's `stateDict()`.
    public var optimizer: [(name: String, tensor: Tensor)]
    /// The global generator after the last finished epoch.
    public var random: SeededGenerator
    public var learningRateScale: Float
    /// The finished epochs, in order.
    public var history: [EpochRecord]
    /// Each callback's `checkpointState`, in the order the callbacks were given.
    public var callbacks: [(values: [String: Double], tensors: [(name: String, tensor: Tensor)])]
    /// The caller's settings (strings), returned as they were saved.
    public var settings: [String: String]

    /// The epochs finished.
    public var epoch: Int { history.count }

    /// The state of `trainer` (and `callbacks`) after `history.count` epochs.
    public init(trainer: Trainer, history: [EpochRecord], callbacks: [TrainingCallback] = [], settings: [String: String] = [:]) {
        model = trainer.model.stateDict().map { ($0.name, $0.tensor.detached()) }
        optimizer = trainer.optimizer.stateDict()
        random = GlobalRandom.snapshot()
        learningRateScale = trainer.learningRateScale
        self.history = history
        self.callbacks = callbacks.map { $0.checkpointState }
        self.settings = settings
    }

    /// Puts the saved state back into `trainer`, its optimizer, `callbacks` and
    /// `GlobalRandom`. Call it after building the model and optimizer as the run first did.
    ///
    /// - Throws: when the model's names or shapes, the optimizer's state or the number of
    ///   callbacks do not match; nothing is restored then.
    public func restore(into trainer: Trainer, callbacks: [TrainingCallback] = []) throws {
        guard callbacks.count == self.callbacks.count else {
            throw TrainingError.invalidSetting("the checkpoint holds the state of \(self.callbacks.count) callback(s), the run has \(callbacks.count)")
        }
        let before = trainer.model.stateDict().map { ($0.name, $0.tensor.detached()) }
        try trainer.model.loadStateDict(Dictionary(model, uniquingKeysWith: { a, _ in a }))
        do {
            try trainer.optimizer.loadStateDict(Dictionary(optimizer, uniquingKeysWith: { a, _ in a }))
        } catch {
            try? trainer.model.loadStateDict(Dictionary(before, uniquingKeysWith: { a, _ in a }))
            throw error
        }
        for (callback, state) in zip(callbacks, self.callbacks) {
            try callback.restore(values: state.values, tensors: Dictionary(state.tensors, uniquingKeysWith: { a, _ in a }))
        }
        trainer.learningRateScale = learningRateScale
        trainer.lastEpoch = epoch
        GlobalRandom.restore(random)
    }

    /// Writes the checkpoint to `url` atomically.
    ///
    /// - Throws: `TrainingError.nonFinite` (and writes nothing, so the previous checkpoint
    ///   stays) when a tensor or a figure of the history is inf or NaN: a checkpoint is the
    ///   last good state of a run, and JSON has no NaN.
    public func write(to url: URL) throws {
        var tensors = model.map { ("model." + $0.name, $0.tensor) } + optimizer.map { ("optimizer." + $0.name, $0.tensor) }
        for (i, state) in callbacks.enumerated() { tensors += state.tensors.map { ("callback.\(i)." + $0.name, $0.tensor) } }
        if let bad = Trainer.firstNonFinite(tensors.map { (name: $0.0, tensor: $0.1) }) {
            throw TrainingError.nonFinite(epoch: epoch, what: "\(url.path) not written: \(bad)")
        }
        let figures = history.flatMap { r in [r.trainLoss, r.trainAccuracy, r.seconds, r.imagesPerSecond, r.learningRate]
            + [r.testLoss, r.testAccuracy, r.validationLoss, r.validationAccuracy, r.dataWaitSeconds].compactMap { $0 } }
            + callbacks.flatMap { $0.values.values }
        if let bad = figures.first(where: { !$0.isFinite }) {
            throw TrainingError.nonFinite(epoch: epoch, what: "\(url.path) not written: its history or callback state holds \(bad)")
        }
        var metadata = ["format": Self.format, "epoch": "\(epoch)",
                        "random": random.stateWords.map(String.init).joined(separator: " "),
                        "learning_rate_scale": "\(learningRateScale)",
                        "history": try Self.json(history.map(\.jsonObject)),
                        "callbacks": try Self.json(callbacks.map(\.values))]
        for (key, value) in settings { metadata["setting." + key] = value }
        try Safetensors.write(tensors.map { (name: $0.0, tensor: $0.1) }, metadata: metadata, to: url)
    }

    /// Reads a checkpoint that `write(to:)` wrote.
    ///
    /// - Throws: `TrainingError.invalidSetting` naming the file and the problem for a file that
    ///   is not a Fovea training checkpoint or whose metadata is damaged; `SafetensorsError`
    ///   for a file that is not valid safetensors.
    public static func read(from url: URL) throws -> TrainingCheckpoint {
        let (tensors, metadata) = try Safetensors.read(from: url)
        func bad(_ why: String) -> TrainingError { .invalidSetting("\(url.path): \(why)") }
        guard metadata["format"] == format else {
            throw bad("not a Fovea training checkpoint (format '\(metadata["format"] ?? "none")', expected '\(format)'); model weights alone (model.safetensors) cannot resume a run")
        }
        let words = (metadata["random"] ?? "").split(separator: " ").compactMap { UInt64($0) }
        guard let random = SeededGenerator(stateWords: words) else { throw bad("damaged random-generator state '\(metadata["random"] ?? "")'") }
        guard let scale = metadata["learning_rate_scale"].flatMap(Float.init), scale.isFinite, scale >= 0 else {
            throw bad("damaged learning_rate_scale '\(metadata["learning_rate_scale"] ?? "")'")
        }
        guard let historyRows = (try? JSONSerialization.jsonObject(with: Data((metadata["history"] ?? "").utf8))) as? [[String: Any]] else {
            throw bad("damaged history")
        }
        let history = try historyRows.enumerated().map { i, row in
            guard let record = EpochRecord(jsonObject: row), record.epoch == i + 1 else { throw bad("damaged history row \(i + 1)") }
            return record
        }
        guard metadata["epoch"] == "\(history.count)" else {
            throw bad("epoch '\(metadata["epoch"] ?? "")' disagrees with the \(history.count) history rows")
        }
        guard let callbackValues = (try? JSONSerialization.jsonObject(with: Data((metadata["callbacks"] ?? "").utf8))) as? [[String: Double]] else {
            throw bad("damaged callback state")
        }
        var model: [(name: String, tensor: Tensor)] = [], optimizer: [(name: String, tensor: Tensor)] = []
        var callbackTensors = [[(name: String, tensor: Tensor)]](repeating: [], count: callbackValues.count)
        for (name, tensor) in tensors {
            if name.hasPrefix("model.") { model.append((String(name.dropFirst(6)), tensor)) }
            else if name.hasPrefix("optimizer.") { optimizer.append((String(name.dropFirst(10)), tensor)) }
            else if name.hasPrefix("callback."), let dot = name.dropFirst(9).firstIndex(of: "."),
                    let i = Int(name[name.index(name.startIndex, offsetBy: 9)..<dot]), callbackTensors.indices.contains(i) {
                callbackTensors[i].append((String(name[name.index(after: dot)...]), tensor))
            } else { throw bad("unexpected tensor '\(name)'") }
        }
        var settings: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix("setting.") { settings[String(key.dropFirst(8))] = value }
        return TrainingCheckpoint(model: model, optimizer: optimizer, random: random, learningRateScale: scale, history: history,
                                  callbacks: zip(callbackValues, callbackTensors).map { ($0, $1) }, settings: settings)
    }

    init(model: [(name: String, tensor: Tensor)], optimizer: [(name: String, tensor: Tensor)], random: SeededGenerator,
         learningRateScale: Float, history: [EpochRecord], callbacks: [(values: [String: Double], tensors: [(name: String, tensor: Tensor)])],
         settings: [String: String]) {
        (self.model, self.optimizer, self.random, self.learningRateScale) = (model, optimizer, random, learningRateScale)
        (self.history, self.callbacks, self.settings) = (history, callbacks, settings)
    }

    static func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

extension EpochRecord {
    /// The record that `jsonObject` describes; nil when a required figure is missing.
    public init?(jsonObject row: [String: Any]) {
        func number(_ key: String) -> Double? { (row[key] as? NSNumber)?.doubleValue }
        guard let epoch = row["epoch"] as? Int, let trainLoss = number("train_loss"), let trainAccuracy = number("train_accuracy"),
              let seconds = number("seconds"), let imagesPerSecond = number("images_per_second"),
              let learningRate = number("learning_rate") else { return nil }
        self.init(epoch: epoch, trainLoss: trainLoss, trainAccuracy: trainAccuracy, testLoss: number("test_loss"),
                  testAccuracy: number("test_accuracy"), validationLoss: number("val_loss"), validationAccuracy: number("val_accuracy"),
                  seconds: seconds, imagesPerSecond: imagesPerSecond, learningRate: learningRate)
        dataWaitSeconds = number("data_wait_seconds")
    }
}
