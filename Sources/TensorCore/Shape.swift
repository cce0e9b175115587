/// Shape arithmetic shared by the ops: element counts, row-major strides, broadcasting.
public enum ShapeMath {
    /// Number of elements of a shape (1 for a scalar `[]`).
    @inlinable
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The number of elements of `shape`, or nil when a size is negative or the product
    /// overflows `Int`: for shapes read from files or typed by users, before allocating.
    public static func checkedCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            count = product
        }
        // A zero size hides the others from the product; the strides still multiply them.
        if count == 0 {
            var nonZero = 1
            for d in shape where d > 0 {
                let (product, overflow) = nonZero.multipliedReportingOverflow(by: d)
                if overflow { return nil }
                nonZero = product
            }
        }
        return count
    }

    /// `checkedCount(shape)`, at most `limit`; throws `TensorError.invalidArgument` for `op`
    /// quoting the shape and the limit otherwise (issue 29 finding 7).
    public static func elementCount(_ shape: [Int], limit: Int = .max, op: String) throws -> Int {
        guard let count = checkedCount(shape), count <= limit else {
            throw TensorError.invalidArgument(op: op, "shape \(describe(shape)) has negative sizes or more than \(limit) elements")
        }
        return count
    }

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
