import Foundation
import FoveaTestSupport
import Models
import NN
import Optimizers
import TensorCore
import XCTest

/// Every zoo model runs forward and backward at a small input, and the CIFAR ResNet-18 learns.
final class ZooForwardBackwardTests: XCTestCase {
    /// A small input for training: 32x32, or the model's minimum where that is larger (so batch
    /// norm has more than one value per channel to normalise), with 2 channels for the
    /// 3-channel models to show the channel count is configurable.
    func smallInput(_ e: ModelZoo.Entry) -> [Int] {
        let side = max(e.minimumSize, 32)
        return [e.defaultInput[0] == 1 ? 1 : 2, side, side]
    }

    /// Each model runs at exactly the minimum size the zoo states, and one pixel less fails
    /// with an error (from the builder for the LeNets, from the first layer too small otherwise).
    func testMinimumSizesAreExact() throws {
        for entry in ModelZoo.entries where entry.minimumSize > 1 {
            let c = entry.defaultInput[0], m = entry.minimumSize
            let net = try entry.make(input: [c, m, m], classes: 5)
            net.eval()
            let out = try withNoGrad { try net(Tensor(zeros: [1, c, m, m])) }
            XCTAssertEqual(out.shape, [1, 5], entry.name)
            XCTAssertThrowsError(try withNoGrad { try entry.build(c, Size2D(m - 1, m - 1), 5)(Tensor(zeros: [1, c, m - 1, m - 1])) },
                                 "\(entry.name) at \(m - 1)x\(m - 1)")
        }
    }

    func testEveryModelRunsForwardAndBackward() throws {
        GlobalRandom.seed(3)
        for entry in ModelZoo.entries {
            let input = smallInput(entry)
            let net = try entry.make(input: input, classes: 5)
            net.train()
            var gen = SeededGenerator(seed: 11)
            let x = Tensor.normal([2] + input, generator: &gen)
            let logits = try net(x)
            XCTAssertEqual(logits.shape, [2, 5], "\(entry.name) at \(input)")
            var loss = try Tensor.crossEntropy(logits: logits, targets: [1, 3])
            if let heads = net as? AuxiliaryClassifiers {
                for aux in heads.auxiliaryLogits {
                    XCTAssertEqual(aux.shape, [2, 5], "\(entry.name) auxiliary head")
                    loss = try loss + heads.auxiliaryLossWeight * Tensor.crossEntropy(logits: aux, targets: [1, 3])
                }
            }
            XCTAssertTrue(loss.item.isFinite, entry.name)
            try loss.backward()
            var missing: [String] = []
            var nonZero = 0
            for (name, p) in net.namedParameters() {
                guard let g = p.grad else { missing.append(name); continue }
                XCTAssertEqual(g.shape, p.shape, "\(entry.name).\(name)")
                let values = g.values
                XCTAssertTrue(values.allSatisfy(\.isFinite), "\(entry.name).\(name) gradient is finite")
                if values.contains(where: { $0 != 0 }) { nonZero += 1 }
            }
            XCTAssertEqual(missing, [], "\(entry.name): parameters without a gradient")
            // ReLUs can silence a few tensors at a random start, but never most of them.
            XCTAssertGreaterThan(Double(nonZero), 0.8 * Double(net.parameters.count), "\(entry.name): non-zero gradients")
        }
    }

    func testAuxiliaryHeadsOnlyWhileTraining() throws {
        let net = try GoogLeNet(inputChannels: 3, classes: 4)
        var gen = SeededGenerator(seed: 2)
        let x = Tensor.normal([2, 3, 32, 32], generator: &gen)
        net.train()
        _ = try net(x)
        XCTAssertEqual(net.auxiliaryLogits.map(\.shape), [[2, 4], [2, 4]])
        net.eval()
        _ = try withNoGrad { try net(x) }
        XCTAssertTrue(net.auxiliaryLogits.isEmpty)
        let off = try GoogLeNet(inputChannels: 3, classes: 4, auxiliaryClassifiers: false)
        off.train()
        _ = try off(x)
        XCTAssertTrue(off.auxiliaryLogits.isEmpty)
        // Each head: 1x1 conv to 128 (no bias), batch norm (2 x 128), dense 2048-1024, dense 1024-4.
        func head(_ inChannels: Int) -> Int { inChannels * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 4 + 4 }
        XCTAssertEqual(off.parameterCount + head(512) + head(528), net.parameterCount)
    }

    func testInceptionV3AuxiliaryHeadAtItsOwnSize() throws {
        GlobalRandom.seed(4)
        let net = try InceptionV3(classes: 3)
        net.train()
        var gen = SeededGenerator(seed: 5)
        let logits = try net(Tensor.normal([2, 3, 299, 299], generator: &gen))
        XCTAssertEqual(logits.shape, [2, 3])
        XCTAssertEqual(net.auxiliaryLogits.map(\.shape), [[2, 3]])
        // Too small for the head: a clear error, not a crash.
        XCTAssertThrowsError(try net(Tensor(zeros: [2, 3, 80, 80]))) { error in
            XCTAssertTrue("\(error)".contains("auxiliary classifier"), "\(error)")
        }
    }

    func testCIFARResNet18LossFallsInAFewSteps() throws {
        GlobalRandom.seed(8)
        let net = try ResNet(.resnet18, stem: .cifar, inputChannels: 3, classes: 10)
        net.train()
        let optimizer = try SGD(parameters: net.parameters, learningRate: 0.05, momentum: 0.9)
        var gen = SeededGenerator(seed: 9)
        let x = Tensor.normal([16, 3, 32, 32], generator: &gen)
        let labels = (0..<16).map { $0 % 10 }
        var losses: [Float] = []
        for _ in 0..<6 {
            let loss = try Tensor.crossEntropy(logits: net(x), targets: labels)
            optimizer.zeroGrad()
            try loss.backward()
            optimizer.step()
            losses.append(loss.item)
        }
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertLessThan(losses.last!, losses.first! * 0.7, "loss should fall: \(losses)")
    }

    func testTooSmallInputsAndBadNamesAreClearErrors() {
        XCTAssertThrowsError(try ModelZoo.make("alexnet", inputChannels: 3, inputSize: 40, classes: 10)) { error in
            XCTAssertEqual("\(error)", "alexnet needs inputs of at least 63x63, got 40x40")
        }
        XCTAssertThrowsError(try ModelZoo.entry(named: "resnet19")) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown model 'resnet19'; known models: lenet5"), "\(error)")
        }
        XCTAssertEqual(try? ModelZoo.parseInput("28x28"), [1, 28, 28], "HxW means one channel")
        XCTAssertThrowsError(try ModelZoo.parseInput("3x0x4")) { error in
            XCTAssertTrue("\(error)".contains("'3x0x4'"), "\(error)")
        }
        XCTAssertEqual(try ModelZoo.parseInput("1x32x32"), [1, 32, 32])
        XCTAssertEqual(try ModelZoo.entry(named: "vgg16_bn").name, "vgg16-bn")
        XCTAssertEqual(try ModelZoo.entry(named: "squeezenet1_0").name, "squeezenet1.0")
        XCTAssertEqual(try ModelZoo.entry(named: "Inception_V3").name, "inception-v3")
        // A model given the wrong channel count says so.
        let net = try! ModelZoo.make("resnet18-cifar", inputChannels: 1, inputSize: 32, classes: 10)
        XCTAssertThrowsError(try net(Tensor(zeros: [1, 3, 32, 32]))) { error in
            XCTAssertTrue("\(error)".contains("[N, 1, H, W]"), "\(error)")
        }
    }
}
