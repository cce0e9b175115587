import Foundation
import FoveaTestSupport
import Interop
import Models
import NN
import TensorCore
import XCTest

/// The zoo against torchvision 0.29, recorded by `Golden/make_zoo_golden.py` into
/// `Golden/zoo_torchvision.json`: for every model at its ImageNet configuration, the same
/// state-dict names in the same order with the same shapes, the same parameter count, and the
/// same multiply-accumulate count for one image.
final class ZooTorchvisionTests: XCTestCase {
    struct Golden: Decodable {
        struct Model: Decodable {
            let input: [Int]
            let classes: Int
            let output: [Int]
            let parameters: Int
            let buffers: Int
            let macs: Int
            let state: [Entry]
        }
        /// `[name, shape]`.
        struct Entry: Decodable {
            let name: String
            let shape: [Int]
            init(from decoder: Decoder) throws {
                var c = try decoder.unkeyedContainer()
                name = try c.decode(String.self)
                shape = try c.decode([Int].self)
            }
        }
        let torchvision: String
        let models: [String: Model]
    }

    static let golden: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/zoo_torchvision.json")
        return try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }()

    /// The figures the issue quotes from torchvision, checked against the recorded file too.
    static let published: [String: Int] = [
        "alexnet": 61_100_840, "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
        "vgg16-bn": 138_365_992, "googlenet-noaux": 6_624_904, "googlenet": 13_004_888, "inception-v3": 27_161_264,
        "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
        "resnet152": 60_192_808, "densenet121": 7_978_856, "densenet161": 28_681_000, "densenet169": 14_149_480,
        "densenet201": 20_013_928, "squeezenet1.0": 1_248_424, "squeezenet1.1": 1_235_496,
        "shufflenet-v2": 2_278_604, "mobilenet-v2": 3_504_872,
    ]

    func testPublishedCountsAreTheRecordedOnes() {
        for (name, count) in Self.published {
            XCTAssertEqual(Self.golden.models[name]?.parameters, count, name)
        }
    }

    func testEveryGoldenModelIsInTheZoo() {
        for name in Self.golden.models.keys { XCTAssertNoThrow(try ModelZoo.entry(named: name), name) }
        XCTAssertEqual(Self.golden.models.count, 27)
    }

    func check(_ names: [String]) throws {
        for name in names {
            let g = try XCTUnwrap(Self.golden.models[name], name)
            let net = try ModelZoo.entry(named: name).make(input: g.input, classes: g.classes)
            let state = net.stateDict()
            XCTAssertEqual(state.count, g.state.count, "\(name): state-dict entries")
            for (mine, theirs) in zip(state, g.state) {
                guard mine.name == theirs.name, mine.tensor.shape == theirs.shape else {
                    XCTFail("\(name): '\(mine.name)' \(mine.tensor.shape) where torchvision has '\(theirs.name)' \(theirs.shape)")
                    break
                }
            }
            let summary = try ModelSummary(model: net, input: g.input)
            XCTAssertEqual(summary.totalParameters, g.parameters, "\(name): parameters")
            XCTAssertEqual(summary.trainableParameters, g.parameters, "\(name): trainable")
            XCTAssertEqual(summary.bufferValues, g.buffers, "\(name): buffer values")
            XCTAssertEqual(summary.multiplyAccumulates, g.macs, "\(name): MACs")
            XCTAssertEqual([1] + summary.outputShape, g.output, "\(name): output shape")
        }
    }

    func testAlexNetAndVGG() throws {
        try check(["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11-bn", "vgg13-bn", "vgg16-bn", "vgg19-bn"])
    }

    func testInceptions() throws { try check(["googlenet", "googlenet-noaux", "inception-v3", "inception-v3-noaux"]) }

    func testResNets() throws { try check(["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet18-cifar"]) }

    func testDenseNets() throws { try check(["densenet121", "densenet161", "densenet169", "densenet201"]) }

    func testMobileModels() throws { try check(["squeezenet1.0", "squeezenet1.1", "shufflenet-v2", "mobilenet-v2"]) }

    /// Published MAC figures (the papers and torchvision's model cards, rounded): ResNet-50
    /// about 4.1 G, VGG-16 about 15.5 G, AlexNet about 0.71 G, MobileNet V2 about 0.30 G.
    func testMACsMatchPublishedFigures() {
        let expected: [String: Double] = ["resnet50": 4.1e9, "vgg16": 15.5e9, "alexnet": 0.71e9, "mobilenet-v2": 0.30e9,
                                          "resnet18": 1.8e9, "googlenet": 1.5e9, "inception-v3": 5.7e9]
        for (name, macs) in expected {
            let recorded = Double(Self.golden.models[name]!.macs)
            XCTAssertEqual(recorded / macs, 1, accuracy: 0.02, name)
        }
    }

    /// Random torchvision weights (rounded to float16) and batch-norm statistics load by name
    /// and give torchvision's evaluation-mode logits (`Golden/make_zoo_outputs.py`): the
    /// branch order of concatenations, the channel split and shuffle, and the fire modules agree.
    func testTorchvisionWeightsGiveTorchvisionOutputs() throws {
        for (file, model) in [("shufflenet_v2_torchvision", "shufflenet-v2"), ("squeezenet1_1_torchvision", "squeezenet1.1")] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(file).safetensors")
            let (tensors, _) = try Safetensors.read(from: url)
            var state: [String: Tensor] = [:], named: [String: Tensor] = [:]
            for (name, t) in tensors {
                named[name] = t
                if name.hasPrefix("model.") { state[String(name.dropFirst(6))] = t }
            }
            let net = try ModelZoo.make(model, inputChannels: 3, inputSize: 64, classes: 10)
            try net.loadStateDict(state)
            net.eval()
            let input = try XCTUnwrap(named["input"]), expected = try XCTUnwrap(named["logits"])
            let logits = try withNoGrad { try net(input) }
            XCTAssertEqual(logits.shape, [2, 10], model)
            assertClose(logits.values, expected.values, rtol: 1e-3, atol: 1e-4)
        }
    }
}
