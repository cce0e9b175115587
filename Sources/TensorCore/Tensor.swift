/// An n-dimensional array of `Float32` in row-major order, the unit every op consumes and
/// produces. Images are NCHW: `[batch, channels, height, width]`.
///
/// A tensor is a reference (like a PyTorch tensor): ops return new tensors and record
/// themselves on the autograd tape when an input `requiresGrad`; `backward()` on a scalar
/// then fills the `grad` of every leaf that requires it. Optimizers update parameters in
/// place through `storage`.
public final class Tensor: @unchecked Sendable {
    /// Sizes of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// The elements, `shape.reduce(1, *)` of them, row-major.
    public let storage: TensorStorage
    /// Whether gradients flow to this tensor. Set it on leaves (parameters); ops set it on
    /// their results when any input requires it and gradient recording is on.
    public var requiresGrad: Bool
    /// The accumulated gradient of the last `backward()` (same shape), for leaves that require it.
    public var grad: Tensor?
    /// The op that produced this tensor, for the backward pass; `nil` for leaves.
    public internal(set) var gradFunction: GradFunction?

    /// Wraps existing storage; `storage.count` must equal the shape's element count.
    public init(shape: [Int], storage: TensorStorage, requiresGrad: Bool = false) {
        precondition(ShapeMath.count(shape) == storage.count,
                     "storage of \(storage.count) elements for shape \(describe(shape))")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative size in shape \(describe(shape))")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor of the given shape.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: TensorStorage(count: ShapeMath.count(shape)), requiresGrad: requiresGrad)
    }

    /// A tensor of the given shape whose elements are not initialised; kernels that write
    /// every element use it to skip the zero fill.
    public static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: ShapeMath.count(shape), zeroed: false))
    }

    /// A tensor filled with one value.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(zeros: shape, requiresGrad: requiresGrad)
        storage.pointer.update(repeating: value, count: storage.count)
    }

    /// A tensor from row-major values; throws when `values.count` does not match the shape.
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument(op: "Tensor", "negative size in shape \(describe(shape))")
        }
        // Checked: a shape from a file may overflow the element count (issue 29 finding 7).
        guard let count = ShapeMath.checkedCount(shape) else {
            throw TensorError.invalidArgument(op: "Tensor", "shape \(describe(shape)) has more elements than an Int counts")
        }
        guard count == values.count else {
            throw TensorError.shapeMismatch(op: "Tensor",
                "\(values.count) values for shape \(describe(shape)) (\(count) elements)")
        }
        self.init(zeros: shape, requiresGrad: requiresGrad)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A rank-1 tensor of the values.
    public convenience init(_ values: [Float], requiresGrad: Bool = false) {
        try! self.init(shape: [values.count], values: values, requiresGrad: requiresGrad)
    }

    /// A scalar (rank-0) tensor.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        try! self.init(shape: [], values: [scalar], requiresGrad: requiresGrad)
    }

    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }
    /// Start of the elements.
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    /// A copy of the elements, row-major.
    public var values: [Float] { Array(storage.buffer) }
    /// The single element of a one-element tensor (a scalar loss, say).
    public var item: Float {
        precondition(count == 1, "item of a tensor of shape \(describe(shape))")
        return storage.pointer[0]
    }
    /// Whether this tensor was made by the user rather than by a recorded op.
    public var isLeaf: Bool { gradFunction == nil }

    /// The element at a multi-dimensional index (bounds-checked; for tests and tools, not kernels).
    public subscript(_ index: Int...) -> Float {
        get { storage.pointer[offset(index)] }
        set { storage.pointer[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(describe(shape))")
        var off = 0
        for (i, (x, n)) in zip(index, shape).enumerated() {
            precondition(x >= 0 && x < n, "index \(x) out of range 0..<\(n) on axis \(i)")
            off = off * n + x
        }
        return off
    }

    /// A new leaf holding a copy of the elements, cut from the tape.
    public func detached() -> Tensor {
        let t = Tensor.uninitialized(shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Copies the values of `other` (same element count) into this tensor in place.
    public func assign(_ other: Tensor) throws {
        guard other.count == count else {
            throw TensorError.shapeMismatch(op: "assign", "\(describe(other.shape)) into \(describe(shape))")
        }
        pointer.update(from: other.pointer, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = values.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(describe(shape)), values: [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
