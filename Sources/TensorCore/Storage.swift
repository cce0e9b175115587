#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous, 64-byte-aligned block of `Float32` values owned by one or more tensors.
///
/// Storage is a reference: tensors made by `reshaped` share it. Kernels read and write it
/// through `pointer`; nothing here is bounds-checked on the hot path.
public final class TensorStorage: @unchecked Sendable {
    /// Number of `Float` elements.
    public let count: Int
    /// Start of the elements (64-byte aligned, valid for `count` elements).
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` elements, zero-filled when `zeroed` (the default).
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "negative storage size \(count)")
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let rc = posix_memalign(&raw, 64, (bytes + 63) & ~63)
        precondition(rc == 0 && raw != nil, "out of memory allocating \(bytes) bytes")
        pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    deinit { free(pointer) }

    /// The elements as a buffer pointer.
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}
