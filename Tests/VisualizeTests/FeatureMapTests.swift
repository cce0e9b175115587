import Foundation
import FoveaTestSupport
import Fovea
import XCTest

final class FeatureMapTests: XCTestCase {
    /// LeNet-5 on one digit: conv1, the shared pool, conv2, the pool again, with their shapes;
    /// conv1's map equals conv1 applied on its own.
    func testLeNetMapsInCallOrderWithNamesAndShapes() throws {
        GlobalRandom.seed(3)
        let model = try LeNet5()
        model.train()
        let image = randomTensor([1, 1, 28, 28], seed: 5)
        let maps = try FeatureMaps.capture(model: model, image: image)
        XCTAssertEqual(maps.map(\.name), ["conv1", "pool", "conv2", "pool (call 2)"])
        XCTAssertEqual(maps.map(\.type), ["Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D"])
        XCTAssertEqual(maps.map(\.output.shape), [[6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 5, 5]])
        let direct = try withNoGrad { try model.conv1(image) }
        assertClose(maps[0].output.values, direct.values)
        XCTAssertTrue(model.isTraining, "the model's mode is restored")
    }

    func testIncludeSelectsLayersByName() throws {
        let model = try LeNet5()
        let maps = try FeatureMaps.capture(model: model, image: randomTensor([1, 1, 28, 28], seed: 1)) { name, _ in name == "fc2" }
        XCTAssertEqual(maps.map(\.name), ["fc2"])
        XCTAssertEqual(maps[0].output.shape, [84])
        XCTAssertNil(maps[0].spatial)
        XCTAssertThrowsError(try FeatureMaps.grid(maps[0])) { XCTAssertTrue("\($0)".contains("flat output"), "\($0)") }
    }

    func testABlockCanBeCapturedByName() throws {
        let model = try ModelZoo.entry(named: "resnet18-cifar").make(input: [3, 32, 32], classes: 10)
        let maps = try FeatureMaps.capture(model: model, image: randomTensor([1, 3, 32, 32], seed: 4)) { name, _ in
            name == "layer1.0" || name == "layer2.0.conv1"
        }
        XCTAssertEqual(maps.map(\.name), ["layer1.0", "layer2.0.conv1"])
        XCTAssertEqual(maps.map(\.output.shape), [[64, 32, 32], [128, 16, 16]])
        XCTAssertEqual(maps[0].type, "BasicBlock")
    }

    func testGridTilesEveryChannel() throws {
        let model = try LeNet5()
        let maps = try FeatureMaps.capture(model: model, image: randomTensor([1, 1, 28, 28], seed: 2))
        let grid = try FeatureMaps.grid(maps[2])   // conv2: 16 maps of 10x10, enlarged 5 times, 4x4 tiles, 2-pixel gaps
        XCTAssertEqual(grid.width, 4 * 50 + 5 * 2)
        XCTAssertEqual(grid.height, 4 * 50 + 5 * 2)
    }

    func testFirstLayerFiltersOfGreyAndColourModels() throws {
        let grey = try LeNet5()
        let g = try XCTUnwrap(try FeatureMaps.filters(of: grey))
        XCTAssertEqual(g.name, "conv1")
        // Six 5x5 filters, enlarged 9 times, in 3 columns and 2 rows, 2-pixel gaps.
        XCTAssertEqual(g.image.width, 3 * 45 + 4 * 2)
        XCTAssertEqual(g.image.height, 2 * 45 + 3 * 2)
        let colour = try ModelZoo.entry(named: "resnet18-cifar").make(input: [3, 32, 32], classes: 10)
        let c = try XCTUnwrap(try FeatureMaps.filters(of: colour))
        XCTAssertEqual(c.name, "conv1")
        XCTAssertEqual(c.image.width, 8 * 48 + 9 * 2, "64 colour 3x3 filters, 8x8 tiles enlarged 16 times")
        XCTAssertNil(try FeatureMaps.filters(of: Sequential(Flatten(), try Dense(4, 2))), "no convolution, no filters")
    }

    func testCaptureRefusesABatch() throws {
        XCTAssertThrowsError(try FeatureMaps.capture(model: try LeNet5(), image: Tensor(zeros: [2, 1, 28, 28])))
    }
}
