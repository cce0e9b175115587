import TensorCore

/// A lookup table of learnable vectors (`nn.Embedding`): integer indices of any shape `S`
/// (stored as Float values) -> `S + [dimension]`. Weight `[count, dimension]`, initialised
/// from N(0, 1) as PyTorch. The gradient of a row is the sum of the output gradients of the
/// positions that looked it up.
public final class Embedding: Layer, @unchecked Sendable {
    public let count: Int
    public let dimension: Int
    /// `[count, dimension]`.
    public let weight: Tensor

    public init(_ count: Int, _ dimension: Int) throws {
        guard count > 0, dimension > 0 else {
            throw LayerError.invalidConfiguration("Embedding sizes must be positive, got \(count) x \(dimension)")
        }
        self.count = count
        self.dimension = dimension
        weight = Initializer.normal(mean: 0, std: 1).makeParameter([count, dimension])
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var rows = [Int](repeating: 0, count: input.count)
        for i in 0..<input.count {
            let v = input.pointer[i]
            guard v >= 0, v < Float(count), v == v.rounded() else {
                throw TensorError.invalidArgument(op: "Embedding", "index \(v) at position \(i) is not an integer in 0..<\(count)")
            }
            rows[i] = Int(v)
        }
        let d = dimension, table = weight
        let out = Tensor.uninitialized(input.shape + [d])
        for (i, r) in rows.enumerated() { (out.pointer + i * d).update(from: table.pointer + r * d, count: d) }
        return Tensor.record("embedding", out, inputs: [table]) { g in
            let dw = Tensor(zeros: table.shape)
            for (i, r) in rows.enumerated() {
                let src = g.pointer + i * d, dst = dw.pointer + r * d
                for k in 0..<d { dst[k] += src[k] }
            }
            return [dw]
        }
    }

    public override var configuration: String { "\(count) x \(dimension)" }
}

/// Recorded as one node by a captured graph: its row lookup is not a recorded op.
extension Embedding: PrimitiveLayer {}
