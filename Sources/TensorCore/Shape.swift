/// Shape arithmetic shared by the ops: element counts, row-major strides, broadcasting.
public enum ShapeMath {
    /// Number of elements of a shape (1 for a scalar `[]`).
    @inlinable
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides: the last axis has stride 1.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// NumPy/PyTorch broadcasting: shapes are aligned on the right; each pair of sizes must
    /// be equal or one of them 1. Throws naming both shapes otherwise.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da }
            else if da == 1 { out[i] = db }
            else { throw TensorError.shapeMismatch(op: op, "cannot broadcast \(describe(a)) with \(describe(b))") }
        }
        return out
    }

    /// Resolves a possibly negative axis (-1 is the last) against a rank, throwing when out of range.
    public static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else {
            throw TensorError.invalidArgument(op: op, "axis \(axis) is out of range for rank \(rank)")
        }
        return a
    }
}
