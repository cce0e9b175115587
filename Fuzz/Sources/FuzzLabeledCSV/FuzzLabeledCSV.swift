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

/// The CSV is written beside two valid images (a.png, b.jpg) and loaded with LabeledCSV,
/// which parses the rows, finds the classes, reads the images it names and builds the
/// labelled tensor; then the data are normalised and split as training does.
func body(_ bytes: [UInt8]) throws {
    _ = images
    let url = try Scratch.write(bytes, to: "csv/labels.csv")
    let (data, _) = try LabeledCSV.load(url)
    _ = try data.normalized(mean: [0.5], std: [0.25])
    _ = try data.subset(0..<min(1, data.count))
}

/// The images the CSVs name, written once per process.
let images: Void = {
    try! Scratch.write(PNG.encode(Fixtures.digit), to: "csv/a.png")
    try! Scratch.write(JPEG.encode(Fixtures.digit), to: "csv/b.jpg")
}()

func seeds() throws -> [String: [UInt8]] {
    [
        "header.csv": Array("ID,Label\na.png,0\nb.jpg,1\na.png,3\n".utf8),
        "names.csv": Array("a.png,cat\n\"b.jpg\", dog \n".utf8),
        "crlf.csv": Array("file,label\r\na.png,10\r\nb.jpg,9\r\n".utf8),
    ]
}
