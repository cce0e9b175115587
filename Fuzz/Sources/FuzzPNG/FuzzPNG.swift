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

/// PNG.decode, then what is done with the image.
func body(_ bytes: [UInt8]) throws {
    try useImage(PNG.decode(bytes))
}

func seeds() throws -> [String: [UInt8]] {
    [
        "grey8.png": try PNG.encode(Fixtures.digit),
        "grey16.png": try PNG.encode(Fixtures.digit, bitDepth: 16),
        "greyalpha.png": try PNG.encode(Fixtures.pattern(width: 5, height: 3, channels: 2)),
        "rgb.png": try PNG.encode(Fixtures.pattern(width: 7, height: 6, channels: 3)),
        "rgba.png": try PNG.encode(Fixtures.pattern(width: 4, height: 9, channels: 4)),
        "rgb16.png": try PNG.encode(Fixtures.pattern(width: 3, height: 3, channels: 3), bitDepth: 16),
    ]
}
