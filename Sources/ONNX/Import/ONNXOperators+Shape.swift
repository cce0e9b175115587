import TensorCore

// Operators that move elements without arithmetic: Flatten, Reshape, Concat, Transpose,
// Split, Slice, Squeeze, Unsqueeze. Their shape arguments are load-time constants.

extension ONNXOperatorFactory {
    /// `Flatten(axis)`: `[d0, ..., dn]` -> `[d0 ... d(axis-1), d(axis) ... dn]`.
    static func flatten(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 1)
        try node.allowAttributes(["axis"])
        let axis = try node.int("axis", 1, range: -64...64)
        return { inputs, _ in
            let x = inputs[0]!
            guard axis >= -x.rank, axis <= x.rank else { throw node.fail("axis \(axis) is out of range for \(describe(x.shape))") }
            let a = axis < 0 ? axis + x.rank : axis
            return [try x.reshaped([x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)])]
        }
    }

    /// `Reshape` to a constant shape: 0 copies the input's size (unless `allowzero`), -1 is inferred.
    static func reshape(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(2, 2)
        try node.allowAttributes(["allowzero"])
        let allowZero = try node.int("allowzero", 0, range: 0...1) == 1
        let shape = try node.constantIntegers(1)!
        guard shape.filter({ $0 == -1 }).count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw node.fail("shape \(shape) may hold one -1 and no other negative size")
        }
        return { inputs, _ in
            let x = inputs[0]!
            let target = try shape.enumerated().map { i, d -> Int in
                guard d == 0 && !allowZero else { return d }
                guard i < x.rank else { throw node.fail("shape \(shape) copies axis \(i) of \(describe(x.shape)), which has no such axis") }
                return x.shape[i]
            }
            // Check the sizes here, overflow-safe, before Fovea's reshape multiplies them.
            var known = 1
            for d in target where d != -1 {
                let (p, overflow) = known.multipliedReportingOverflow(by: d)
                guard !overflow, p <= ONNXTensorConversion.maxElements else { throw node.fail("shape \(shape) is too large") }
                known = p
            }
            let fits = target.contains(-1) ? known > 0 && x.count % known == 0 : known == x.count
            guard fits else { throw node.fail("cannot reshape \(describe(x.shape)) (\(x.count) elements) to \(shape)") }
            return [try x.reshaped(target)]
        }
    }

    /// `Concat(axis)`.
    static func concat(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 1 << 16)
        try node.allowAttributes(["axis"])
        let axis = try node.int("axis", nil, range: -64...64)
        return { inputs, _ in
            let xs = try inputs.map { t -> Tensor in
                guard let t else { throw node.fail("inputs may not be empty") }
                return t
            }
            return [try Tensor.concatenate(xs, axis: try node.axis(axis, rank: xs[0].rank))]
        }
    }

    /// `Transpose(perm)`, reversing the axes by default.
    static func transpose(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 1)
        try node.allowAttributes(["perm"])
        let perm = try node.ints("perm", range: 0...63)
        return { inputs, _ in
            let x = inputs[0]!
            return [try x.permuted(perm ?? Array((0..<x.rank).reversed()))]
        }
    }

    /// `Split(axis)` into the given sizes (input from opset 13, attribute before) or equal parts.
    static func split(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 2, outputs: 1...64)
        try node.allowAttributes(["axis", "split", "num_outputs"])
        let axis = try node.int("axis", 0, range: -64...64)
        let sizes = node.opset < 13 ? try node.ints("split", range: 0...(1 << 31)) : try node.constantIntegers(1)
        if let sizes, sizes.count != node.outputs.count { throw node.fail("split sizes \(sizes) for \(node.outputs.count) outputs") }
        return { inputs, _ in
            let x = inputs[0]!
            let a = try node.axis(axis, rank: x.rank), n = x.shape[a], parts = node.outputs.count
            let chunk = (n + parts - 1) / parts
            let pieces = sizes ?? Array(repeating: chunk, count: parts - 1) + [n - chunk * (parts - 1)]
            guard pieces.allSatisfy({ $0 >= 0 }), pieces.reduce(0, +) == n else {
                throw node.fail("split sizes \(pieces) do not add up to \(n), the size of axis \(axis) of \(describe(x.shape))")
            }
            var start = 0
            return try pieces.map { size in
                defer { start += size }
                return try x.slice(axis: a, start..<(start + size))
            }
        }
    }

    /// `Slice` with constant starts, ends, axes and steps of 1 (attributes before opset 10).
    static func slice(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 5)
        let starts: [Int], ends: [Int], axes: [Int]?
        if node.opset < 10 {
            try node.allowAttributes(["starts", "ends", "axes"])
            guard let s = try node.ints("starts"), let e = try node.ints("ends") else { throw node.fail("starts and ends are required") }
            (starts, ends, axes) = (s, e, try node.ints("axes", range: -64...63))
        } else {
            try node.allowAttributes([])
            guard let s = try node.constantIntegers(1), let e = try node.constantIntegers(2) else { throw node.fail("starts and ends are required") }
            (starts, ends, axes) = (s, e, try node.constantIntegers(3))
            if let steps = try node.constantIntegers(4), steps.contains(where: { $0 != 1 }) {
                throw node.fail("steps \(steps): only step 1 is supported")
            }
        }
        guard starts.count == ends.count, axes.map({ $0.count == starts.count }) ?? true else {
            throw node.fail("starts \(starts), ends \(ends) and axes \(axes ?? []) must have the same length")
        }
        return { inputs, _ in
            var x = inputs[0]!
            for (i, (s, e)) in zip(starts, ends).enumerated() {
                let a = try node.axis(axes?[i] ?? i, rank: x.rank), n = x.shape[a]
                func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + n : v, 0), n) }
                let lo = clamp(s), hi = Swift.max(clamp(e), clamp(s))
                x = try x.slice(axis: a, lo..<hi)
            }
            return [x]
        }
    }

    /// `Squeeze` / `Unsqueeze` with constant axes (attribute before opset 13).
    static func squeeze(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 2)
        try node.allowAttributes(node.opset < 13 ? ["axes"] : [])
        let axes = node.opset < 13 ? try node.ints("axes", range: -64...63) : try node.constantIntegers(1)
        let isSqueeze = node.opType == "Squeeze"
        if !isSqueeze && axes == nil { throw node.fail("axes are required") }
        return { inputs, _ in
            let x = inputs[0]!
            if isSqueeze {
                let drop = try Set((axes ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { try node.axis($0, rank: x.rank) })
                if let bad = drop.first(where: { x.shape[$0] != 1 }) { throw node.fail("axis \(bad) of \(describe(x.shape)) is not 1") }
                return [try x.reshaped(x.shape.indices.filter { !drop.contains($0) }.map { x.shape[$0] })]
            }
            let rank = x.rank + axes!.count
            let added = try Set(axes!.map { try node.axis($0, rank: rank) })
            guard added.count == axes!.count else { throw node.fail("axes \(axes!) repeat") }
            var source = x.shape.makeIterator()
            return [try x.reshaped((0..<rank).map { added.contains($0) ? 1 : source.next()! })]
        }
    }
}
