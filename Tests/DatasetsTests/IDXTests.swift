import Datasets
import FoveaTestSupport
import XCTest

final class IDXTests: XCTestCase {
    func testParsesHandBuiltUInt8File() throws {
        let bytes: [UInt8] = [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255]
        let idx = try IDX.parse(bytes)
        XCTAssertEqual(idx.type, .uint8)
        XCTAssertEqual(idx.dims, [2, 3])
        XCTAssertEqual(idx.count, 6)
        XCTAssertEqual(idx.data, [1, 2, 3, 4, 5, 255])
        XCTAssertEqual(idx.floatValues(), [1, 2, 3, 4, 5, 255])
        XCTAssertEqual(idx.intValues(), [1, 2, 3, 4, 5, 255])
    }

    func testBigEndianDecodingOfEachType() throws {
        let i8 = try IDX.parse([0, 0, 0x09, 1, 0, 0, 0, 2, 0xFF, 0x7F])
        XCTAssertEqual(i8.intValues(), [-1, 127])
        let i16 = try IDX.parse([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])
        XCTAssertEqual(i16.intValues(), [258, -2])
        let i32 = try IDX.parse([0, 0, 0x0C, 1, 0, 0, 0, 1, 0x80, 0, 0, 0])
        XCTAssertEqual(i32.intValues(), [Int(Int32.min)])
        let f32 = try IDX.parse([0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0x80, 0, 0, 0xC0, 0x20, 0, 0])
        XCTAssertEqual(f32.floatValues(), [1.0, -2.5])
        XCTAssertNil(f32.intValues())
        let f64 = try IDX.parse([0, 0, 0x0E, 1, 0, 0, 0, 1, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(f64.doubleValues(), [1.5])
    }

    func testEncodeMatchesLayout() throws {
        let array = try IDXArray(type: .int16, dims: [2], values: [258, -2])
        XCTAssertEqual(try IDX.encode(array), [0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])
    }

    func testRoundTripEveryTypeRawAndGzipped() throws {
        let dir = try makeTemporaryDirectory()
        let samples: [IDXType: [Double]] = [
            .uint8: [0, 1, 128, 255, 7, 9], .int8: [-128, -1, 0, 1, 127, 5],
            .int16: [-32768, -300, 0, 300, 32767, 1], .int32: [-2_147_483_648, -70_000, 0, 70_000, 2_147_483_647, 3],
            .float32: [-1.5, 0, 0.25, Double(Float.greatestFiniteMagnitude), 0x1p-70, 7], .float64: [-1e300, 0.1, 0, 1.0 / 3.0, 2, 1e-300],
        ]
        for type in IDXType.allCases {
            let values = samples[type]!
            let array = try IDXArray(type: type, dims: [2, 1, 3], values: values)
            XCTAssertEqual(array.data.count, 6 * type.byteWidth)
            for compressed in [false, true] {
                let url = dir.appendingPathComponent("\(type)-\(compressed).idx\(compressed ? ".gz" : "")")
                try IDX.write(array, to: url, compressed: compressed)
                let raw = try [UInt8](Data(contentsOf: url))
                XCTAssertEqual(Gzip.isGzip(raw), compressed)
                let back = try IDX.read(contentsOf: url)
                XCTAssertEqual(back, array, "\(type) compressed \(compressed)")
                XCTAssertEqual(back.doubleValues(), values, "\(type)")
            }
        }
    }

    func testScalarAndEmptyArrays() throws {
        let scalar = try IDX.parse([0, 0, 0x08, 0, 42])
        XCTAssertEqual(scalar.dims, [])
        XCTAssertEqual(scalar.data, [42])
        let empty = try IDX.parse([0, 0, 0x08, 1, 0, 0, 0, 0])
        XCTAssertEqual(empty.dims, [0])
        XCTAssertEqual(empty.floatValues(), [])
    }

    func testTooShort() {
        XCTAssertEqual(assertDatasetError(try IDX.parse([0, 0, 8], path: "a.idx")),
                       .idxTooShort(path: "a.idx", byteCount: 3, needed: 4))
        // Three dimensions promise a 16-byte header.
        let error = assertDatasetError(try IDX.parse([0, 0, 8, 3, 0, 0, 0, 1, 0, 0], path: "b.idx"))
        XCTAssertEqual(error, .idxTooShort(path: "b.idx", byteCount: 10, needed: 16))
        XCTAssertEqual(error?.description, "b.idx: IDX file too short: 10 bytes, the header needs 16")
    }

    func testBadMagic() {
        let error = assertDatasetError(try IDX.parse([0x50, 0x4B, 3, 4, 0, 0], path: "archive.zip"))
        XCTAssertEqual(error, .idxBadMagic(path: "archive.zip", bytes: [0x50, 0x4B]))
        XCTAssertEqual(error?.description, "archive.zip: not an IDX file: magic bytes are 50 4B, expected 00 00")
    }

    func testUnknownType() {
        let error = assertDatasetError(try IDX.parse([0, 0, 0x0A, 1, 0, 0, 0, 1, 0]))
        XCTAssertEqual(error, .idxUnknownType(path: nil, code: 0x0A))
        XCTAssertTrue(error?.description.contains("0x0A") ?? false)
    }

    func testDataLengthMismatchQuotesBothCounts() {
        // [2, 3] of int16 needs 12 bytes; give 11.
        let bytes: [UInt8] = [0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 3] + [UInt8](repeating: 0, count: 11)
        let error = assertDatasetError(try IDX.parse(bytes, path: "/tmp/x-idx2"))
        XCTAssertEqual(error, .idxLengthMismatch(path: "/tmp/x-idx2", dims: [2, 3], expectedBytes: 12, actualBytes: 11))
        XCTAssertEqual(error?.description,
                       "/tmp/x-idx2: IDX data length mismatch: dimensions [2, 3] need 12 bytes of data, the file holds 11")
        // Extra bytes are as wrong as missing ones.
        XCTAssertNotNil(assertDatasetError(try IDX.parse([0, 0, 8, 1, 0, 0, 0, 1, 5, 6])))
    }

    func testHugeDimensionsDoNotOverflow() {
        let bytes: [UInt8] = [0, 0, 0x0E, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1]
        guard case .idxLengthMismatch(_, _, _, let actual)? = assertDatasetError(try IDX.parse(bytes)) else {
            return XCTFail("expected a length mismatch")
        }
        XCTAssertEqual(actual, 1)
    }

    func testTruncatedGzippedFileNamesPath() throws {
        let dir = try makeTemporaryDirectory()
        let url = dir.appendingPathComponent("labels-idx1-ubyte.gz")
        let packed = try Gzip.compress(IDX.encode(IDXArray(dims: [1000], bytes: pseudoRandomBytes(1000, seed: 3))))
        try Data(packed.prefix(packed.count / 2)).write(to: url)
        let error = assertDatasetError(try IDX.read(contentsOf: url))
        guard case .corruptGzip(let path, _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, url.path)
    }

    func testMissingFile() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("absent-idx3-ubyte")
        XCTAssertEqual(assertDatasetError(try IDX.read(contentsOf: url)), .fileNotFound(path: url.path))
    }

    func testUnrepresentableValuesAndDims() {
        XCTAssertNotNil(assertDatasetError(try IDXArray(type: .uint8, dims: [1], values: [256])))
        XCTAssertNotNil(assertDatasetError(try IDXArray(type: .int32, dims: [1], values: [0.5])))
        XCTAssertNotNil(assertDatasetError(try IDXArray(type: .float32, dims: [1], values: [0.1])))
        XCTAssertNotNil(assertDatasetError(try IDXArray(type: .uint8, dims: [-1], data: [])))
        let wrongCount = assertDatasetError(try IDXArray(dims: [2, 2], bytes: [1, 2, 3]))
        XCTAssertEqual(wrongCount, .idxLengthMismatch(path: nil, dims: [2, 2], expectedBytes: 4, actualBytes: 3))
        let bigDim = try! IDXArray(dims: [0, 1 << 33], bytes: [])
        XCTAssertNotNil(assertDatasetError(try IDX.encode(bigDim)))
    }
}
