import Foundation
import TensorCore

/// Conversion between Fovea tensors and ONNX `TensorProto`s, with every size read from a file
/// checked before anything is allocated.
public enum ONNXTensorConversion {
    /// The most elements one tensor in a file may declare (2^31), and the most its dimensions
    /// may multiply to on the way; larger claims are refused before any allocation.
    public static let maxElements = 1 << 31

    /// The checked element count of `dims`: every dimension non-negative and the product at
    /// most `maxElements`.
    static func elementCount(_ dims: [Int64], name: String) throws -> Int {
        var count = 1
        for d in dims {
            guard d >= 0 else { throw ONNXError.invalidTensor(name: name, "negative dimension \(d) in \(dims)") }
            guard d <= Int64(maxElements) else {
                throw ONNXError.invalidTensor(name: name, "dimension \(d) in \(dims) exceeds the limit of \(maxElements) elements")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= maxElements else {
                throw ONNXError.invalidTensor(name: name, "dimensions \(dims) give more than \(maxElements) elements")
            }
            count = product
        }
        return count
    }

    /// A float tensor as a `TensorProto` named `name`, its values as little-endian `raw_data`.
    public static func proto(_ tensor: Tensor, name: String) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = tensor.shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = littleEndianBytes(UnsafeBufferPointer(start: tensor.pointer, count: tensor.count))
        return t
    }

    /// An int64 tensor of `shape` (a 1-D list by default) as a `TensorProto`.
    public static func proto(int64s values: [Int64], shape: [Int]? = nil, name: String) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = (shape ?? [values.count]).map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.rawData = values.withUnsafeBufferPointer { littleEndianBytes($0) }
        return t
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>) -> Data {
        var data = Data(count: values.count * MemoryLayout<T>.size)
        data.withUnsafeMutableBytes { raw in
            let out = raw.bindMemory(to: T.self)
            for i in 0..<values.count { out[i] = values[i].littleEndian }
        }
        return data
    }

    static func littleEndianBytes(_ values: UnsafeBufferPointer<Float>) -> Data {
        #if _endian(little)
        if let base = values.baseAddress { return Data(bytes: base, count: values.count * 4) }
        #endif
        var data = Data(count: values.count * 4)
        data.withUnsafeMutableBytes { raw in
            let out = raw.bindMemory(to: UInt32.self)
            for i in 0..<values.count { out[i] = values[i].bitPattern.littleEndian }
        }
        return data
    }

    /// The data type of a `TensorProto`, by name, for messages.
    static func typeName(_ code: Int32) -> String {
        Onnx_TensorProto.DataType(rawValue: Int(code)).map { "\($0)".uppercased() } ?? "code \(code)"
    }

    /// Checks that the tensor's values live in the file itself.
    static func checkLocation(_ t: Onnx_TensorProto) throws {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw ONNXError.invalidTensor(name: t.name, "its data is stored in an external file, which Fovea does not read (save the model with the weights inside)")
        }
    }

    /// The values of a FLOAT (or DOUBLE) tensor as a Fovea tensor, after checking that the
    /// stored data has exactly as many values as the dimensions say (before allocating).
    public static func floatTensor(_ t: Onnx_TensorProto) throws -> Tensor {
        try checkLocation(t)
        let count = try elementCount(t.dims, name: t.name)
        let shape = t.dims.map { Int($0) }
        let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType))
        guard type == .float || type == .double else {
            throw ONNXError.invalidTensor(name: t.name, "element type \(typeName(t.dataType)) where FLOAT is needed")
        }
        let width = type == .float ? 4 : 8
        if !t.rawData.isEmpty {
            guard t.rawData.count == count * width else {
                throw ONNXError.invalidTensor(name: t.name, "raw_data has \(t.rawData.count) bytes; dims \(t.dims) need \(count * width) (\(count) \(type == .float ? "floats" : "doubles"))")
            }
        } else {
            let stored = type == .float ? t.floatData.count : t.doubleData.count
            guard stored == count else {
                throw ONNXError.invalidTensor(name: t.name, "\(type == .float ? "float_data" : "double_data") has \(stored) values; dims \(t.dims) need \(count)")
            }
        }
        let out = Tensor.uninitialized(shape)
        let p = out.pointer
        if t.rawData.isEmpty {
            if type == .float { for i in 0..<count { p[i] = t.floatData[i] } }
            else { for i in 0..<count { p[i] = Float(t.doubleData[i]) } }
            return out
        }
        t.rawData.withUnsafeBytes { raw in
            if type == .double {
                for i in 0..<count {
                    p[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                }
                return
            }
            #if _endian(little)
            UnsafeMutableRawPointer(p).copyMemory(from: raw.baseAddress!, byteCount: count * 4)
            #else
            for i in 0..<count {
                p[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
            #endif
        }
        return out
    }

    /// The values of an INT64 or INT32 tensor (shapes, axes, split sizes), checked as `floatTensor` is.
    public static func integers(_ t: Onnx_TensorProto) throws -> (values: [Int64], shape: [Int]) {
        try checkLocation(t)
        let count = try elementCount(t.dims, name: t.name)
        let shape = t.dims.map { Int($0) }
        switch Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) {
        case .int64:
            if !t.rawData.isEmpty {
                guard t.rawData.count == count * 8 else {
                    throw ONNXError.invalidTensor(name: t.name, "raw_data has \(t.rawData.count) bytes; dims \(t.dims) need \(count * 8) (\(count) int64s)")
                }
                let values = t.rawData.withUnsafeBytes { raw in
                    (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
                }
                return (values, shape)
            }
            guard t.int64Data.count == count else {
                throw ONNXError.invalidTensor(name: t.name, "int64_data has \(t.int64Data.count) values; dims \(t.dims) need \(count)")
            }
            return (t.int64Data, shape)
        case .int32:
            if !t.rawData.isEmpty {
                guard t.rawData.count == count * 4 else {
                    throw ONNXError.invalidTensor(name: t.name, "raw_data has \(t.rawData.count) bytes; dims \(t.dims) need \(count * 4) (\(count) int32s)")
                }
                let values = t.rawData.withUnsafeBytes { raw in
                    (0..<count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
                }
                return (values, shape)
            }
            guard t.int32Data.count == count else {
                throw ONNXError.invalidTensor(name: t.name, "int32_data has \(t.int32Data.count) values; dims \(t.dims) need \(count)")
            }
            return (t.int32Data.map(Int64.init), shape)
        default:
            throw ONNXError.invalidTensor(name: t.name, "element type \(typeName(t.dataType)) where INT64 is needed")
        }
    }

    /// True for the element types `floatTensor` reads.
    static func isFloating(_ t: Onnx_TensorProto) -> Bool {
        t.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue) || t.dataType == Int32(Onnx_TensorProto.DataType.double.rawValue)
    }
}
