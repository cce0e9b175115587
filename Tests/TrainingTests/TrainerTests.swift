import Datasets
import Foundation
import FoveaTestSupport
import Models
import NN
import Optimizers
import TensorCore
import Training
import XCTest

final class TrainerTests: XCTestCase {
    /// 8x8 images of two classes: a bright bar in the top half (class 0) or the bottom half
    /// (class 1), on uniform noise.
    func barImages(count: Int, seed: UInt64) throws -> LabeledImages {
        var g = SeededGenerator(seed: seed)
        var pixels = [Float](repeating: 0, count: count * 64)
        var labels = [Int](repeating: 0, count: count)
        for n in 0..<count {
            labels[n] = Int(g.next() % 2)
            for i in 0..<64 { pixels[n * 64 + i] = Float(g.next() % 1000) / 2000 }
            let row = labels[n] == 0 ? 1 + Int(g.next() % 2) : 5 + Int(g.next() % 2)
            for x in 1..<7 { pixels[n * 64 + row * 8 + x] += 1 }
        }
        return try LabeledImages(images: Tensor(shape: [count, 1, 8, 8], values: pixels), labels: labels,
                                 classNames: ["top", "bottom"])
    }

    func smallNet() throws -> Sequential {
        try Sequential(Conv2D(1, 4, kernelSize: 3, padding: .same), ReLU(), MaxPool2D(2), Flatten(), Dense(64, 2))
    }

    func testTrainingLearnsASeparableTask() throws {
        GlobalRandom.seed(3)
        let net = try smallNet()
        let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.05, momentum: 0.9),
                              verbose: false)
        let loader = try DataLoader(barImages(count: 512, seed: 1), batchSize: 16, shuffle: true, seed: 7)
        let before = try trainer.evaluate(barImages(count: 256, seed: 2))
        var last: EpochRecord?
        for epoch in 1...3 { last = try trainer.trainEpoch(loader, epoch: epoch) }
        let after = try trainer.evaluate(barImages(count: 256, seed: 2))
        XCTAssertEqual(after.count, 256)
        XCTAssertGreaterThan(after.accuracy, 0.97, "held-out accuracy after 3 epochs")
        XCTAssertLessThan(after.loss, before.loss / 4)
        let record = try XCTUnwrap(last)
        XCTAssertEqual(record.epoch, 3)
        XCTAssertGreaterThan(record.trainAccuracy, 0.95)
        XCTAssertGreaterThan(record.imagesPerSecond, 0)
    }

    func testSameSeedGivesTheSameWeights() throws {
        func train() throws -> [Float] {
            GlobalRandom.seed(11)
            let net = try smallNet()
            let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.05, momentum: 0.9),
                                  verbose: false)
            _ = try trainer.trainEpoch(DataLoader(barImages(count: 256, seed: 1), batchSize: 32, shuffle: true, seed: 5), epoch: 1)
            return net.parameters.flatMap(\.values)
        }
        XCTAssertEqual(try train(), try train())
    }

    func testScheduleSetsTheRateBeforeEveryStep() throws {
        GlobalRandom.seed(1)
        let net = try smallNet()
        let sgd = try SGD(parameters: net.parameters, learningRate: 0.1)
        let trainer = Trainer(model: net, optimizer: sgd, schedule: .cosine(minimum: 0), plannedEpochs: 2, verbose: false)
        let loader = try DataLoader(barImages(count: 64, seed: 1), batchSize: 16, shuffle: false)
        let first = try trainer.trainEpoch(loader, epoch: 1)
        // Epoch 1's last step is step 3 of 8: 0.1 * (1 + cos(3π/8)) / 2.
        XCTAssertEqual(first.learningRate, Double(0.1 * (1 + cos(3 * Float.pi / 8)) / 2), accuracy: 1e-6)
        let second = try trainer.trainEpoch(loader, epoch: 2)
        XCTAssertEqual(second.learningRate, Double(0.1 * (1 + cos(7 * Float.pi / 8)) / 2), accuracy: 1e-6)
    }

    func testDivergenceStopsWithTheStep() throws {
        GlobalRandom.seed(1)
        let net = try smallNet()
        let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 1e30), verbose: false)
        let loader = try DataLoader(barImages(count: 256, seed: 1), batchSize: 16, shuffle: false)
        XCTAssertThrowsError(try trainer.trainEpoch(loader, epoch: 1)) { error in
            guard case .diverged(let epoch, let step, _) = error as? TrainingError else {
                return XCTFail("expected TrainingError.diverged, got \(error)")
            }
            XCTAssertEqual(epoch, 1)
            XCTAssertGreaterThan(step, 1)
            XCTAssertTrue("\(error)".contains("lower the learning rate"))
        }
    }

    func testCountCorrectTakesTheFirstMaximum() throws {
        let logits = try Tensor(shape: [3, 3], values: [0, 2, 1, 5, 5, 0, -1, -2, -3])
        XCTAssertEqual(Trainer.countCorrect(logits: logits, labels: [1, 0, 0]), 3)
        XCTAssertEqual(Trainer.countCorrect(logits: logits, labels: [2, 1, 1]), 0)
    }

    func testLeNetLearnsAnMNISTSubset() throws {
        GlobalRandom.seed(42)
        let train = try MNIST.load(split: .train, from: bundledMNISTDirectory).subset(0..<4000)
            .normalized(mean: [MNIST.mean], std: [MNIST.std])
        let test = try MNIST.load(split: .test, from: bundledMNISTDirectory).subset(0..<1000)
            .normalized(mean: [MNIST.mean], std: [MNIST.std])
        let net = try LeNet5()
        let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.015, momentum: 0.9),
                              schedule: .cosine(minimum: 0), verbose: false)
        _ = try trainer.trainEpoch(DataLoader(train, batchSize: 24, shuffle: true, seed: 42), epoch: 1)
        let result = try trainer.evaluate(test)
        // 4,000 images, one epoch: 0.867 measured; chance is 0.1.
        XCTAssertGreaterThan(result.accuracy, 0.8)
    }
}

/// Background prefetching and the balanced sampler inside the training loop.
extension TrainerTests {
    func testPrefetchingChangesNothingButIsMeasured() throws {
        let data = try barImages(count: 300, seed: 4)
        var weights: [[Float]] = []
        for prefetch in [0, 3] {
            GlobalRandom.seed(5)
            let net = try smallNet()
            let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.05, momentum: 0.9), verbose: false)
            var loader = try DataLoader(data, batchSize: 16, shuffle: true, seed: 2)
                .augmented(with: Augmentation([.affine(degrees: 10, translate: 0.1, scale: 0.9...1.1)]))
            if prefetch > 0 { loader = try loader.prefetching(depth: prefetch, workers: 2) }
            for epoch in 1...2 {
                let record = try trainer.trainEpoch(loader, epoch: epoch)
                let wait = try XCTUnwrap(record.dataWaitSeconds, "the wait for data is measured")
                XCTAssertGreaterThanOrEqual(wait, 0)
                XCTAssertLessThanOrEqual(wait, record.seconds)
                XCTAssertNotNil(record.jsonObject["data_wait_seconds"] as? Double)
            }
            weights.append(net.parameters.flatMap { $0.values })
        }
        XCTAssertEqual(weights[0], weights[1], "prefetched batches are the same batches")
    }

    func testBalancedSamplerTrainsOnTheRareClassAsOftenAsTheCommonOne() throws {
        // 95% top bars, 5% bottom bars.
        let all = try barImages(count: 2000, seed: 8)
        let top = all.labels.indices.filter { all.labels[$0] == 0 }, bottom = all.labels.indices.filter { all.labels[$0] == 1 }
        let skewed = try all.subset(Array(top.prefix(380)) + Array(bottom.prefix(20)))
        XCTAssertEqual(skewed.classCounts, [380, 20])
        let loader = try DataLoader(skewed, batchSize: 20, shuffle: true, seed: 3).balancedSampling()
        var seen = [0, 0]
        for batch in loader.batches(epoch: 1) { for label in batch.labels { seen[label] += 1 } }
        XCTAssertEqual(seen[0] + seen[1], 400)
        XCTAssertEqual(Double(seen[1]) / 400, 0.5, accuracy: 0.1, "drawn classes \(seen)")
    }
}

/// Divergence stops training with the place and the value, and nothing non-finite is kept.
final class DivergenceTests: XCTestCase {
    func smallNet() throws -> Sequential {
        try Sequential(Conv2D(1, 4, kernelSize: 3, padding: .same), BatchNorm2D(4), ReLU(), MaxPool2D(2), Flatten(), Dense(64, 2))
    }

    func images(count: Int) throws -> LabeledImages {
        var g = SeededGenerator(seed: 5)
        let pixels = (0..<(count * 64)).map { _ in Float(g.next() % 1000) / 1000 }
        return try LabeledImages(images: Tensor(shape: [count, 1, 8, 8], values: pixels), labels: (0..<count).map { $0 % 2 },
                                 classNames: ["a", "b"])
    }

    // issue 29 finding 8: the step whose loss is NaN is not taken, so the weights stay finite.
    func testANonFiniteLossStopsBeforeItsStep() throws {
        GlobalRandom.seed(1)
        let net = try smallNet()
        let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.01), verbose: false)
        var calls = 0
        trainer.loss = { logits, labels in
            calls += 1
            let loss = try Tensor.crossEntropy(logits: logits, targets: labels)
            return calls == 3 ? try loss * Tensor(scalar: .nan) : loss
        }
        let loader = try DataLoader(images(count: 64), batchSize: 8, shuffle: false)
        XCTAssertThrowsError(try trainer.trainEpoch(loader, epoch: 1)) { error in
            guard case .diverged(let epoch, let step, let loss)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(epoch, 1)
            XCTAssertEqual(step, 3)
            XCTAssertTrue(loss.isNaN)
            XCTAssertTrue("\(error)".contains("loss is NaN at epoch 1, step 3"), "\(error)")
        }
        XCTAssertNil(trainer.nonFiniteState(), "the weights and optimizer state stay those of step 2")
    }

    // issue 29 finding 8: a finite loss with state gone to inf (Adam's squared gradients,
    // a running variance) is found at the end of the epoch.
    func testNonFiniteStateEndsTheEpochNamingTheTensor() throws {
        GlobalRandom.seed(1)
        let net = try smallNet()
        let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.01), verbose: false)
        let bn = try XCTUnwrap(net.allLayers.compactMap { $0 as? BatchNorm }.first)
        bn.runningVar.pointer[2] = .infinity   // used only in evaluation: training losses stay finite
        let loader = try DataLoader(images(count: 32), batchSize: 8, shuffle: false)
        XCTAssertThrowsError(try trainer.trainEpoch(loader, epoch: 1)) { error in
            guard case .nonFinite(let epoch, let what)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(epoch, 1)
            XCTAssertTrue(what.contains("running_var has 1 of 4 values inf or NaN"), what)
            XCTAssertTrue((error as? TrainingError)?.isDivergence == true)
            XCTAssertTrue("\(error)".contains("lower the learning rate"), "\(error)")
        }
    }

    // issue 29 finding 8: fit hands no diverged epoch to its callbacks or onEpoch (which
    // writes the history and checkpoint), and keeps what the earlier epochs saved.
    func testFitSavesNoDivergedEpoch() throws {
        GlobalRandom.seed(1)
        let net = try smallNet()
        let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.01), verbose: false)
        var saved: [Int] = []
        trainer.beforeStep = {
            // In epoch 2, a weight goes to NaN: the next loss is NaN.
            if saved.count == 1 { net.parameters[0].pointer[0] = .nan }
        }
        let loader = try DataLoader(images(count: 32), batchSize: 8, shuffle: false)
        XCTAssertThrowsError(try trainer.fit(loader, epochs: 3) { record in saved.append(record.epoch) }) { error in
            XCTAssertEqual((error as? TrainingError)?.divergedEpoch, 2, "\(error)")
        }
        XCTAssertEqual(saved, [1])
        XCTAssertEqual(trainer.lastEpoch, 1)
    }

    // issue 29 finding 8: a checkpoint never holds inf or NaN, and the previous file stays.
    func testCheckpointRefusesNonFiniteState() throws {
        GlobalRandom.seed(1)
        let net = try smallNet()
        let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.01), verbose: false)
        let record = EpochRecord(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.5, seconds: 1, imagesPerSecond: 10, learningRate: 0.01)
        let url = try makeTemporaryDirectory().appendingPathComponent(TrainingCheckpoint.fileName)
        try TrainingCheckpoint(trainer: trainer, history: [record]).write(to: url)
        let good = try Data(contentsOf: url)

        net.parameters[1].pointer[0] = -.infinity
        XCTAssertThrowsError(try TrainingCheckpoint(trainer: trainer, history: [record]).write(to: url)) { error in
            XCTAssertTrue("\(error)".contains("has 1 of"), "\(error)")
        }
        net.parameters[1].pointer[0] = 0
        var nan = record
        nan.testLoss = .nan
        XCTAssertThrowsError(try TrainingCheckpoint(trainer: trainer, history: [nan]).write(to: url)) { error in
            XCTAssertTrue("\(error)".contains("history"), "\(error)")
            XCTAssertFalse("\(error)".contains("NSCocoaErrorDomain"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: url), good)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path), [TrainingCheckpoint.fileName])
    }
}
