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

/// NumPy.decode for .npy files and NumPyArchive.decode for .npz (zip) files, then the
/// tensors' values and a round trip through the encoders.
func body(_ bytes: [UInt8]) throws {
    if bytes.starts(with: [0x50, 0x4B]) {   // "PK": a zip archive
        for (_, tensor) in try NumPyArchive.decode(bytes) {
            _ = tensor.values
            _ = NumPy.encode(tensor)
        }
    } else {
        let tensor = try NumPy.decode(bytes)
        _ = tensor.values
        _ = NumPy.encode(tensor)
    }
}

func seeds() throws -> [String: [UInt8]] {
    let a = try Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, 1e-3, 7])
    let b = try Tensor(shape: [4], values: [0, 1, 2, 3])
    let s = try Tensor(shape: [], values: [42])
    return [
        "matrix.npy": NumPy.encode(a),
        "vector.npy": NumPy.encode(b),
        "scalar.npy": NumPy.encode(s),
        "stored.npz": try NumPyArchive.encode([("a", a), ("b", b)]),
        "deflated.npz": try NumPyArchive.encode([("weights", a), ("bias", b)], compressed: true),
    ]
}
