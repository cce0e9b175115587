import Foundation
import FoveaTestSupport
import Fovea
import XCTest

/// The service without HTTP: inputs, answers and refusals.
final class InferenceServiceTests: XCTestCase {
    func testPredictEqualsTheClassifierForPNGAndJSON() throws {
        let made = try ServingFixture.get()
        let service = try InferenceService(weights: made.weights)
        let classifier = try Classifier(contentsOf: made.weights)
        for digit in made.digits.prefix(5) {
            let expected = try classifier.probabilities(of: digit.image)
            let answer = try object(try service.predict(body: digit.png, contentType: "image/png"))
            let p = try XCTUnwrap(answer["probabilities"] as? [Double]).map(Float.init)
            assertClose(p, expected, rtol: 0, atol: 0)
            let best = expected.indices.max { expected[$0] < expected[$1] }!
            XCTAssertEqual(answer["index"] as? Int, best)
            XCTAssertEqual(answer["class"] as? String, String(best))
            XCTAssertEqual((answer["top"] as? [[String: Any]])?.count, 5)
            XCTAssertNotNil((answer["milliseconds"] as? [String: Any])?["total"] as? Double)

            // The same pixels as JSON rows (exact: PNG levels are k/255 either way).
            let rows = (0..<28).map { y in (0..<28).map { x in Double(digit.image[0, y, x]) } }
            let json = try JSONSerialization.data(withJSONObject: ["pixels": rows])
            let viaJSON = try object(try service.predict(body: Array(json), contentType: "application/json"))
            assertClose(try XCTUnwrap(viaJSON["probabilities"] as? [Double]).map(Float.init), expected, rtol: 1e-6, atol: 1e-7)
            // Flat with width and height.
            let flat = try JSONSerialization.data(withJSONObject: ["pixels": rows.flatMap { $0 }, "width": 28, "height": 28])
            XCTAssertEqual(try object(try service.predict(body: Array(flat), contentType: nil))["index"] as? Int, best)
        }
    }

    func testJPEGBodiesAreDecoded() throws {
        let made = try ServingFixture.get()
        let service = try InferenceService(weights: made.weights)
        let digit = made.digits[0]
        let jpeg = try JPEG.encode(digit.image, quality: 100)
        let answer = try object(try service.predict(body: jpeg, contentType: "image/jpeg"))
        XCTAssertEqual(answer["class"] as? String, String(digit.label), "a clean JPEG of test digit 0 (a \(digit.label))")
    }

    func testActivationsListEveryLayerInCallOrder() throws {
        let made = try ServingFixture.get()
        let service = try InferenceService(weights: made.weights)
        let answer = try object(try service.activations(body: made.digits[1].png, contentType: "image/png"))
        let layers = try XCTUnwrap(answer["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["name"] as? String }, ["conv1", "pool", "conv2", "pool (call 2)", "fc1", "fc2", "fc3"])
        XCTAssertEqual(layers.map { $0["shape"] as? [Int] }, [[6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 5, 5], [120], [84], [10]])
        for layer in layers {
            let shape = try XCTUnwrap(layer["shape"] as? [Int])
            XCTAssertEqual((layer["values"] as? [Double])?.count, shape.reduce(1, *), "\(layer["name"]!)")
        }
        let input = try XCTUnwrap(answer["input"] as? [String: Any])
        XCTAssertEqual(input["shape"] as? [Int], [1, 28, 28])
        // fc3's output is the logits: their softmax is the answer's probabilities.
        let logits = try XCTUnwrap(layers.last?["values"] as? [Double])
        let top = logits.max()!, e = logits.map { exp($0 - top) }, sum = e.reduce(0, +)
        let p = try XCTUnwrap(answer["probabilities"] as? [Double])
        for (a, b) in zip(e.map { $0 / sum }, p) { XCTAssertEqual(a, b, accuracy: 1e-3) }
    }

    func testModelInfoDescribesLayersAndFilters() throws {
        let made = try ServingFixture.get()
        let info = try object(try InferenceService(weights: made.weights).modelInfo())
        XCTAssertEqual(info["model"] as? String, "lenet5")
        XCTAssertEqual(info["input"] as? [Int], [1, 28, 28])
        XCTAssertEqual(info["parameters"] as? Int, 61_706)
        XCTAssertEqual((info["classes"] as? [String])?.count, 10)
        let filters = try XCTUnwrap(info["filters"] as? [String: Any])
        XCTAssertEqual(Set(filters.keys), ["conv1", "conv2"])
        XCTAssertEqual((filters["conv1"] as? [String: Any])?["shape"] as? [Int], [6, 1, 5, 5])
        XCTAssertEqual(((filters["conv2"] as? [String: Any])?["values"] as? [Double])?.count, 16 * 6 * 25)
    }

    func testBadInputsAreRefusedWithStatusAndValues() throws {
        let made = try ServingFixture.get()
        let service = try InferenceService(weights: made.weights)
        func refusal(_ body: [UInt8], _ type: String?) -> ServiceError? {
            do { _ = try service.predict(body: body, contentType: type); return nil } catch { return error as? ServiceError }
        }
        XCTAssertEqual(refusal([], "image/png")?.status, 400)
        let text = refusal(Array("hello".utf8), "text/plain")
        XCTAssertEqual(text?.status, 415)
        XCTAssertTrue(text?.message.contains("first bytes 68 65 6C 6C") == true, text?.message ?? "")
        XCTAssertEqual(refusal(Array(made.digits[0].png.prefix(60)), "image/png")?.status, 400, "a truncated PNG")
        let big = try PNG.encode(try Image(width: 32, height: 32, channels: 1, pixels: [Float](repeating: 0, count: 1024)))
        let shape = refusal(big, "image/png")
        XCTAssertEqual(shape?.status, 422)
        XCTAssertTrue(shape?.message.contains("image is 32x32, the model takes 28x28") == true, shape?.message ?? "")
        XCTAssertEqual(refusal(Array("{\"pixels\": [[1, 2], [3]]}".utf8), "application/json")?.status, 422)
        XCTAssertEqual(refusal(Array("{\"pixels\": [1, 2, 3], \"width\": 2, \"height\": 2}".utf8), "application/json")?.message,
                       "\"pixels\" has 3 values, 1x2x2 needs 4")
        XCTAssertEqual(refusal(Array("{\"pixels\": [[\"a\"]]}".utf8), "application/json")?.status, 400)
        XCTAssertEqual(refusal(Array("{not json".utf8), "application/json")?.status, 400)
        XCTAssertEqual(refusal(Array("{\"pix\": 1}".utf8), "application/json")?.message, "the JSON has no \"pixels\" entry")
        let error = ServiceError(status: 415, code: "unsupported_media_type", "x \"y\"")
        let json = try object(error.json)["error"] as? [String: Any]
        XCTAssertEqual(json?["status"] as? Int, 415)
        XCTAssertEqual(json?["message"] as? String, "x \"y\"")
    }
}
