import Foundation
import Fovea
import FuzzSupport

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    FuzzTarget.initialize(seeds: seeds)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzTarget.run(data, size, body)
}

/// ONNXImporter.load(data:), then a forward pass on zeros of the input shape the graph
/// declares (unknown dimensions as 1), as `fovea predict` runs an imported model.
func body(_ bytes: [UInt8]) throws {
    let model = try ONNXImporter.load(data: Data(bytes), source: "fuzz.onnx")
    model.maxActivationElements = 1 << 22   // keeps each run fast; the limit itself is tested
    _ = model.configuration
    _ = model.parameterSlots.count
    let shape = model.inputShape.map { $0 ?? 1 }
    guard !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }),
          shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) <= 1 << 16 else { return }
    let input = Tensor(zeros: shape)
    for (_, output) in try withNoGrad({ try model.run([model.inputName: input]) }) { _ = output.values }
}

func seeds() throws -> [String: [UInt8]] {
    GlobalRandom.seed(7)
    let small = Sequential(
        try Conv2D(2, 4, kernelSize: 3, padding: .uniform(1), weightInit: .pytorchDefault),
        try BatchNorm2D(4), ReLU(),
        try MaxPool2D(2),
        try Conv2D(4, 4, kernelSize: 3, padding: .same, groups: 2, weightInit: .pytorchDefault),
        try PReLU(parameters: 4), try AvgPool2D(2),
        Flatten(),
        try Dense(16, 6, weightInit: .pytorchDefault), Tanh(), try Dropout(0.5),
        try Dense(6, 3, weightInit: .pytorchDefault))
    let other = Sequential(
        try Conv2D(1, 3, kernelSize: 3, stride: 2, weightInit: .pytorchDefault), Sigmoid(),
        try LocalResponseNorm(size: 3), LeakyReLU(), ELU(), try MaxPool2D(2, ceilMode: true), ReLU6(),
        GlobalAvgPool2D(), Flatten(), try Dense(3, 2, weightInit: .pytorchDefault), Softmax(axis: 1))
    return [
        "small.onnx": Array(try ONNXExporter.serialize(try ONNXExporter.model(small, inputShape: [2, 8, 8]))),
        "activations.onnx": Array(try ONNXExporter.serialize(try ONNXExporter.model(other, inputShape: [1, 9, 9]))),
    ]
}
