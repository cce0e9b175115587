import Foundation
import XCTest
import TensorCore
import NN
import Models
import ONNX
import FoveaTestSupport

/// onnxruntime (PyPI), the reference runtime, accepts every exported zoo model and computes
/// Fovea's outputs; where the `onnx` package is installed, its checker passes them too.
final class ONNXRuntimeComparisonTests: XCTestCase {
    func testOnnxruntimeRunsEveryZooExportLikeFovea() throws {
        guard onnxruntimeInstalled() else {
            throw XCTSkip("onnxruntime is not installed (python3 -m pip install onnxruntime): the exported files were not run in it")
        }
        let runner = try OnnxruntimeRunner()
        defer { runner.close() }
        let dir = try makeTemporaryDirectory()
        let modelFile = dir.appendingPathComponent("model.onnx")
        let inputFile = dir.appendingPathComponent("input.f32"), outputFile = dir.appendingPathComponent("output.f32")
        for (index, (entry, input)) in zooCases().enumerated() {
            let model = try entry.make(input: input, classes: 3)
            randomizeBatchNorms(model, seed: UInt64(index))
            model.eval()
            let x = randomTensor([2] + input, seed: UInt64(100 + index))
            let expected = try withNoGrad { try model(x) }
            try ONNXExporter.write(model, inputShape: input, to: modelFile, name: entry.name)
            try float32Bytes(x.values).write(to: inputFile)
            do {
                let shape = try runner.run(model: modelFile, inputFile: inputFile, shape: x.shape, outputFile: outputFile)
                XCTAssertEqual(shape, [2, 3], entry.name)
                assertClose(floats(fromFloat32: try Data(contentsOf: outputFile)), expected.values, rtol: 1e-4, atol: 1e-4, entry.name)
            } catch {
                XCTFail("\(entry.name): onnxruntime refused the export: \(error)")
            }
        }
    }

    /// The PyTorch-exported fixture runs in onnxruntime as PyTorch recorded (a check of the fixture itself).
    func testOnnxruntimeReproducesThePyTorchFixture() throws {
        guard onnxruntimeInstalled() else { throw XCTSkip("onnxruntime is not installed (python3 -m pip install onnxruntime)") }
        let fixture = try PyTorchFixture.load()
        let runner = try OnnxruntimeRunner()
        defer { runner.close() }
        let dir = try makeTemporaryDirectory()
        let inputFile = dir.appendingPathComponent("input.f32"), outputFile = dir.appendingPathComponent("output.f32")
        try float32Bytes(fixture.input.values).write(to: inputFile)
        _ = try runner.run(model: PyTorchFixture.modelURL, inputFile: inputFile, shape: fixture.input.shape, outputFile: outputFile)
        assertClose(floats(fromFloat32: try Data(contentsOf: outputFile)), fixture.output.values, rtol: 1e-4, atol: 1e-5)
    }
}
