import Datasets
import Foundation
import FoveaTestSupport
import NN
import Optimizers
import TensorCore
import Training
import XCTest

final class FitTests: XCTestCase {
    func record(_ epoch: Int, validationAccuracy: Double? = nil, validationLoss: Double? = nil) -> EpochRecord {
        EpochRecord(epoch: epoch, trainLoss: 1, trainAccuracy: 0.5, validationLoss: validationLoss,
                    validationAccuracy: validationAccuracy, seconds: 1, imagesPerSecond: 1, learningRate: 0.1)
    }

    func trainer() throws -> Trainer {
        GlobalRandom.seed(1)
        let net = try Sequential(Flatten(), Dense(4, 2))
        return Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.1), verbose: false)
    }

    func testEarlyStoppingWaitsPatienceEpochsAfterTheBest() throws {
        let t = try trainer()
        let stopper = try EarlyStopping(monitor: .validationAccuracy, patience: 2, minDelta: 0.001, restoreBestWeights: false)
        let accuracies = [0.90, 0.95, 0.9505, 0.94, 0.96]   // 0.9505 is not better by more than minDelta
        var stops: [Bool] = []
        for (i, a) in accuracies.enumerated() {
            stops.append(try stopper.epochEnded(record(i + 1, validationAccuracy: a), trainer: t))
        }
        XCTAssertEqual(stops, [false, false, false, true, false])
        XCTAssertEqual(stopper.best, 0.96)
        XCTAssertEqual(stopper.stoppedEpoch, 4)
    }

    /// Issue 29 finding 6: early-stopping counts from a resumed checkpoint that are NaN or
    /// infinite trapped converting to Int; they are refused, quoted.
    func testNonFiniteEarlyStoppingStateIsRefused() throws {
        let stopper = try EarlyStopping(monitor: .validationLoss, patience: 2)
        for values in [["best_epoch": Double.nan, "wait": 0], ["best_epoch": 1, "wait": .infinity],
                       ["best_epoch": 1, "wait": 0, "stopped_epoch": 1e300]] {
            XCTAssertThrowsError(try stopper.restore(values: values, tensors: [:])) {
                XCTAssertTrue("\($0)".contains("whole numbers"), "\($0)")
            }
        }
        try stopper.restore(values: ["best_epoch": 3, "wait": 1], tensors: [:])
        XCTAssertEqual(stopper.bestEpoch, 3)
    }

    func testLossIsMinimised() throws {
        let t = try trainer()
        let stopper = try EarlyStopping(monitor: .validationLoss, patience: 0)
        XCTAssertFalse(try stopper.epochEnded(record(1, validationLoss: 0.5), trainer: t))
        XCTAssertFalse(try stopper.epochEnded(record(2, validationLoss: 0.4), trainer: t))
        XCTAssertTrue(try stopper.epochEnded(record(3, validationLoss: 0.45), trainer: t))
        XCTAssertEqual(stopper.bestEpoch, 2)
    }

    func testBestWeightsComeBack() throws {
        let t = try trainer()
        let weight = t.model.parameters[0]
        let stopper = try EarlyStopping(monitor: .validationAccuracy, patience: 5)
        try weight.assign(Tensor(repeating: 1, shape: weight.shape))
        _ = try stopper.epochEnded(record(1, validationAccuracy: 0.9), trainer: t)
        try weight.assign(Tensor(repeating: 2, shape: weight.shape))
        _ = try stopper.epochEnded(record(2, validationAccuracy: 0.8), trainer: t)
        try stopper.trainingEnded(trainer: t)
        XCTAssertEqual(weight.values, [Float](repeating: 1, count: weight.count))
    }

    func testMissingValidationFiguresAreAnError() throws {
        let stopper = try EarlyStopping(patience: 1)
        XCTAssertThrowsError(try stopper.epochEnded(record(1), trainer: trainer())) { error in
            XCTAssertTrue("\(error)".contains("validation split"), "\(error)")
        }
        XCTAssertThrowsError(try EarlyStopping(patience: -1))
        XCTAssertThrowsError(try EarlyStopping(patience: 1, minDelta: -0.1))
    }

    func testFitEvaluatesEachEpochAndStopsEarly() throws {
        GlobalRandom.seed(5)
        var generator = SeededGenerator(seed: 5)
        let data = try LabeledImages(images: Tensor.uniform([64, 1, 2, 2], low: 0, high: 1, generator: &generator),
                                     labels: (0..<64).map { $0 % 2 }, classNames: ["a", "b"])
        let (train, validation) = try data.split(validationFraction: 0.25, seed: 3)
        let net = try Sequential(Flatten(), Dense(4, 2))
        // A learning rate so small that nothing improves after the first epoch.
        let t = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 1e-12), verbose: false)
        let stopper = try EarlyStopping(monitor: .validationLoss, patience: 1, minDelta: 1e-3)
        var seen: [Int] = []
        let history = try t.fit(DataLoader(train, batchSize: 16, shuffle: true, seed: 1), epochs: 10,
                                validation: validation, test: validation, callbacks: [stopper]) { seen.append($0.epoch) }
        // Epoch 2 does not improve on epoch 1: with patience 1 that ends training (Keras' rule).
        XCTAssertEqual(history.map(\.epoch), [1, 2])
        XCTAssertEqual(seen, [1, 2])
        XCTAssertEqual(stopper.stoppedEpoch, 2)
        for r in history {
            XCTAssertNotNil(r.validationAccuracy)
            XCTAssertEqual(r.validationLoss, r.testLoss, "validation and test were the same set")
        }
        XCTAssertEqual(t.lastEpoch, 2)
    }

    func testLearningRateScaleMultipliesTheSchedule() throws {
        let t = try trainer()
        t.learningRateScale = 0.1
        let data = try LabeledImages(images: Tensor(zeros: [8, 1, 2, 2]), labels: [Int](repeating: 0, count: 8), classNames: ["a", "b"])
        let r = try t.trainEpoch(DataLoader(data, batchSize: 4), epoch: 1)
        XCTAssertEqual(r.learningRate, 0.01, accuracy: 1e-9)
    }

    func testPenaltyAndBeforeStepHooksRun() throws {
        let t = try trainer()
        var hooks = 0
        t.penalty = { hooks += 1; return Tensor(scalar: 0) }
        t.beforeStep = { hooks += 100 }
        let data = try LabeledImages(images: Tensor(zeros: [8, 1, 2, 2]), labels: [Int](repeating: 1, count: 8), classNames: ["a", "b"])
        _ = try t.trainEpoch(DataLoader(data, batchSize: 4), epoch: 1)
        XCTAssertEqual(hooks, 202)
    }
}
