import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// Named `Sequential` children and `LayerTrace`'s record of a forward pass.
final class SequentialAndTraceTests: XCTestCase {
    func testNamedChildrenGiveStateDictNames() throws {
        let block = try Sequential(named: [("conv0", Conv2D(1, 2, kernelSize: 3)), ("relu0", ReLU())])
        try block.append(Dense(2, 3), name: "head")
        block.append(ReLU())  // unnamed: its position
        XCTAssertEqual(block.names, ["conv0", "relu0", "head", "3"])
        XCTAssertEqual(block.stateDict().map(\.name), ["conv0.weight", "conv0.bias", "head.weight", "head.bias"])
        XCTAssertTrue(block["head"] is Dense)
        XCTAssertNil(block["missing"])
        for bad in ["conv0", "", "a.b"] {
            XCTAssertThrowsError(try block.append(ReLU(), name: bad)) { error in
                XCTAssertTrue("\(error)".contains("'\(bad)'"), "\(error)")
            }
        }
        XCTAssertEqual(block.layers.count, 4, "a refused name adds nothing")
    }

    /// Calls are listed as they finish (children before their parent) with their depth and
    /// shapes; a layer used twice appears twice; outside `record` nothing is kept.
    func testTraceListsCallsInFinishingOrder() throws {
        let relu = ReLU()
        let inner = Sequential(try Conv2D(1, 4, kernelSize: 3), relu)
        let model = Sequential(inner, try MaxPool2D(2), relu, Flatten())
        let (output, calls) = try LayerTrace.record { try model(Tensor(zeros: [2, 1, 6, 6])) }
        XCTAssertEqual(output.shape, [2, 16])
        XCTAssertEqual(calls.map(\.layer.typeName), ["Conv2D", "ReLU", "Sequential", "MaxPool2D", "ReLU", "Flatten", "Sequential"])
        XCTAssertEqual(calls.map(\.depth), [2, 2, 1, 1, 1, 1, 0])
        XCTAssertEqual(calls[0].inputShape, [2, 1, 6, 6])
        XCTAssertEqual(calls[0].outputShape, [2, 4, 4, 4])
        XCTAssertEqual(calls[3].outputShape, [2, 4, 2, 2])
        XCTAssertTrue(calls[1].layer === relu && calls[4].layer === relu)
        _ = try model(Tensor(zeros: [1, 1, 6, 6]))
        XCTAssertEqual(try LayerTrace.record { 0 }.calls.count, 0)
    }
}
