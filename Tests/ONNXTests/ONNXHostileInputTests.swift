import Foundation
import XCTest
import TensorCore
import NN
import ONNX
import FoveaTestSupport

/// Corrupt, truncated and hostile files give clear errors naming what is wrong.
final class ONNXHostileInputTests: XCTestCase {
    private func smallModel() throws -> Onnx_ModelProto {
        GlobalRandom.seed(7)
        return try ONNXExporter.model(try makeSmallNetwork(), inputShape: [2, 8, 8])
    }

    private func assertRejected(_ proto: Onnx_ModelProto, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let model = try ONNXImporter.load(data: try proto.serializedBytes(), source: "hostile.onnx")
            _ = try model(Tensor(zeros: [1, 2, 8, 8]))
            XCTFail("accepted a hostile model", file: file, line: line)
        } catch {
            let text = "\(error)"
            XCTAssertTrue(error is ONNXError, text, file: file, line: line)
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' should mention '\(p)'", file: file, line: line) }
        }
    }

    func testTruncatedEmptyAndRandomFilesAreRejectedNamingTheFile() throws {
        let data = try ONNXExporter.serialize(try smallModel())
        for length in [0, 1, 7, 100, data.count / 2, data.count - 1] {
            XCTAssertThrowsError(try ONNXImporter.load(data: data.prefix(length), source: "cut.onnx")) { error in
                XCTAssertTrue("\(error)".contains("cut.onnx"), "\(error)")
            }
        }
        var g = SeededGenerator(seed: 1)
        let noise = Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: g.next()) })
        XCTAssertThrowsError(try ONNXImporter.load(data: noise, source: "noise.bin"))
        let missing = URL(fileURLWithPath: "/nonexistent/model.onnx")
        XCTAssertThrowsError(try ONNXImporter.load(contentsOf: missing)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.onnx"), "\(error)")
        }
    }

    func testGraphStructureErrorsNameTheNodeAndValue() throws {
        var unknownOp = try smallModel()
        unknownOp.graph.node[0].opType = "Einsum"
        assertRejected(unknownOp, mentions: ["Einsum", unknownOp.graph.node[0].name])

        var dangling = try smallModel()
        dangling.graph.node[2].input[0] = "nowhere"
        assertRejected(dangling, mentions: ["nowhere", dangling.graph.node[2].name])

        var cycle = try smallModel()
        cycle.graph.node[0].input[0] = cycle.graph.node[3].output[0]
        assertRejected(cycle, mentions: ["cycle"])

        var duplicate = try smallModel()
        duplicate.graph.node[2].output[0] = duplicate.graph.node[1].output[0]
        assertRejected(duplicate, mentions: ["already defined", duplicate.graph.node[1].output[0]])

        var shadow = try smallModel()
        shadow.graph.node[0].output[0] = "0.weight"
        assertRejected(shadow, mentions: ["0.weight", "already defined"])

        var noOutput = try smallModel()
        noOutput.graph.output[0].name = "missing"
        assertRejected(noOutput, mentions: ["missing"])

        var opset = try smallModel()
        opset.opsetImport[0].version = 99
        assertRejected(opset, mentions: ["99"])

        var noGraph = try smallModel()
        noGraph.clearGraph()
        assertRejected(noGraph, mentions: ["no graph"])
    }

    func testTensorErrorsNameTheTensorAndSizes() throws {
        var short = try smallModel()
        short.graph.initializer[0].rawData = short.graph.initializer[0].rawData.prefix(10)
        assertRejected(short, mentions: ["0.weight", "10 bytes"])

        var negative = try smallModel()
        negative.graph.initializer[0].dims[0] = -4
        assertRejected(negative, mentions: ["0.weight", "-4"])

        var huge = try smallModel()
        huge.graph.initializer[0].dims = [1 << 20, 1 << 20, 1 << 20]
        assertRejected(huge, mentions: ["0.weight", "more than 2147483648 elements"])

        var external = try smallModel()
        external.graph.initializer[0].dataLocation = .external
        assertRejected(external, mentions: ["0.weight", "external"])

        var wrongType = try smallModel()
        wrongType.graph.initializer[0].dataType = 8   // STRING
        assertRejected(wrongType, mentions: ["0.weight", "STRING"])
    }

    func testBadAttributesAndOversizedWorkAreRefused() throws {
        var zeroStride = try smallModel()
        let conv = zeroStride.graph.node.firstIndex { $0.opType == "Conv" }!
        let strides = zeroStride.graph.node[conv].attribute.firstIndex { $0.name == "strides" }!
        zeroStride.graph.node[conv].attribute[strides].ints = [0, 0]
        assertRejected(zeroStride, mentions: ["strides", zeroStride.graph.node[conv].name])

        var hugePads = try smallModel()
        let pads = hugePads.graph.node[conv].attribute.firstIndex { $0.name == "pads" }!
        hugePads.graph.node[conv].attribute[pads].ints = [1 << 30, 0, 0, 0]
        assertRejected(hugePads, mentions: ["pads"])

        var unknownAttribute = try smallModel()
        unknownAttribute.graph.node[conv].attribute.append(.int("spline", 3))
        assertRejected(unknownAttribute, mentions: ["spline"])

        // A legal graph whose intermediates exceed the cap set on the model throws before allocating.
        let model = try ONNXImporter.load(data: try ONNXExporter.serialize(try smallModel()))
        model.maxActivationElements = 1000
        XCTAssertThrowsError(try model(Tensor(zeros: [8, 2, 8, 8]))) { error in
            XCTAssertTrue("\(error)".contains("limit of 1000"), "\(error)")
        }
        XCTAssertThrowsError(try model(Tensor(zeros: [1, 3, 8, 8]))) { error in
            XCTAssertTrue("\(error)".contains("[1, 3, 8, 8]"), "\(error)")
        }
    }
}
