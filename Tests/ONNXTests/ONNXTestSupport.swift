import Foundation
import XCTest
import TensorCore
import NN
import Models
import ONNX
import FoveaTestSupport

/// The fixtures beside the tests, and the scripts that wrote them.
let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

/// Every zoo model at the smallest input the tests use for it (at least 32x32, Inception v3's
/// minimum 75x75) with 3 classes.
func zooCases() -> [(entry: ModelZoo.Entry, input: [Int])] {
    ModelZoo.entries.map { entry in
        let side = entry.name.hasPrefix("inception") ? 75 : max(entry.minimumSize, entry.name.hasPrefix("lenet") ? 28 : 32)
        return (entry, [entry.defaultInput[0], side, side])
    }
}

/// Gives every batch norm of `model` non-trivial running statistics and affine values, so an
/// export that mixed up scale, shift, mean or variance would show.
func randomizeBatchNorms(_ model: Layer, seed: UInt64) {
    var g = SeededGenerator(seed: seed)
    for case let bn as BatchNorm in model.allLayers {
        for i in 0..<bn.features {
            bn.runningMean.pointer[i] = g.nextUniform() * 0.4 - 0.2
            bn.runningVar.pointer[i] = 0.5 + g.nextUniform()
            bn.weight?.pointer[i] = 0.5 + g.nextUniform()
            bn.bias?.pointer[i] = g.nextUniform() * 0.4 - 0.2
        }
    }
}

/// True when `python3 -c "import onnxruntime"` succeeds.
func onnxruntimeInstalled() -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import onnxruntime"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}

/// Float32 values as little-endian bytes, and back.
func float32Bytes(_ values: [Float]) -> Data {
    var data = Data(count: values.count * 4)
    data.withUnsafeMutableBytes { raw in
        for (i, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
    }
    return data
}

func floats(fromFloat32 data: Data) -> [Float] {
    data.withUnsafeBytes { raw in
        (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}

/// A small network using most layers the exporter knows, for the fuzz and gradient tests:
/// `[N, 2, 8, 8]` -> `[N, 3]`.
func makeSmallNetwork() throws -> Sequential {
    Sequential(
        try Conv2D(2, 4, kernelSize: 3, padding: .uniform(1), weightInit: .pytorchDefault),
        try BatchNorm2D(4), ReLU(),
        try MaxPool2D(2),
        try Conv2D(4, 4, kernelSize: 3, padding: .same, groups: 2, weightInit: .pytorchDefault),
        try PReLU(parameters: 4), try AvgPool2D(2),
        Flatten(),
        try Dense(16, 6, weightInit: .pytorchDefault), Tanh(), try Dropout(0.5),
        try Dense(6, 3, weightInit: .pytorchDefault))
}
