import Foundation
import FoveaTestSupport
import NN
import TensorCore
import XCTest

final class TechniqueLayerTests: XCTestCase {
    /// `prelu(bn(x))`, compiled, is one step (`Tensor.batchNormPReLU`): same output,
    /// gradients, running statistics and batch count as the two layers run eagerly.
    func testBatchNormThenPReLUFusedByThePlan() throws {
        final class Unit: Layer, @unchecked Sendable {
            let bn: BatchNorm, prelu: PReLU
            init(_ bn: BatchNorm, _ prelu: PReLU) { (self.bn, self.prelu) = (bn, prelu); super.init() }
            override func forward(_ x: Tensor) throws -> Tensor { try prelu(bn(x)) }
        }
        for (shape, slopes) in [([4, 3, 5, 5], 1), ([4, 3, 5, 5], 3), ([6, 3], 1)] {
            func make() throws -> Unit {
                Unit(shape.count == 4 ? try BatchNorm2D(3) as BatchNorm : try BatchNorm1D(3), try PReLU(parameters: slopes))
            }
            let fused = try make(), plain = try make()
            let compiled = fused.compiled()
            for step in 0..<3 {
                let x = randomTensor(shape, seed: UInt64(40 + step))
                let dy = randomTensor(shape, seed: UInt64(50 + step))
                let y = try compiled(x)
                try (y * dy).sum().backward()
                let z = try plain(x)
                try (z * dy).sum().backward()
                assertClose(y.values, z.values, rtol: 1e-6, atol: 1e-6, "\(shape)")
            }
            XCTAssertEqual(compiled.plan(for: shape)?.stepNames, ["batchNormPReLU"])
            assertClose(fused.bn.weight!.grad!.values, plain.bn.weight!.grad!.values, rtol: 1e-5, atol: 1e-5)
            assertClose(fused.bn.bias!.grad!.values, plain.bn.bias!.grad!.values, rtol: 1e-5, atol: 1e-5)
            assertClose(fused.prelu.weight.grad!.values, plain.prelu.weight.grad!.values, rtol: 1e-4, atol: 1e-4)
            XCTAssertEqual(fused.bn.runningMean.values, plain.bn.runningMean.values)
            XCTAssertEqual(fused.bn.runningVar.values, plain.bn.runningVar.values)
            XCTAssertEqual(fused.bn.batchesTracked.values, [3])
            fused.eval(); plain.eval()
            let x = randomTensor(shape, seed: 60)
            assertClose(try compiled(x).values, try plain(x).values, rtol: 1e-6, atol: 1e-6)
            assertClose(try compiled(x).values, try plain(x).values, rtol: 1e-6, atol: 1e-6)
        }
    }

    func testBatchNormLayerTrainsThenEvaluatesWithRunningStatistics() throws {
        let bn = try BatchNorm2D(2, momentum: 0.5)
        XCTAssertEqual(bn.stateDict().map(\.name), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        let x = randomTensor([4, 2, 3, 3], seed: 1, low: 1, high: 3)
        let y = try bn(x)
        // Training: each channel of the output has mean 0 and (biased) variance ~1.
        for c in 0..<2 {
            var values: [Float] = []
            for n in 0..<4 { for i in 0..<9 { values.append(y.values[(n * 2 + c) * 9 + i]) } }
            let mean = values.reduce(0, +) / 36
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 36
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
        XCTAssertEqual(bn.batchesTracked.item, 1)
        XCTAssertNotEqual(bn.runningMean.values, [0, 0])
        // Evaluation: running statistics, which no longer move.
        bn.eval()
        let before = bn.runningMean.values
        let e = try bn(x)
        XCTAssertEqual(bn.runningMean.values, before)
        XCTAssertEqual(bn.batchesTracked.item, 1)
        let rm = bn.runningMean.values, rv = bn.runningVar.values
        assertClose([e.values[0]], [(x.values[0] - rm[0]) / (rv[0] + 1e-5).squareRoot()], rtol: 1e-5)
        XCTAssertThrowsError(try bn(Tensor(zeros: [2, 3, 2, 2]))) { XCTAssertTrue("\($0)".contains("[2, 3, 2, 2]")) }
        XCTAssertThrowsError(try BatchNorm1D(4, momentum: 1.5)) { XCTAssertTrue("\($0)".contains("1.5")) }
    }

    func testDropoutLayer() throws {
        GlobalRandom.seed(7)
        let layer = try Dropout(0.3)
        let x = Tensor(repeating: 1, shape: [100, 100])
        let y = try layer(x)
        let dropped = y.values.filter { $0 == 0 }.count
        XCTAssertEqual(Double(dropped) / 10_000, 0.3, accuracy: 0.02)
        XCTAssertEqual(Double(y.values.reduce(0, +)) / 10_000, 1, accuracy: 0.03, "inverted scaling keeps the mean")
        GlobalRandom.seed(7)
        XCTAssertEqual(try layer(x).values, y.values, "same seed, same mask")
        layer.eval()
        XCTAssertEqual(try layer(x).values, x.values)
        XCTAssertThrowsError(try Dropout(1)) { XCTAssertTrue("\($0)".contains("[0, 1)")) }
        XCTAssertThrowsError(try Dropout(-0.1))
        XCTAssertThrowsError(try layer.setProbability(1.2)) { XCTAssertTrue("\($0)".contains("1.2")) }
        XCTAssertEqual(layer.p, 0.3)
    }

    func testSpatialDropoutDropsWholeChannels() throws {
        GlobalRandom.seed(3)
        let y = try Dropout2D(0.5)(Tensor(repeating: 1, shape: [4, 8, 3, 3]))
        var droppedPlanes = 0
        for q in 0..<32 {
            let plane = Array(y.values[(q * 9)..<(q * 9 + 9)])
            XCTAssertTrue(plane.allSatisfy { $0 == 0 } || plane.allSatisfy { $0 == 2 }, "plane \(q): \(plane)")
            if plane[0] == 0 { droppedPlanes += 1 }
        }
        XCTAssertGreaterThan(droppedPlanes, 5)
        XCTAssertLessThan(droppedPlanes, 27)
    }

    func testTrainAndEvalReachNestedLayers() throws {
        let inner = try Sequential(BatchNorm1D(3), Dropout(0.5))
        let net = try Sequential(Dense(3, 3), inner, PReLU())
        net.eval()
        XCTAssertTrue(net.allLayers.allSatisfy { !$0.isTraining })
        net.train()
        XCTAssertTrue(net.allLayers.allSatisfy { $0.isTraining })
        XCTAssertEqual(net.namedParameters().map(\.name), ["0.weight", "0.bias", "1.0.weight", "1.0.bias", "2.weight"])
    }

    func testPoolingAndActivationLayersKeepShapes() throws {
        let x = randomTensor([2, 3, 5, 6], seed: 2)
        XCTAssertEqual(try GlobalAvgPool2D()(x).shape, [2, 3, 1, 1])
        XCTAssertEqual(try GlobalMaxPool2D()(x).shape, [2, 3, 1, 1])
        XCTAssertEqual(try AdaptiveAvgPool2D(Size2D(2, 4))(x).shape, [2, 3, 2, 4])
        for layer: Layer in [Identity(), LeakyReLU(), ELU(), SELU(), GELU(), try PReLU(parameters: 3)] {
            XCTAssertEqual(try layer(x).shape, x.shape, layer.typeName)
        }
        XCTAssertEqual(try Identity()(x).values, x.values)
    }

    func testEmbeddingMatchesPyTorch() throws {
        struct Golden: Decodable {
            struct Case: Decodable {
                struct Array: Decodable { var shape: [Int]; var values: [Float] }
                var name: String; var inputs: [String: Array]; var output: Array; var probe: [Float]
                var grads: [String: [Float]]; var targets: [Int]?
            }
            var cases: [Case]
        }
        let url = repositoryRoot.appendingPathComponent("Tests/TensorCoreTests/Golden/pytorch_golden.json")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        let c = try XCTUnwrap(golden.cases.first { $0.name == "embedding" })
        let layer = try Embedding(5, 3)
        try layer.weight.assign(Tensor(shape: [5, 3], values: c.inputs["w"]!.values))
        let indices = try Tensor(shape: [2, 3], values: (c.targets ?? []).map(Float.init))
        let y = try layer(indices)
        XCTAssertEqual(y.shape, c.output.shape)
        assertClose(y.values, c.output.values)
        try (y * Tensor(shape: y.shape, values: c.probe)).sum().backward()
        assertClose(layer.weight.grad!.values, c.grads["w"]!, rtol: 1e-5)
        XCTAssertThrowsError(try layer(Tensor([5]))) { XCTAssertTrue("\($0)".contains("index 5.0")) }
        XCTAssertThrowsError(try layer(Tensor([1.5])))
    }

    func testRegularisationPenalties() throws {
        let net = try Sequential(Dense(2, 2), BatchNorm1D(2))
        try net.parameters[0].assign(Tensor(shape: [2, 2], values: [1, -2, 3, -4]))
        let weights = Regularization.penalisedWeights(of: net)
        XCTAssertEqual(weights.count, 1, "only the dense kernel, not biases or batch-norm scales")
        XCTAssertEqual(try Regularization.l1(weights, lambda: 0.5).item, 5)
        XCTAssertEqual(try Regularization.l2(weights, lambda: 0.5).item, 7.5)
        let l2 = try Regularization.l2(weights, lambda: 0.1)
        try l2.backward()
        assertClose(weights[0].grad!.values, [0.1, -0.2, 0.3, -0.4], rtol: 1e-6)
        XCTAssertThrowsError(try Regularization.l1(weights, lambda: -1)) { XCTAssertTrue("\($0)".contains("-1")) }
    }
}
