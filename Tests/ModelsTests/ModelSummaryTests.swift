import Foundation
import FoveaTestSupport
import Models
import NN
import TensorCore
import XCTest

/// `ModelSummary` on hand-checked cases: LeNet-5's rows and seed 003's VGG-16 memory table.
final class ModelSummaryTests: XCTestCase {
    func testLeNet5RowsByHand() throws {
        let s = try ModelSummary(model: LeNet5(), input: [1, 28, 28])
        let expected: [(String, String, [Int], Int, Int)] = [
            // conv1: 6 x 28 x 28 outputs, each 1 x 5 x 5 MACs; 6*25 + 6 parameters.
            ("conv1", "Conv2D", [6, 28, 28], 156, 6 * 28 * 28 * 25),
            ("pool", "MaxPool2D", [6, 14, 14], 0, 0),
            ("conv2", "Conv2D", [16, 10, 10], 16 * 6 * 25 + 16, 16 * 10 * 10 * 6 * 25),
            ("pool", "MaxPool2D", [16, 5, 5], 0, 0),  // the same pool again: its parameters are not counted twice
            ("flatten", "Flatten", [400], 0, 0),
            ("fc1", "Dense", [120], 400 * 120 + 120, 400 * 120),
            ("fc2", "Dense", [84], 120 * 84 + 84, 120 * 84),
            ("fc3", "Dense", [10], 84 * 10 + 10, 84 * 10),
        ]
        XCTAssertEqual(s.rows.count, expected.count)
        for (row, e) in zip(s.rows, expected) {
            XCTAssertEqual(row, ModelSummary.Row(name: e.0, type: e.1, outputShape: e.2, parameters: e.3, multiplyAccumulates: e.4))
        }
        XCTAssertEqual(s.totalParameters, 61_706)
        XCTAssertEqual(s.multiplyAccumulates, 117_600 + 240_000 + 48_000 + 10_080 + 840)
        XCTAssertEqual(s.nonTrainableParameters, 0)
        XCTAssertEqual(s.bufferValues, 0)
        // Input 784, conv1 4704, pool 1176, conv2 1600, pool 400, fc 120 + 84 + 10 (ReLU is functional here, flatten excluded).
        XCTAssertEqual(s.activationValues, 784 + 4704 + 1176 + 1600 + 400 + 120 + 84 + 10)
        let table = s.table(title: "Model: lenet5")
        XCTAssertTrue(table.contains("conv2 (Conv2D)"), table)
        XCTAssertTrue(table.contains("Total params: 61,706"), table)
        XCTAssertTrue(table.contains("Total MACs: 416,520 (416.52 K)"), table)
    }

    /// Seed 003's VGG-16 table: 138M parameters, and per image the input (150K) plus every
    /// convolution, pool and dense output. Its rows sum to 15,237,608 values; torchvision's
    /// layout adds nothing here because its 7x7 adaptive pool keeps the 7x7 shape.
    func testVGG16MemoryAsSeed003CountsIt() throws {
        let s = try ModelSummary(model: VGG(.vgg16), input: [3, 224, 224])
        let seedRows = [224 * 224 * 3, 224 * 224 * 64, 224 * 224 * 64, 112 * 112 * 64,
                        112 * 112 * 128, 112 * 112 * 128, 56 * 56 * 128,
                        56 * 56 * 256, 56 * 56 * 256, 56 * 56 * 256, 28 * 28 * 256,
                        28 * 28 * 512, 28 * 28 * 512, 28 * 28 * 512, 14 * 14 * 512,
                        14 * 14 * 512, 14 * 14 * 512, 14 * 14 * 512, 7 * 7 * 512,
                        4096, 4096, 1000]
        XCTAssertEqual(s.activationValues, seedRows.reduce(0, +))
        XCTAssertEqual(s.activationValues, 15_237_608)
        XCTAssertEqual(s.totalParameters, 138_357_544)
        XCTAssertEqual(s.parameterBytes, 138_357_544 * 4)
        // Seed 003's per-layer parameter column (weights only): conv 3x3x3x64 = 1,728 ... FC 7x7x512x4096.
        let convRows = s.rows.filter { $0.type == "Conv2D" }
        XCTAssertEqual(convRows.first?.parameters, 1_728 + 64)
        XCTAssertEqual(s.rows.first { $0.name == "classifier.0" }?.parameters, 102_760_448 + 4096)
    }

    func testFrozenParametersAreNonTrainableAndModeIsRestored() throws {
        let net = try LeNetBN()
        net.conv1.weight.requiresGrad = false
        net.train()
        let s = try ModelSummary(model: net, input: [1, 28, 28])
        XCTAssertEqual(s.nonTrainableParameters, 20 * 25)
        XCTAssertEqual(s.trainableParameters, s.totalParameters - 500)
        // Batch-norm running statistics: 20 + 50 + 500 channels, mean and variance, plus 3 counters.
        XCTAssertEqual(s.bufferValues, 2 * (20 + 50 + 500) + 3)
        XCTAssertTrue(net.isTraining, "the summary restores training mode")
        XCTAssertEqual(net.bn1.batchesTracked.item, 0, "running statistics untouched")
    }

    /// Rows come from the captured graph's layer calls: one layer called twice in a row gives
    /// two rows, and ops the model's own forward applies (the ReLU) give none.
    func testTwoCallsOfOneLayerInARowAreTwoRows() throws {
        final class TwicePooled: Layer, @unchecked Sendable {
            let conv: Conv2D
            let pool: MaxPool2D
            init(channels: Int) throws {
                conv = try Conv2D(1, channels, kernelSize: 3, padding: .same)
                pool = try MaxPool2D(2)
                super.init()
            }
            override func forward(_ x: Tensor) throws -> Tensor { try pool(pool(conv(x).relu())) }
            override var children: [(name: String, layer: Layer)] { [("conv", conv), ("pool", pool)] }
        }
        let s = try ModelSummary(model: TwicePooled(channels: 4), input: [1, 8, 8])
        XCTAssertEqual(s.rows, [
            ModelSummary.Row(name: "conv", type: "Conv2D", outputShape: [4, 8, 8], parameters: 40, multiplyAccumulates: 4 * 64 * 9),
            ModelSummary.Row(name: "pool", type: "MaxPool2D", outputShape: [4, 4, 4], parameters: 0, multiplyAccumulates: 0),
            ModelSummary.Row(name: "pool", type: "MaxPool2D", outputShape: [4, 2, 2], parameters: 0, multiplyAccumulates: 0),
        ])
    }

    func testBadInputsAreClearErrors() throws {
        XCTAssertThrowsError(try ModelSummary(model: LeNet5(), input: [1, 0, 28])) { error in
            XCTAssertTrue("\(error)".contains("positive"), "\(error)")
        }
        XCTAssertThrowsError(try ModelSummary(model: VGG(.vgg11, classes: 2), input: [3, 16, 16])) { error in
            XCTAssertTrue("\(error)".contains("smaller than the window"), "\(error)")
        }
    }
}
