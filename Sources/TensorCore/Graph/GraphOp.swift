/// The tensor operations a captured graph records when a model's `forward` calls them as
/// functions (`x.relu()`, `a + b`, `Tensor.concatenate`), with the attributes needed to run
/// them again (`apply`), to fuse them and to export them. Layers the engine knows as a whole
/// (convolution, batch norm, dropout...) are recorded as modules instead, not op by op.
public enum GraphOp: Sendable, Equatable {
    /// Broadcasting arithmetic: inputs `a`, `b`.
    public enum Arithmetic: String, Sendable { case add, sub, mul, div }
    /// Elementwise functions of one input with no attribute.
    public enum Function: String, Sendable, CaseIterable {
        case relu, tanh, sigmoid, exp, log, sqrt, square, abs, selu
    }

    case arithmetic(Arithmetic)
    /// `scale * x + shift` (a tensor and a scalar: `x * 2`, `x + 1`, `-x`).
    case affine(scale: Float, shift: Float)
    case function(Function)
    case power(Float)
    case hardTanh(low: Float, high: Float)
    case leakyReLU(slope: Float)
    case elu(alpha: Float)
    case gelu(Tensor.GELUApproximation)
    /// Inputs `x`, `slope`.
    case prelu
    case softmax(axis: Int)
    case logSoftmax(axis: Int)
    /// The shape recorded at capture (a new input shape captures again).
    case reshape([Int])
    case flatten(from: Int)
    case permute([Int])
    case slice(axis: Int, range: Range<Int>)
    /// Inputs: the pieces, in order.
    case concatenate(axis: Int)
    case channelShuffle(groups: Int)
    case pool2d(kind: PoolKind, kernel: Size2D, stride: Size2D, padding: Padding, ceilMode: Bool, countIncludePad: Bool)
    case globalMaxPool
    case adaptiveAvgPool(Size2D)
    /// Inputs `x`, `weight`, then `bias` when `bias`.
    case linear(bias: Bool)
    case matmul
    /// Inputs `x`, `weight`, then `bias` when `bias`.
    case conv2d(stride: Size2D, padding: Padding, dilation: Size2D, groups: Int, bias: Bool)
    /// Inputs `x`, then `weight`, `bias` (when `affine`), `runningMean`, `runningVar`.
    case batchNorm(training: Bool, momentum: Float, eps: Float, affine: Bool)
    case localResponseNorm(size: Int, alpha: Float, beta: Float, k: Float)

    /// A short name for plans, errors and summaries ("add", "relu", "conv2d").
    public var name: String {
        switch self {
        case .arithmetic(let a): return a.rawValue
        case .affine: return "affine"
        case .function(let f): return f.rawValue
        case .power: return "pow"
        case .hardTanh: return "hardTanh"
        case .leakyReLU: return "leakyReLU"
        case .elu: return "elu"
        case .gelu: return "gelu"
        case .prelu: return "prelu"
        case .softmax: return "softmax"
        case .logSoftmax: return "logSoftmax"
        case .reshape: return "reshape"
        case .flatten: return "flatten"
        case .permute: return "permute"
        case .slice: return "slice"
        case .concatenate: return "concatenate"
        case .channelShuffle: return "channelShuffle"
        case .pool2d(let kind, _, _, _, _, _): return kind.opName
        case .globalMaxPool: return "globalMaxPool2d"
        case .adaptiveAvgPool: return "adaptiveAvgPool2d"
        case .linear: return "linear"
        case .matmul: return "matmul"
        case .conv2d: return "conv2d"
        case .batchNorm: return "batchNorm"
        case .localResponseNorm: return "localResponseNorm"
        }
    }

    /// Runs the op on `inputs` (in the order documented on each case), as the eager call did.
    public func apply(_ inputs: [Tensor]) throws -> Tensor {
        let x = inputs[0]
        func input(_ i: Int) -> Tensor? { i < inputs.count ? inputs[i] : nil }
        switch self {
        case .arithmetic(let a):
            switch a {
            case .add: return try x + inputs[1]
            case .sub: return try x - inputs[1]
            case .mul: return try x * inputs[1]
            case .div: return try x / inputs[1]
            }
        case .affine(let scale, let shift): return x.affine(scale: scale, shift: shift)
        case .function(let f):
            switch f {
            case .relu: return x.relu()
            case .tanh: return x.tanh()
            case .sigmoid: return x.sigmoid()
            case .exp: return x.exp()
            case .log: return x.log()
            case .sqrt: return x.sqrt()
            case .square: return x.squared()
            case .abs: return x.abs()
            case .selu: return x.selu()
            }
        case .power(let p): return x.pow(p)
        case .hardTanh(let low, let high): return x.hardTanh(low: low, high: high)
        case .leakyReLU(let slope): return x.leakyRelu(slope: slope)
        case .elu(let alpha): return x.elu(alpha: alpha)
        case .gelu(let approximation): return x.gelu(approximate: approximation)
        case .prelu: return try x.prelu(slope: inputs[1])
        case .softmax(let axis): return try x.softmax(axis: axis)
        case .logSoftmax(let axis): return try x.logSoftmax(axis: axis)
        case .reshape(let shape): return try x.reshaped(shape)
        case .flatten(let from): return try x.flattened(from: from)
        case .permute(let order): return try x.permuted(order)
        case .slice(let axis, let range): return try x.slice(axis: axis, range)
        case .concatenate(let axis): return try Tensor.concatenate(inputs, axis: axis)
        case .channelShuffle(let groups): return try x.channelShuffled(groups: groups)
        case .pool2d(let kind, let kernel, let stride, let padding, let ceilMode, let countIncludePad):
            return try Tensor.pool2d(x, kind: kind, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode,
                                     countIncludePad: countIncludePad)
        case .globalMaxPool: return try x.globalMaxPool2d()
        case .adaptiveAvgPool(let size): return try x.adaptiveAvgPool2d(size)
        case .linear: return try Tensor.linear(x, weight: inputs[1], bias: input(2))
        case .matmul: return try x.matmul(inputs[1])
        case .conv2d(let stride, let padding, let dilation, let groups, let bias):
            return try Tensor.conv2d(x, weight: inputs[1], bias: bias ? inputs[2] : nil, stride: stride, padding: padding,
                                     dilation: dilation, groups: groups)
        case .batchNorm(let training, let momentum, let eps, let affine):
            let o = affine ? 2 : 0
            return try Tensor.batchNorm(x, weight: affine ? inputs[1] : nil, bias: affine ? inputs[2] : nil,
                                        runningMean: input(1 + o), runningVar: input(2 + o), training: training,
                                        momentum: momentum, eps: eps)
        case .localResponseNorm(let size, let alpha, let beta, let k):
            return try x.localResponseNorm(size: size, alpha: alpha, beta: beta, k: k)
        }
    }
}
