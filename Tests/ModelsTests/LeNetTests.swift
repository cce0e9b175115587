import XCTest
import TensorCore
import NN
import Models
import FoveaTestSupport

final class LeNetTests: XCTestCase {
    /// Parameter counts worked out by hand: conv1 6*1*25+6 = 156, conv2 16*6*25+16 = 2,416,
    /// fc1 400*120+120 = 48,120, fc2 120*84+84 = 10,164, fc3 84*10+10 = 850; total 61,706.
    func testShapeAndParameterCount() throws {
        let net = try LeNet5()
        XCTAssertEqual(net.parameterCount, 61_706)
        XCTAssertEqual(net.namedParameters().map(\.name),
                       ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                        "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        XCTAssertEqual(try net(Tensor(zeros: [3, 1, 28, 28])).shape, [3, 10])
        let rgb = try LeNet5(inputChannels: 3, inputSize: 32, classes: 100)
        XCTAssertEqual(try rgb(Tensor(zeros: [2, 3, 32, 32])).shape, [2, 100])
    }

    func testGradientsReachEveryParameter() throws {
        let net = try LeNet5(activation: .tanh, subsampling: .average)
        let loss = try Tensor.crossEntropy(logits: net(randomTensor([2, 1, 28, 28], seed: 1)), targets: [3, 7])
        try loss.backward()
        for (name, p) in net.namedParameters() {
            XCTAssertNotNil(p.grad, name)
            XCTAssertTrue(p.grad!.values.contains { $0 != 0 }, "\(name) gradient is all zero")
        }
    }

    func testZooFindsModelsAndRejectsUnknownNames() throws {
        XCTAssertTrue(try ModelZoo.make("LeNet-5") is LeNet5)
        XCTAssertThrowsError(try ModelZoo.make("resnet9000")) { error in
            XCTAssertTrue("\(error)".contains("resnet9000") && "\(error)".contains("lenet5"), "\(error)")
        }
        XCTAssertThrowsError(try LeNet5(inputSize: 8))
    }

    /// Issue 29 finding 7: sizes from the command line or a file overflowed `Int` (a trap)
    /// or asked for many GB; each is a thrown error quoting the sizes.
    func testHugeSizesAreThrownErrors() throws {
        XCTAssertThrowsError(try LeNet5(inputSize: Size2D(4_000_000_000, 4_000_000_000))) { error in
            XCTAssertTrue(error is LayerError && "\(error)".contains("999999998"), "\(error)")
        }
        XCTAssertThrowsError(try LeNet5(inputSize: Size2D(4096, 4096))) { XCTAssertTrue("\($0)".contains("Dense"), "\($0)") }
        XCTAssertThrowsError(try LeNet20x50(inputSize: Size2D(1 << 40, 1 << 40)))
        XCTAssertThrowsError(try Dense(1 << 40, 1 << 40)) { XCTAssertTrue("\($0)".contains("\(LayerLimits.maxParameters)"), "\($0)") }
        XCTAssertThrowsError(try Conv2D(1 << 20, 1 << 20, kernelSize: 5))
        XCTAssertThrowsError(try ModelZoo.parseInput("1x4000000000x4000000000")) {
            XCTAssertTrue("\($0)".contains("4000000000") && "\($0)".contains("\(ModelZoo.maxInputSide)"), "\($0)")
        }
        XCTAssertThrowsError(try ModelZoo.parseInput("4096x4096x4096")) { XCTAssertTrue("\($0)".contains("channels"), "\($0)") }
        XCTAssertThrowsError(try ModelZoo.parseInput("64x8192x8192")) { XCTAssertTrue("\($0)".contains("elements"), "\($0)") }
        XCTAssertEqual(try ModelZoo.parseInput("1x8192x8192"), [1, 8192, 8192])
        XCTAssertThrowsError(try ModelZoo.make("lenet5", classes: ModelZoo.maxClasses + 1)) {
            XCTAssertTrue("\($0)".contains("\(ModelZoo.maxClasses + 1)"), "\($0)")
        }
        XCTAssertThrowsError(try ModelZoo.make("lenet5", inputSize: Size2D(10_000, 28)))
    }
}
