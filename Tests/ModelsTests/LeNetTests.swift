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
}
