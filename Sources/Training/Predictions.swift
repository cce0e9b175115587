import Foundation
import TensorCore
import NN
import Datasets
import Metrics

/// What a classifier said about every image of a labelled set: the softmax probabilities,
/// the labels, and every metric derived from them (confusion matrix, per-class precision,
/// recall and F1, one-vs-rest ROC and precision-recall curves, top-k accuracy).
public struct Predictions: Sendable {
    /// Softmax probabilities, row-major `[count * classCount]`.
    public let probabilities: [Float]
    /// True class per image.
    public let labels: [Int]
    public let classCount: Int
    public let classNames: [String]
    /// Mean cross-entropy.
    public let loss: Double

    /// Runs `model` over `data` in evaluation mode without a tape, `batchSize` images at a
    /// time; the model's mode is restored afterwards.
    public init(model: Layer, data: LabeledImages, batchSize: Int = 500) throws {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let loader = try DataLoader(data, batchSize: batchSize, shuffle: false, dropLast: false)
        var probabilities: [Float] = []
        var classes = 0, lossSum = 0.0
        try withNoGrad {
            for batch in loader.batches(epoch: 0) {
                let logits = try model.compiled()(batch.images)
                guard logits.rank == 2 else {
                    throw TensorError.shapeMismatch(op: "Predictions", "model output \(describe(logits.shape)), expected logits [N, classes]")
                }
                classes = logits.shape[1]
                lossSum += Double(try Tensor.crossEntropy(logits: logits, targets: batch.labels).item) * Double(batch.labels.count)
                probabilities += try logits.softmax(axis: 1).values
            }
        }
        try self.init(probabilities: probabilities, labels: data.labels, classCount: classes,
                      classNames: data.classNames.count == classes ? data.classNames : (0..<classes).map(String.init),
                      loss: lossSum / Double(max(data.count, 1)))
    }

    /// Predictions made elsewhere (`probabilities` `[labels.count * classCount]`).
    /// - Throws: `TrainingError.invalidSetting` when the sizes disagree, `MetricsError` for a
    ///   NaN probability (a diverged model).
    public init(probabilities: [Float], labels: [Int], classCount: Int, classNames: [String]? = nil, loss: Double = .nan) throws {
        guard classCount >= 1, probabilities.count == labels.count * classCount else {
            throw TrainingError.invalidSetting("\(probabilities.count) probabilities for \(labels.count) labels of \(classCount) classes")
        }
        self.predicted = try ClassificationMetrics.predictions(scores: probabilities, classCount: classCount)
        self.probabilities = probabilities
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames.flatMap { $0.count == classCount ? $0 : nil } ?? (0..<classCount).map(String.init)
        self.loss = loss
    }

    public var count: Int { labels.count }

    /// Arg-max class per image (the lowest index on ties).
    public let predicted: [Int]

    /// The probability the model gave image `i`'s predicted class.
    public func confidence(_ i: Int) -> Float {
        probabilities[(i * classCount)..<((i + 1) * classCount)].max() ?? 0
    }

    public func confusionMatrix() throws -> ConfusionMatrix {
        try ConfusionMatrix(labels: labels, predictions: predicted, classCount: classCount)
    }

    public func report() throws -> ClassificationReport { ClassificationReport(try confusionMatrix()) }

    public func topKAccuracy(_ k: Int) throws -> Double {
        try ClassificationMetrics.topKAccuracy(labels: labels, scores: probabilities, classCount: classCount, k: k)
    }

    /// One-vs-rest ROC of every class (the probability of class c as its score).
    public func rocCurves() throws -> OneVsRestROC {
        try OneVsRestROC(labels: labels, scores: probabilities, classCount: classCount)
    }

    /// Precision-recall curve of class `c` against the rest.
    public func precisionRecall(class c: Int) throws -> PrecisionRecallCurve {
        try PrecisionRecallCurve(positives: labels.map { $0 == c },
                                 scores: (0..<count).map { probabilities[$0 * classCount + c] })
    }
}
