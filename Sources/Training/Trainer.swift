import Foundation
import TensorCore
import NN
import Optimizers
import Datasets

/// The fit/evaluate loop for classifiers, like Keras' `fit`: cross-entropy by default, with
/// hooks for another loss, a regularisation penalty and gradient clipping.
public final class Trainer {
    public let model: Layer
    public let optimizer: Optimizer
    /// Whether to print a Keras-style progress line per epoch.
    public var verbose: Bool
    /// The training loss of a batch: logits `[N, classes]` and labels -> scalar.
    /// Cross-entropy on class indices by default.
    public var loss: (_ logits: Tensor, _ labels: [Int]) throws -> Tensor = { logits, labels in
        try Tensor.crossEntropy(logits: logits, targets: labels)
    }
    /// A penalty added to every batch's loss before `backward()` (L1/L2 on the weights);
    /// the progress line and history report the data loss without it.
    public var penalty: (() throws -> Tensor)?
    /// Runs after `backward()` and before the optimizer's step: gradient clipping goes here.
    public var beforeStep: (() throws -> Void)?
    /// Multiplies the scheduled learning rate; reduce-on-plateau callbacks lower it.
    public var learningRateScale: Float = 1
    /// The last epoch `fit` finished (0 before any).
    public internal(set) var lastEpoch = 0
    /// How the learning rate moves from `baseLearningRate` over `plannedEpochs` epochs,
    /// updated before every step.
    public var schedule: LearningRateSchedule
    /// The optimizer's learning rate when the trainer was made: where the schedule starts.
    public let baseLearningRate: Float
    /// The epoch count the schedule spans (the run's length).
    public var plannedEpochs: Int

    public init(model: Layer, optimizer: Optimizer, schedule: LearningRateSchedule = .constant,
                plannedEpochs: Int = 1, verbose: Bool = true) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.baseLearningRate = optimizer.learningRate
        self.plannedEpochs = max(1, plannedEpochs)
        self.verbose = verbose
    }

    /// Trains one pass over `loader` (epoch numbers start at 1; they select the shuffle).
    /// Returns mean training loss and accuracy, time and throughput.
    public func trainEpoch(_ loader: DataLoader, epoch: Int) throws -> EpochRecord {
        model.train()
        let total = loader.count
        var progress = ProgressLine(total: total, live: verbose && isatty(STDOUT_FILENO) != 0)
        var lossSum = 0.0, correct = 0, seen = 0, step = 0
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let totalSteps = plannedEpochs * total
        func train(_ batch: DataLoader.Batch) throws {
            optimizer.learningRate = learningRateScale
                * schedule.rate(base: baseLearningRate, step: (epoch - 1) * total + step, totalSteps: totalSteps)
            let logits = try model.compiled()(batch.images)
            let loss = try self.loss(logits, batch.labels)
            var objective = loss
            if let heads = model as? AuxiliaryClassifiers {
                for aux in heads.auxiliaryLogits {
                    objective = try objective + heads.auxiliaryLossWeight * self.loss(aux, batch.labels)
                }
            }
            if let penalty { objective = try objective + penalty() }
            // Like Keras' TerminateOnNaN, but before the step: a non-finite loss would carry
            // inf or NaN into every weight, so the weights stay those of the last good step.
            guard loss.item.isFinite, objective.item.isFinite else {
                if progress.live { Console.write("") }
                throw TrainingError.diverged(epoch: epoch, step: step + 1,
                                             loss: Double(loss.item.isFinite ? objective.item : loss.item))
            }
            optimizer.zeroGrad()
            try objective.backward()
            try beforeStep?()
            optimizer.step()
            let n = batch.labels.count
            lossSum += Double(loss.item) * Double(n)
            correct += Trainer.countCorrect(logits: logits, labels: batch.labels)
            seen += n
            step += 1
            if verbose {
                progress.update(step: step, elapsed: elapsed(),
                                figures: [("loss", lossSum / Double(seen)), ("accuracy", Double(correct) / Double(seen))])
            }
        }
        // Time the steps spent waiting for data: with prefetching, only for batches the
        // workers had not finished; without, every batch's copying and augmentation.
        var dataWait = 0.0
        if loader.prefetchDepth > 0 {
            let batches = loader.prefetched(epoch: epoch, depth: loader.prefetchDepth, workers: loader.prefetchWorkers)
            for batch in batches { try train(batch) }
            dataWait = batches.statistics.waitSeconds
        } else {
            let batches = loader.batches(epoch: epoch)
            for position in batches.indices {
                let built = DispatchTime.now().uptimeNanoseconds
                let batch = batches[position]
                dataWait += Double(DispatchTime.now().uptimeNanoseconds - built) / 1e9
                try train(batch)
            }
        }
        let seconds = elapsed()
        // A finite loss can hide overflowing state (Adam's squared gradients reach inf first),
        // which must never reach a checkpoint: one scan per epoch is cheap next to its steps.
        if let bad = nonFiniteState() {
            if verbose { progress.finish(elapsed: seconds, figures: [("loss", lossSum / Double(max(seen, 1)))]) }
            throw TrainingError.nonFinite(epoch: epoch, what: "\(bad) (mean training loss \(lossSum / Double(max(seen, 1))))")
        }
        var record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)),
                                 trainAccuracy: Double(correct) / Double(max(seen, 1)), testLoss: nil, testAccuracy: nil,
                                 seconds: seconds, imagesPerSecond: Double(seen) / max(seconds, 1e-9),
                                 learningRate: Double(optimizer.learningRate))
        record.dataWaitSeconds = dataWait
        if verbose {
            progress.finish(elapsed: seconds, figures: [("loss", record.trainLoss), ("accuracy", record.trainAccuracy)])
        }
        return record
    }

    /// Mean loss and accuracy of the model on `data`, in evaluation mode without recording
    /// gradients, `batchSize` images at a time.
    public func evaluate(_ data: LabeledImages, batchSize: Int = 1000) throws -> Evaluation {
        try Trainer.evaluate(model, data, batchSize: batchSize)
    }

    /// Mean loss and accuracy of `model` on `data`.
    public static func evaluate(_ model: Layer, _ data: LabeledImages, batchSize: Int = 1000) throws -> Evaluation {
        model.eval()
        defer { model.train() }
        let loader = try DataLoader(data, batchSize: batchSize, shuffle: false, dropLast: false)
        var lossSum = 0.0, correct = 0, seen = 0
        try withNoGrad {
            for batch in loader.batches(epoch: 0) {
                let logits = try model.compiled()(batch.images)
                let loss = try Tensor.crossEntropy(logits: logits, targets: batch.labels)
                lossSum += Double(loss.item) * Double(batch.labels.count)
                correct += countCorrect(logits: logits, labels: batch.labels)
                seen += batch.labels.count
            }
        }
        return Evaluation(loss: lossSum / Double(max(seen, 1)), accuracy: Double(correct) / Double(max(seen, 1)), count: seen)
    }

    /// The first tensor of the model's state dict or the optimizer's state holding inf or NaN,
    /// described with its count of such values (`optimizer.4.exp_avg_sq has 20726 of 48000
    /// values inf or NaN`); nil when every value is finite.
    public func nonFiniteState() -> String? {
        let tensors = model.stateDict() + optimizer.stateDict().map { ("optimizer." + $0.name, $0.tensor) }
        return Trainer.firstNonFinite(tensors)
    }

    /// The first of `tensors` holding inf or NaN and how many such values it has; nil when none.
    public static func firstNonFinite(_ tensors: [(name: String, tensor: Tensor)]) -> String? {
        for (name, tensor) in tensors {
            let p = tensor.pointer
            var bad = 0
            for i in 0..<tensor.count where !p[i].isFinite { bad += 1 }
            if bad > 0 { return "\(name) has \(bad) of \(tensor.count) values inf or NaN" }
        }
        return nil
    }

    /// How many rows of `logits [N, C]` have their maximum at the label.
    public static func countCorrect(logits: Tensor, labels: [Int]) -> Int {
        let c = logits.shape[1], p = logits.pointer
        var correct = 0
        for (r, label) in labels.enumerated() {
            var best = 0
            for k in 1..<c where p[r * c + k] > p[r * c + best] { best = k }
            if best == label { correct += 1 }
        }
        return correct
    }
}

/// Training that cannot go on.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss of step `step` (from 1) of `epoch` was inf or NaN; the step was not taken.
    case diverged(epoch: Int, step: Int, loss: Double)
    /// At the end of `epoch` a weight, buffer, optimizer state or evaluation figure was inf
    /// or NaN; `what` says which.
    case nonFinite(epoch: Int, what: String)
    case invalidSetting(String)

    /// Whether training diverged (`diverged` or `nonFinite`).
    public var isDivergence: Bool {
        switch self {
        case .diverged, .nonFinite: return true
        case .invalidSetting: return false
        }
    }

    /// The epoch training diverged in, nil for other errors.
    public var divergedEpoch: Int? {
        switch self {
        case .diverged(let epoch, _, _), .nonFinite(let epoch, _): return epoch
        case .invalidSetting: return nil
        }
    }

    public var description: String {
        switch self {
        case .diverged(let e, let s, let l):
            return "training diverged: loss is \(l.isNaN ? "NaN" : "\(l)") at epoch \(e), step \(s); lower the learning rate or clip the gradients"
        case .nonFinite(let e, let what):
            return "training diverged in epoch \(e): \(what); lower the learning rate or clip the gradients"
        case .invalidSetting(let message):
            return message
        }
    }
}
