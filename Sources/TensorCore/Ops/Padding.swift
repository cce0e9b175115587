/// A pair of sizes for the two spatial axes (height, width): kernel sizes, strides,
/// dilations. An integer literal means the same value on both axes.
public struct Size2D: Equatable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(integerLiteral value: Int) { self.init(value, value) }
    public var description: String { h == w ? "\(h)" : "(\(h), \(w))" }
}

/// Zero padding around the spatial axes of a convolution or pooling input.
///
/// - `valid`: none; output `floor((W - F) / S) + 1`.
/// - `same`: enough that output = `ceil(W / S)` (with stride 1, output = input); the odd pixel
///   goes to the bottom/right, as in TensorFlow and PyTorch.
/// - `full`: `F - 1` on every side (every partial overlap counts); output `W + F - 1` at stride 1.
/// - `explicit`: given per side.
/// With dilation `D`, `F` above is the effective size `D * (F - 1) + 1`.
public enum Padding: Equatable, Hashable, Sendable, CustomStringConvertible {
    case valid
    case same
    case full
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// `p` on every side (PyTorch's `padding=p`).
    public static func uniform(_ p: Int) -> Padding { .explicit(top: p, bottom: p, left: p, right: p) }
    /// `h` above and below, `w` left and right (PyTorch's `padding=(h, w)`).
    public static func symmetric(_ h: Int, _ w: Int) -> Padding { .explicit(top: h, bottom: h, left: w, right: w) }

    /// Pads before and after along one axis of size `input` for an effective kernel `kernel`
    /// and stride `stride`.
    public func amounts(input: Int, kernel: Int, stride: Int, axis: Int) -> (before: Int, after: Int) {
        switch self {
        case .valid: return (0, 0)
        case .full: return (kernel - 1, kernel - 1)
        case .same:
            let out = (input + stride - 1) / stride
            let total = Swift.max((out - 1) * stride + kernel - input, 0)
            return (total / 2, total - total / 2)
        case .explicit(let t, let b, let l, let r): return axis == 0 ? (t, b) : (l, r)
        }
    }

    public var description: String {
        switch self {
        case .valid: return "valid"
        case .same: return "same"
        case .full: return "full"
        case .explicit(let t, let b, let l, let r):
            return t == b && l == r ? (t == l ? "\(t)" : "(\(t), \(l))") : "(top \(t), bottom \(b), left \(l), right \(r))"
        }
    }
}

/// The output-size formula of convolutions and pools along one axis:
/// `floor((W + P_before + P_after - (D * (F - 1) + 1)) / S) + 1`, or with `ceilMode` the ceiling,
/// where a last window must start inside the input or its left padding (PyTorch's rule).
public func convolutionOutputSize(input: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int,
                                  dilation: Int = 1, ceilMode: Bool = false) -> Int {
    let effective = dilation * (kernel - 1) + 1
    let span = input + padBefore + padAfter - effective
    if !ceilMode { return span < 0 ? 0 : span / stride + 1 }
    // Ceil mode rounds up, as PyTorch does (dividing with rounding toward -inf), so one window
    // may hang past an input smaller than itself (3x3 stride-2 pooling of 2x2 gives 1x1).
    let numerator = span + stride - 1
    var out = (numerator >= 0 ? numerator / stride : -((-numerator + stride - 1) / stride)) + 1
    if (out - 1) * stride >= input + padBefore { out -= 1 }
    return max(out, 0)
}
