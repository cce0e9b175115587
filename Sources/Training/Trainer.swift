import Foundation
import TensorCore
import NN
import Optimizers
import Datasets

/// What one epoch of training measured.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
    public var learningRate: Double

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, testLoss: Double? = nil,
                testAccuracy: Double? = nil, seconds: Double, imagesPerSecond: Double, learningRate: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.learningRate = learningRate
    }
}

/// Loss and accuracy of a model on a labelled set.
public struct Evaluation: Sendable, Equatable {
    /// Mean cross-entropy.
    public var loss: Double
    /// Fraction of images whose arg-max logit is the label.
    public var accuracy: Double
    /// Number of images evaluated.
    public var count: Int

    public init(loss: Double, accuracy: Double, count: Int) {
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
    }
}

/// The fit/evaluate loop for classifiers trained with cross-entropy, like Keras' `fit`.
public final class Trainer {
    public let model: Layer
    public let optimizer: Optimizer
    /// Whether to print a Keras-style progress line per epoch.
    public var verbose: Bool
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
        for batch in loader.batches(epoch: epoch) {
            optimizer.learningRate = schedule.rate(base: baseLearningRate, step: (epoch - 1) * total + step,
                                                   totalSteps: totalSteps)
            let logits = try model(batch.images)
            let loss = try Tensor.crossEntropy(logits: logits, targets: batch.labels)
            optimizer.zeroGrad()
            try loss.backward()
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
            guard loss.item.isFinite else {
                throw TrainingError.diverged(epoch: epoch, step: step, loss: Double(loss.item))
            }
        }
        let seconds = elapsed()
        let record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)),
                                 trainAccuracy: Double(correct) / Double(max(seen, 1)), testLoss: nil, testAccuracy: nil,
                                 seconds: seconds, imagesPerSecond: Double(seen) / max(seconds, 1e-9),
                                 learningRate: Double(optimizer.learningRate))
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
                let logits = try model(batch.images)
                let loss = try Tensor.crossEntropy(logits: logits, targets: batch.labels)
                lossSum += Double(loss.item) * Double(batch.labels.count)
                correct += countCorrect(logits: logits, labels: batch.labels)
                seen += batch.labels.count
            }
        }
        return Evaluation(loss: lossSum / Double(max(seen, 1)), accuracy: Double(correct) / Double(max(seen, 1)), count: seen)
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
    case diverged(epoch: Int, step: Int, loss: Double)
    public var description: String {
        switch self {
        case .diverged(let e, let s, let l):
            return "training diverged: loss is \(l) at epoch \(e), step \(s); lower the learning rate"
        }
    }
}
