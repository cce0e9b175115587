/// Reductions: sum, mean and max over all elements or chosen axes.
/// One axis at a time, the tensor is viewed as `[outer, n, inner]` and reduced over `n`.

extension Tensor {
    /// Sum over every element: a scalar `[]`.
    public func sum() -> Tensor {
        var acc: Double = 0
        let p = pointer
        for i in 0..<count { acc += Double(p[i]) }
        let out = Tensor(scalar: Float(acc))
        let shape = self.shape
        return Tensor.record("sum", out, inputs: [self], saving: []) { g in [Tensor(repeating: g.item, shape: shape)] }
    }

    /// Mean over every element: a scalar `[]`.
    public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

    /// Sum over the given axes (negative counts from the end). With `keepDims` the reduced
    /// axes stay with size 1, so the result broadcasts against the input.
    public func sum(axes: [Int], keepDims: Bool = false) throws -> Tensor {
        let resolved = try Set(axes.map { try ShapeMath.axis($0, rank: rank, op: "sum") })
        var result = self
        for a in resolved.sorted() { result = result.sumAxis(a) }
        if !keepDims { result = try result.reshaped(shape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element)) }
        return result
    }

    /// Mean over the given axes.
    public func mean(axes: [Int], keepDims: Bool = false) throws -> Tensor {
        let resolved = try axes.map { try ShapeMath.axis($0, rank: rank, op: "mean") }
        let n = Set(resolved).reduce(1) { $0 * shape[$1] }
        return try sum(axes: axes, keepDims: keepDims) / Float(Swift.max(n, 1))
    }

    /// Sums one axis keeping it with size 1.
    func sumAxis(_ axis: Int) -> Tensor {
        let n = shape[axis]
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape; outShape[axis] = 1
        let out = Tensor(zeros: outShape)
        let o = out.pointer, p = pointer
        for a in 0..<outer {
            let dst = o + a * inner
            for k in 0..<n {
                let src = p + (a * n + k) * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
        let inShape = shape
        return Tensor.record("sum", out, inputs: [self], saving: []) { g in [try! g.broadcast(to: inShape)] }
    }

    /// Reduces a gradient of a broadcast result back to `target` by summing the broadcast axes.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        var result = self
        let lead = rank - target.count
        for a in 0..<rank where a < lead || target[a - lead] == 1 && shape[a] != 1 { result = result.sumAxis(a) }
        return try! result.reshaped(target)
    }

    /// Copies this tensor broadcast to a larger shape (the inverse of `sum(toShape:)`).
    public func broadcast(to target: [Int]) throws -> Tensor {
        let s = try ShapeMath.broadcast(shape, target, op: "broadcast")
        guard s == target else {
            throw TensorError.shapeMismatch(op: "broadcast", "cannot broadcast \(describe(shape)) to \(describe(target))")
        }
        return try self + Tensor(zeros: target)
    }

    /// Maximum over one axis, and the index of the maximum (first on ties) for each position.
    /// Result shape drops the axis unless `keepDims`. The gradient flows to the arg-max.
    public func max(axis: Int, keepDims: Bool = false) throws -> (values: Tensor, indices: [Int]) {
        let ax = try ShapeMath.axis(axis, rank: rank, op: "max")
        let n = shape[ax]
        guard n > 0 else { throw TensorError.invalidArgument(op: "max", "axis \(axis) has size 0") }
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let out = Tensor.uninitialized(outShape)
        var idx = [Int](repeating: 0, count: outer * inner)
        let o = out.pointer, p = pointer
        for a in 0..<outer {
            for i in 0..<inner {
                var best = p[a * n * inner + i], bi = 0
                for k in 1..<Swift.max(n, 1) where p[(a * n + k) * inner + i] > best { best = p[(a * n + k) * inner + i]; bi = k }
                o[a * inner + i] = best
                idx[a * inner + i] = bi
            }
        }
        let inShape = shape
        let result = Tensor.record("max", out, inputs: [self]) { g in
            let d = Tensor(zeros: inShape)
            let dp = d.pointer, gp = g.pointer
            for a in 0..<outer { for i in 0..<inner { dp[(a * n + idx[a * inner + i]) * inner + i] += gp[a * inner + i] } }
            return [d]
        }
        return (result, idx)
    }

    /// The largest element: a scalar `[]` whose gradient flows to the first arg-max.
    public func max() -> Tensor {
        let flat = try! reshaped([count])
        return try! flat.max(axis: 0).values
    }

    /// Index of the largest element along `axis` for each position (no gradient).
    public func argmax(axis: Int = -1) throws -> [Int] { try withNoGrad { try max(axis: axis).indices } }
}
