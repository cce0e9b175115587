import Fovea
import Foundation
import XCTest

/// The README's library examples, line for line, so they keep compiling and doing what they say.
final class ReadmeExampleTests: XCTestCase {
    func testTrainingExample() throws {
        GlobalRandom.seed(42)
        let mnist = try MNIST.defaultDirectory()
        let train = try MNIST.load(split: .train, from: mnist).normalized(mean: [MNIST.mean], std: [MNIST.std])
        let test = try MNIST.load(split: .test, from: mnist).normalized(mean: [MNIST.mean], std: [MNIST.std])
        let model = try LeNet5()
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.015, momentum: 0.9)
        let trainer = Trainer(model: model, optimizer: sgd, schedule: .cosine(minimum: 0), verbose: false)
        _ = try trainer.trainEpoch(DataLoader(train, batchSize: 24, shuffle: true, seed: 42), epoch: 1)
        let accuracy = try trainer.evaluate(test).accuracy
        XCTAssertGreaterThanOrEqual(accuracy, 0.985)
    }

    func testAutogradExample() throws {
        let x = Tensor([1, 2, 3], requiresGrad: true)
        let loss = try (x * x).sum()
        XCTAssertEqual(loss.item, 14)
        try loss.backward()
        XCTAssertEqual(x.grad?.values, [2, 4, 6])
    }

    func testReadmeStillShowsTheseExamples() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        for line in ["let trainer = Trainer(model: model, optimizer: sgd, schedule: .cosine(minimum: 0))",
                     "_ = try trainer.trainEpoch(DataLoader(train, batchSize: 24, shuffle: true, seed: 42), epoch: 1)",
                     "let loss = try (x * x).sum()", "swift run -c release fovea train", "swift test -c release"] {
            XCTAssertTrue(readme.contains(line), "README no longer contains: \(line)")
        }
    }
}
