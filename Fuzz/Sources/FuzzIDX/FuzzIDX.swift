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

/// IDX.parse and the values it gives, then MNIST.load over the bytes as the test images
/// (with a matching labels file), which checks their shape and scales them to pixels.
func body(_ bytes: [UInt8]) throws {
    let array = try IDX.parse(bytes)
    _ = array.doubleValues()
    _ = array.floatValues()
    _ = array.intValues()
    _ = try IDX.encode(array)
    guard let count = array.dims.first, count <= 100_000 else { return }
    let split = MNIST.Split.test
    let folder = Scratch.folder.appendingPathComponent("mnist", isDirectory: true)
    try Scratch.write(bytes, to: "mnist/" + split.imagesFileName)
    try Scratch.write(IDX.encode(IDXArray(dims: [count], bytes: (0..<count).map { UInt8($0 % 10) })),
                      to: "mnist/" + split.labelsFileName)
    let data = try MNIST.load(split: split, from: folder, verify: false)
    _ = try data.subset(0..<min(data.count, 4))
}

func seeds() throws -> [String: [UInt8]] {
    let digits = (0..<3).flatMap { n in Fixtures.digit.pixels.map { UInt8(min(255, $0 * 255 + Float(n))) } }
    return [
        "images-uint8.idx": try IDX.encode(IDXArray(dims: [3, 28, 28], bytes: digits)),
        "labels-uint8.idx": try IDX.encode(IDXArray(dims: [5], bytes: [0, 1, 2, 3, 9])),
        "int8.idx": try IDX.encode(IDXArray(type: .int8, dims: [2, 2], values: [-1, 0, 1, 127])),
        "int16.idx": try IDX.encode(IDXArray(type: .int16, dims: [3], values: [-300, 0, 300])),
        "int32.idx": try IDX.encode(IDXArray(type: .int32, dims: [2, 1, 2], values: [1, -2, 3, 1_048_576])),
        "float32.idx": try IDX.encode(IDXArray(type: .float32, dims: [2, 2], values: [0.5, -1.25, 3, 0.125])),
        "float64.idx": try IDX.encode(IDXArray(type: .float64, dims: [2], values: [0.1, -2.5])),
    ]
}
