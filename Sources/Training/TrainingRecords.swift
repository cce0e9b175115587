import Foundation

/// What one epoch of training measured.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// Figures on the validation split, when there is one.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
    public var learningRate: Double
    /// Seconds of the epoch the training steps spent waiting for their batch (see
    /// `DataLoader.prefetching`); nil where it was not measured.
    public var dataWaitSeconds: Double?

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, testLoss: Double? = nil,
                testAccuracy: Double? = nil, validationLoss: Double? = nil, validationAccuracy: Double? = nil,
                seconds: Double, imagesPerSecond: Double, learningRate: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.learningRate = learningRate
    }
}

extension EpochRecord {
    /// The record as `metrics.json` lists it under `history`: the `history.csv` columns as
    /// keys, plus `data_wait_seconds`; null where the epoch has no such figure.
    public var jsonObject: [String: Any] {
        ["epoch": epoch, "train_loss": trainLoss, "train_accuracy": trainAccuracy,
         "val_loss": validationLoss ?? NSNull(), "val_accuracy": validationAccuracy ?? NSNull(),
         "test_loss": testLoss ?? NSNull(), "test_accuracy": testAccuracy ?? NSNull(),
         "seconds": seconds, "images_per_second": imagesPerSecond, "learning_rate": learningRate,
         "data_wait_seconds": dataWaitSeconds ?? NSNull()]
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
