/// Elementwise arithmetic with NumPy/PyTorch broadcasting, and scalar forms.
/// Backward of a broadcast reduces the gradient back to each input's shape (`sum(toShape:)`).

/// The four broadcasting binary operations; the kernel switches once per call, not per element.
@usableFromInline
enum BinaryOp {
    case add, sub, mul, div

    /// The op as a captured graph names it.
    var graphArithmetic: GraphOp.Arithmetic {
        switch self { case .add: .add; case .sub: .sub; case .mul: .mul; case .div: .div }
    }
}

extension Tensor {
    /// Applies `op` to `a` and `b` broadcast to a common shape. Throws on incompatible shapes.
    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: String) throws -> Tensor {
        let outShape = try ShapeMath.broadcast(a.shape, b.shape, op: name)
        let out = Tensor.uninitialized(outShape)
        let o = out.pointer, pa = a.pointer, pb = b.pointer
        if a.shape == b.shape {
            binaryLoop(op, o, pa, 1, pb, 1, out.count)
        } else if b.count == 1 {
            binaryLoop(op, o, pa, 1, pb, 0, out.count)
        } else if a.count == 1 {
            binaryLoop(op, o, pa, 0, pb, 1, out.count)
        } else {
            // General case: iterate rows of the last axis, with stride 0 on broadcast axes.
            let rank = outShape.count
            func paddedStrides(_ s: [Int]) -> [Int] {
                let padded = [Int](repeating: 1, count: rank - s.count) + s
                let st = ShapeMath.strides(padded)
                return zip(padded, st).map { $0 == 1 ? 0 : $1 }
            }
            let sa = paddedStrides(a.shape), sb = paddedStrides(b.shape)
            let inner = outShape[rank - 1]
            let rows = out.count / Swift.max(inner, 1)
            var index = [Int](repeating: 0, count: rank)
            for r in 0..<rows {
                var offA = 0, offB = 0
                for d in 0..<(rank - 1) { offA += index[d] * sa[d]; offB += index[d] * sb[d] }
                binaryLoop(op, o + r * inner, pa + offA, sa[rank - 1], pb + offB, sb[rank - 1], inner)
                var d = rank - 2
                while d >= 0 { index[d] += 1; if index[d] < outShape[d] { break }; index[d] = 0; d -= 1 }
            }
        }
        return record(name, out, inputs: [a, b], saving: binaryBackwardReads(op, a, b), graph: .arithmetic(op.graphArithmetic),
                      backward: binaryBackward(op, a, b))
    }

    /// What a binary op's backward reads: nothing for a sum or difference, both operands for a
    /// product or quotient.
    static func binaryBackwardReads(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> [AnyObject] {
        op == .add || op == .sub ? [] : [a, b]
    }

    /// The backward of `a op b`; a sum's or difference's closure holds only the shapes, so the
    /// tape does not keep the operands alive through it.
    static func binaryBackward(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> (Tensor) -> [Tensor?] {
        let aShape = a.shape, bShape = b.shape
        switch op {
        case .add: return { g in [g.sum(toShape: aShape), g.sum(toShape: bShape)] }
        case .sub: return { g in [g.sum(toShape: aShape), g.negated().sum(toShape: bShape)] }
        case .mul:
            return { g in
                [a.requiresGrad ? (try! g * b).sum(toShape: aShape) : nil,
                 b.requiresGrad ? (try! g * a).sum(toShape: bShape) : nil]
            }
        case .div:
            // d(a/b)/da = 1/b; d(a/b)/db = -a/b².
            return { g in
                [a.requiresGrad ? (try! g / b).sum(toShape: aShape) : nil,
                 b.requiresGrad ? (try! (try! g * a) / (try! b * b)).negated().sum(toShape: bShape) : nil]
            }
        }
    }

    @inline(__always)
    static func binaryLoop(_ op: BinaryOp, _ o: UnsafeMutablePointer<Float>,
                           _ a: UnsafePointer<Float>, _ sa: Int,
                           _ b: UnsafePointer<Float>, _ sb: Int, _ n: Int) {
        switch (op, sa, sb) {
        case (.add, 1, 1): for i in 0..<n { o[i] = a[i] + b[i] }
        case (.sub, 1, 1): for i in 0..<n { o[i] = a[i] - b[i] }
        case (.mul, 1, 1): for i in 0..<n { o[i] = a[i] * b[i] }
        case (.div, 1, 1): for i in 0..<n { o[i] = a[i] / b[i] }
        case (.add, _, _): for i in 0..<n { o[i] = a[i * sa] + b[i * sb] }
        case (.sub, _, _): for i in 0..<n { o[i] = a[i * sa] - b[i * sb] }
        case (.mul, _, _): for i in 0..<n { o[i] = a[i * sa] * b[i * sb] }
        case (.div, _, _): for i in 0..<n { o[i] = a[i * sa] / b[i * sb] }
        }
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(.add, a, b, name: "add") }
    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(.sub, a, b, name: "sub") }
    /// Elementwise (Hadamard) product with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(.mul, a, b, name: "mul") }
    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(.div, a, b, name: "div") }

    /// `self * scale + shift`, elementwise.
    public func affine(scale: Float, shift: Float = 0) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer
        for i in 0..<count { o[i] = p[i] * scale + shift }
        return Tensor.record("affine", out, inputs: [self], saving: [], graph: .affine(scale: scale, shift: shift)) { g in [g.affine(scale: scale)] }
    }

    /// Tensor times scalar.
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s) }
    /// Scalar times tensor.
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s) }
    /// Tensor plus scalar.
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    /// Tensor minus scalar.
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    /// Tensor divided by scalar.
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s) }
    /// `-self`.
    public func negated() -> Tensor { affine(scale: -1) }
    /// Unary minus.
    public static prefix func - (a: Tensor) -> Tensor { a.negated() }

    /// Applies a scalar function elementwise with a hand-written derivative given in terms
    /// of the input `x` and output `y`. Used by the math functions below; not for hot layers.
    func unary(_ name: String, _ graph: GraphOp, _ f: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer
        for i in 0..<count { o[i] = f(p[i]) }
        // The result's storage, not the result: a closure holding its own result is a cycle.
        let x = UnsafePointer(p), y = UnsafePointer(o)
        return Tensor.record(name, out, inputs: [self], saving: [self, out.storage], graph: graph) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            for i in 0..<d.count { dp[i] = gp[i] * derivative(x[i], y[i]) }
            return [d]
        }
    }

    /// `eˣ`, elementwise.
    public func exp() -> Tensor { unary("exp", .function(.exp), { expf($0) }, derivative: { _, y in y }) }
    /// Natural logarithm, elementwise.
    public func log() -> Tensor { unary("log", .function(.log), { logf($0) }, derivative: { x, _ in 1 / x }) }
    /// Square root, elementwise.
    public func sqrt() -> Tensor { unary("sqrt", .function(.sqrt), { $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    /// `x²`, elementwise.
    public func squared() -> Tensor { unary("square", .function(.square), { $0 * $0 }, derivative: { x, _ in 2 * x }) }
    /// `|x|`, elementwise (derivative 0 at 0).
    public func abs() -> Tensor { unary("abs", .function(.abs), { Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    /// `xᵖ`, elementwise.
    public func pow(_ p: Float) -> Tensor {
        unary("pow", .power(p), { powf($0, p) }, derivative: { x, _ in p * powf(x, p - 1) })
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
