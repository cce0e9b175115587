import Foundation
import FoveaTestSupport
import Models
import NN
import TensorCore
import XCTest

/// Every zoo model gives the same numbers compiled (captured, fused, planned) as eager: at
/// inference, and in training (outputs and every parameter's gradient), to 1e-5.
final class CompiledZooTests: XCTestCase {
    /// A small input: the model's minimum size or 32x32, whichever is larger.
    func smallInput(_ e: ModelZoo.Entry) -> [Int] {
        let side = max(e.minimumSize, 32)
        return [e.defaultInput[0], side, side]
    }

    /// Relative closeness for values whose scale varies: `|a - b| <= 1e-5 * max(1, max|b|)`.
    func assertSame(_ a: [Float], _ b: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let scale = max(1, b.map(abs).max() ?? 0)
        assertClose(a, b, rtol: 1e-5, atol: 1e-5 * scale, message, file: file, line: line)
    }

    func testInferenceMatchesEagerForEveryModel() throws {
        GlobalRandom.seed(5)
        for entry in ModelZoo.entries {
            let input = smallInput(entry)
            let net = try entry.make(input: input, classes: 7)
            // A few batch-norm statistics away from 0 and 1, so folding them is exercised.
            try net.train { _ = try net(Tensor.normal([4] + input, generator: &$0)) }
            net.eval()
            let x = randomTensor([2] + input, seed: 9)
            let compiled = net.compiled()
            let eager = try withNoGrad { try net(x) }
            let first = try withNoGrad { try compiled(x) }       // captured: the eager run
            let replayed = try withNoGrad { try compiled(x) }    // the plan
            XCTAssertNil(compiled.eagerReason, entry.name)
            XCTAssertNotNil(withNoGrad { compiled.plan(for: x.shape) }, entry.name)
            assertSame(first.values, eager.values, "\(entry.name) capture")
            assertSame(replayed.values, eager.values, "\(entry.name) plan")
        }
    }

    func testTrainingMatchesEagerForEveryModel() throws {
        GlobalRandom.seed(6)
        for entry in ModelZoo.entries {
            let input = smallInput(entry)
            let net = try entry.make(input: input, classes: 7)
            // Dropout draws new masks on every call; at p = 0 the passes can be compared.
            for case let d as DropoutLayer in net.allLayers { try d.setProbability(0) }
            net.train()
            let x = randomTensor([2] + input, seed: 10)
            let compiled = net.compiled()
            func run(_ f: (Tensor) throws -> Tensor) throws -> (out: [Float], grads: [[Float]]) {
                net.zeroGrad()
                let logits = try f(x)
                var loss = try Tensor.crossEntropy(logits: logits, targets: [1, 3])
                for aux in (net as? AuxiliaryClassifiers)?.auxiliaryLogits ?? [] {
                    loss = try loss + 0.3 * Tensor.crossEntropy(logits: aux, targets: [1, 3])
                }
                try loss.backward()
                return (logits.values, net.parameters.map { $0.grad?.values ?? [] })
            }
            _ = try run { try compiled($0) }
            let replayed = try run { try compiled($0) }
            let eager = try run { try net($0) }
            XCTAssertNotNil(compiled.plan(for: x.shape), entry.name)
            assertSame(replayed.out, eager.out, "\(entry.name) logits")
            for (i, (g, e)) in zip(replayed.grads, eager.grads).enumerated() {
                assertSame(g, e, "\(entry.name) gradient of \(net.namedParameters()[i].name)")
            }
        }
    }

    /// The plan holds the fusions the engine has kernels for.
    func testPlansFuse() throws {
        let lenet = try LeNet5()
        lenet.train()
        let x = randomTensor([4, 1, 28, 28], seed: 1)
        let c = lenet.compiled()
        _ = try c(x)
        XCTAssertEqual(c.plan(for: x.shape)?.stepNames,
                       ["conv2dReLUMaxPool2x2", "conv2dReLUMaxPool2x2", "flatten", "linearReLU", "linearReLU", "linear"])

        let resnet = try ResNet(.resnet18, stem: .cifar, classes: 10)
        resnet.eval()
        let y = randomTensor([1, 3, 32, 32], seed: 2)
        let r = resnet.compiled()
        try withNoGrad {
            _ = try r(y)
            let names = r.plan(for: y.shape)?.stepNames ?? []
            XCTAssertEqual(names.first, "conv2dBatchNormReLU")
            // Every block's last convolution adds its shortcut and applies the ReLU.
            XCTAssertEqual(names.filter { $0 == "conv2dBatchNormReLU" }.count, 1 + 8 + 8)
            XCTAssertEqual(names.filter { $0 == "conv2dBatchNorm" }.count, 3, "the three projection shortcuts")
            XCTAssertFalse(names.contains("BatchNorm2D"), "\(names)")
        }

        let bn = try LeNetBN()
        bn.train()
        let b = bn.compiled()
        _ = try b(x)
        XCTAssertEqual(b.plan(for: x.shape)?.stepNames.filter { $0 == "batchNormPReLU" }.count, 3)
    }

    /// A new input shape or mode captures again; the model's own calls stay eager.
    func testGuardsOnShapeAndMode() throws {
        let net = try LeNet5()
        let c = net.compiled()
        net.eval()
        try withNoGrad {
            _ = try c(Tensor(zeros: [1, 1, 28, 28]))
            XCTAssertNotNil(c.plan(for: [1, 1, 28, 28]))
            XCTAssertNil(c.plan(for: [2, 1, 28, 28]))
            let out = try c(Tensor(zeros: [2, 1, 28, 28]))
            XCTAssertEqual(out.shape, [2, 10])
            XCTAssertNotNil(c.plan(for: [2, 1, 28, 28]))
        }
        net.train()
        XCTAssertNil(c.plan(for: [1, 1, 28, 28]), "training mode has its own plan")
    }

    /// Calls alternating between shapes and modes each run their own plan (the cache's
    /// last-used entry is only taken for the same key), and forgetting the plans forgets it too.
    func testAlternatingKeysRunTheirOwnPlans() throws {
        let net = try LeNet5()
        let c = net.compiled()
        let inputs = [randomTensor([1, 1, 28, 28], seed: 1), randomTensor([3, 1, 28, 28], seed: 2)]
        for round in 0..<3 {
            for x in inputs {
                for training in [false, true] {
                    net.train(training)
                    let expected = try withNoGrad { try net(x) }
                    let out = try withNoGrad { try c(x) }
                    XCTAssertEqual(out.shape, expected.shape)
                    assertClose(out.values, expected.values, rtol: 1e-5, atol: 1e-5, "round \(round) \(x.shape) training \(training)")
                }
            }
        }
        net.eval()
        XCTAssertNotNil(withNoGrad { c.plan(for: [3, 1, 28, 28]) })
        net.plans.removeAll()
        XCTAssertNil(withNoGrad { c.plan(for: [3, 1, 28, 28]) })
        XCTAssertNil(withNoGrad { c.plan(for: [1, 1, 28, 28]) })
    }
}

private extension Layer {
    /// Runs `body` in training mode with a fixed generator, then leaves the mode as it was.
    func train(_ body: (inout SeededGenerator) throws -> Void) rethrows {
        let was = isTraining
        train()
        var g = SeededGenerator(seed: 4)
        try body(&g)
        train(was)
    }
}
