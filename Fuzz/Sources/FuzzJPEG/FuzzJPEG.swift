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

/// JPEG.decode, then what is done with the image.
func body(_ bytes: [UInt8]) throws {
    try useImage(JPEG.decode(bytes))
}

func seeds() throws -> [String: [UInt8]] {
    [
        "grey.jpg": try JPEG.encode(Fixtures.digit),
        "grey-q20.jpg": try JPEG.encode(Fixtures.pattern(width: 9, height: 17, channels: 1), quality: 20),
        "rgb.jpg": try JPEG.encode(Fixtures.pattern(width: 16, height: 8, channels: 3)),
        "rgb-odd.jpg": try JPEG.encode(Fixtures.pattern(width: 5, height: 3, channels: 3), quality: 60),
    ]
}
