/// Shape-changing ops: reshape (shares storage), flatten, transpose/permute, slicing and
/// concatenation (copies).

extension Tensor {
    /// The same elements under a new shape; one size may be -1 (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var target = newShape
        if let i = newShape.firstIndex(of: -1) {
            // Overflow-safe: the sizes may come from a file (issue 29 finding 7).
            let known = ShapeMath.checkedCount(newShape.enumerated().filter { $0.offset != i }.map(\.element)) ?? 0
            guard known > 0, count % known == 0, newShape.filter({ $0 == -1 }).count == 1 else {
                throw TensorError.shapeMismatch(op: "reshape", "cannot reshape \(describe(shape)) (\(count) elements) to \(describe(newShape))")
            }
            target[i] = count / known
        }
        guard target.allSatisfy({ $0 >= 0 }), ShapeMath.checkedCount(target) == count else {
            throw TensorError.shapeMismatch(op: "reshape", "cannot reshape \(describe(shape)) (\(count) elements) to \(describe(newShape))")
        }
        let out = Tensor(shape: target, storage: storage)
        let inShape = shape
        return Tensor.record("reshape", out, inputs: [self], saving: [], graph: .reshape(target)) { g in [try! g.reshaped(inShape)] }
    }

    /// Keeps axes before `startAxis` and flattens the rest into one: `[N, C, H, W]` -> `[N, C*H*W]`.
    public func flattened(from startAxis: Int = 1) throws -> Tensor {
        let a = try ShapeMath.axis(startAxis, rank: Swift.max(rank, 1), op: "flatten")
        return GraphRecorder.note(.flatten(from: startAxis), [self], try reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)]))
    }

    /// Reorders the axes: result axis i is input axis `order[i]` (PyTorch's `permute`).
    public func permuted(_ order: [Int]) throws -> Tensor {
        guard order.sorted() == Array(0..<rank) else {
            throw TensorError.invalidArgument(op: "permute", "\(order) is not a permutation of the \(rank) axes of \(describe(shape))")
        }
        let outShape = order.map { shape[$0] }
        let inStrides = ShapeMath.strides(shape)
        let srcStrides = order.map { inStrides[$0] }
        let out = Tensor.uninitialized(outShape)
        let o = out.pointer, p = pointer
        var index = [Int](repeating: 0, count: rank)
        for i in 0..<count {
            var off = 0
            for d in 0..<rank { off += index[d] * srcStrides[d] }
            o[i] = p[off]
            var d = rank - 1
            while d >= 0 { index[d] += 1; if index[d] < outShape[d] { break }; index[d] = 0; d -= 1 }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in order.enumerated() { inverse[a] = i }
        return Tensor.record("permute", out, inputs: [self], saving: [], graph: .permute(order)) { g in [try! g.permuted(inverse)] }
    }

    /// Swaps two axes (default: the last two, a matrix transpose).
    public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        let x = try ShapeMath.axis(a, rank: rank, op: "transpose"), y = try ShapeMath.axis(b, rank: rank, op: "transpose")
        var order = Array(0..<rank); order.swapAt(x, y)
        return try permuted(order)
    }

    /// Elements `range` along `axis` (a copy), like `x[:, 2:5]` in PyTorch.
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let ax = try ShapeMath.axis(axis, rank: rank, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[ax] else {
            throw TensorError.invalidArgument(op: "slice", "range \(range) out of bounds for axis \(axis) of size \(shape[ax]) in \(describe(shape))")
        }
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape; outShape[ax] = range.count
        let out = Tensor.uninitialized(outShape)
        let n = shape[ax], m = range.count
        for a in 0..<outer {
            (out.pointer + a * m * inner).update(from: pointer + (a * n + range.lowerBound) * inner, count: m * inner)
        }
        let inShape = shape
        return Tensor.record("slice", out, inputs: [self], saving: [], graph: .slice(axis: axis, range: range)) { g in
            let d = Tensor(zeros: inShape)
            for a in 0..<outer {
                (d.pointer + (a * n + range.lowerBound) * inner).update(from: g.pointer + a * m * inner, count: m * inner)
            }
            return [d]
        }
    }

    /// Joins tensors along `axis`; all other sizes must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "concatenate", "no tensors") }
        let ax = try ShapeMath.axis(axis, rank: first.rank, op: "concatenate")
        for t in tensors where t.rank != first.rank || (0..<first.rank).contains(where: { $0 != ax && t.shape[$0] != first.shape[$0] }) {
            throw TensorError.shapeMismatch(op: "concatenate", "\(describe(t.shape)) does not fit \(describe(first.shape)) along axis \(axis)")
        }
        let outer = first.shape[..<ax].reduce(1, *), inner = first.shape[(ax + 1)...].reduce(1, *)
        let sizes = tensors.map { $0.shape[ax] }
        let total = sizes.reduce(0, +)
        var outShape = first.shape; outShape[ax] = total
        let out = Tensor.uninitialized(outShape)
        var offset = 0
        for (t, m) in zip(tensors, sizes) {
            for a in 0..<outer {
                (out.pointer + (a * total + offset) * inner).update(from: t.pointer + a * m * inner, count: m * inner)
            }
            offset += m
        }
        return record("concatenate", out, inputs: tensors, saving: [], graph: .concatenate(axis: axis)) { g in
            var start = 0
            return sizes.map { m in
                defer { start += m }
                return try! g.slice(axis: ax, start..<(start + m))
            }
        }
    }
}
