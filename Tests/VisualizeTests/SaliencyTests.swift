import Foundation
import FoveaTestSupport
import Fovea
import XCTest

final class SaliencyTests: XCTestCase {
    /// For a linear model `logits = W flatten(x) + b`, d logit_c / dx = W[c], so the gradient
    /// map is |W[c]| scaled by its largest entry.
    func testGradientOfALinearModelIsTheWeightRow() throws {
        let dense = try Dense(2 * 3 * 3, 4)
        let model = Sequential(Flatten(), dense)
        let image = randomTensor([1, 2, 3, 3], seed: 7)
        let map = try Saliency.gradient(model: model, image: image, classIndex: 2)
        XCTAssertEqual(map.classIndex, 2)
        let w = dense.weight.values, row = Array(w[(2 * 18)..<(3 * 18)])
        // The largest |W| over the two channels at each pixel.
        let raw = (0..<9).map { max(abs(row[$0]), abs(row[9 + $0])) }
        let peak = raw.max()!
        XCTAssertEqual(map.peak, peak, accuracy: 1e-6)
        assertClose(map.values, raw.map { $0 / peak }, rtol: 1e-5, atol: 1e-6)
        XCTAssertNil(dense.weight.grad, "the parameters' gradients are left as they were")
    }

    /// Conv -> ReLU -> global average pool -> dense, Grad-CAM at the ReLU's output A:
    /// d logit_c / dA_kij = W[c, k] / (h w), so alpha_k is W[c, k] / (h w) and the map is
    /// ReLU(sum_k alpha_k A_k) (the class activation map), here at the input's own size (no
    /// resize), scaled to [0, 1].
    func testGradCAMOfGlobalPoolingNetworkIsTheClassActivationMap() throws {
        GlobalRandom.seed(11)
        let conv = try Conv2D(1, 3, kernelSize: 3, padding: .same)
        let dense = try Dense(3, 2)
        let model = Sequential(conv, ReLU(), GlobalAvgPool2D(), Flatten(), dense)
        let image = randomTensor([1, 1, 6, 6], seed: 12)
        let map = try Saliency.gradCAM(model: model, image: image, classIndex: 1, layerName: "1")
        XCTAssertEqual(map.layer, "1")
        let a = try withNoGrad { try conv(image).relu() }.values
        let w = dense.weight.values
        var cam = [Float](repeating: 0, count: 36)
        for k in 0..<3 { for i in 0..<36 { cam[i] += w[3 + k] / 36 * a[k * 36 + i] } }
        cam = cam.map { max(0, $0) }
        let peak = try XCTUnwrap(cam.max())
        XCTAssertGreaterThan(peak, 0)
        assertClose(map.values, cam.map { $0 / peak }, rtol: 1e-4, atol: 1e-5)
        XCTAssertNil(conv.weight.grad)
    }

    func testGradCAMDefaultsToTheLastConvolutionAndResizes() throws {
        let model = try LeNet5()
        let map = try Saliency.gradCAM(model: model, image: randomTensor([1, 1, 28, 28], seed: 3))
        XCTAssertEqual(map.layer, "conv2")
        XCTAssertEqual(map.values.count, 28 * 28)
        XCTAssertTrue(map.values.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testBadRequestsAreClearErrors() throws {
        let model = try LeNet5()
        let image = randomTensor([1, 1, 28, 28], seed: 3)
        XCTAssertThrowsError(try Saliency.gradCAM(model: model, image: image, layerName: "conv9")) {
            XCTAssertTrue("\($0)".contains("no layer named 'conv9'"), "\($0)")
        }
        XCTAssertThrowsError(try Saliency.gradCAM(model: model, image: image, layerName: "fc1")) {
            XCTAssertTrue("\($0)".contains("not a map"), "\($0)")
        }
        XCTAssertThrowsError(try Saliency.gradient(model: model, image: image, classIndex: 10)) {
            XCTAssertTrue("\($0)".contains("class 10 outside 0..<10"), "\($0)")
        }
        XCTAssertThrowsError(try Saliency.gradient(model: model, image: Tensor(zeros: [1, 28, 28])))
    }

    func testOverlayBlendsTheMapOverTheImage() throws {
        let map = Saliency.Map(values: [0, 1], height: 1, width: 2, classIndex: 0, layer: nil, peak: 1)
        let grey = try Image(width: 2, height: 1, channels: 1, pixels: [0.5, 0.5])
        let blended = try Saliency.overlay(map, on: grey, opacity: 0.5)
        // Pixel 0: no map, the grey as it is. Pixel 1: half grey, half the top of the heat map.
        let top = Colormap.heat.rgb(1)
        XCTAssertEqual(blended[0, 0, 0], 0.5); XCTAssertEqual(blended[2, 0, 0], 0.5)
        XCTAssertEqual(blended[0, 0, 1], 0.25 + 0.5 * Float(top.r), accuracy: 1e-6)
        XCTAssertEqual(blended[2, 0, 1], 0.25 + 0.5 * Float(top.b), accuracy: 1e-6)
    }
}
