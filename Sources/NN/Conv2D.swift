import TensorCore

/// 2-D convolution layer (PyTorch's `nn.Conv2d`).
///
/// Input `[N, inChannels, H, W]` -> output `[N, outChannels, OH, OW]` with
/// `OH = floor((H + pt + pb - (D*(F-1)+1)) / S) + 1` (see `Padding`).
/// Parameters: `weight [outChannels, inChannels/groups, kh, kw]`, `bias [outChannels]`.
public final class Conv2D: Layer, @unchecked Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: Padding
    public let dilation: Size2D
    public let groups: Int
    /// `[outChannels, inChannels/groups, kh, kw]`.
    public let weight: Tensor
    /// `[outChannels]`, or nil without bias.
    public let bias: Tensor?

    /// Validates the configuration (quoting bad values) and initialises the weight with
    /// `weightInit` (Kaiming uniform by default) and the bias with `biasInit` (zeros).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                padding: Padding = .valid, dilation: Size2D = 1, groups: Int = 1, bias: Bool = true,
                weightInit: Initializer = .kaimingUniform, biasInit: Initializer = .zeros) throws {
        guard inChannels > 0, outChannels > 0 else {
            throw LayerError.invalidConfiguration("Conv2D channels must be positive, got \(inChannels) -> \(outChannels)")
        }
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw LayerError.invalidConfiguration("Conv2D groups \(groups) must divide in (\(inChannels)) and out (\(outChannels)) channels")
        }
        guard kernelSize.h > 0, kernelSize.w > 0, stride.h > 0, stride.w > 0, dilation.h > 0, dilation.w > 0 else {
            throw LayerError.invalidConfiguration("Conv2D kernel \(kernelSize), stride \(stride), dilation \(dilation) must be positive")
        }
        if case .explicit(let t, let b, let l, let r) = padding, min(t, b, l, r) < 0 {
            throw LayerError.invalidConfiguration("Conv2D padding must not be negative, got \(padding)")
        }
        try LayerLimits.check([outChannels, inChannels / groups, kernelSize.h, kernelSize.w], of: "Conv2D")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        self.dilation = dilation; self.groups = groups
        weight = weightInit.makeParameter([outChannels, inChannels / groups, kernelSize.h, kernelSize.w])
        self.bias = bias ? biasInit.makeParameter([outChannels]) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try Tensor.conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding,
                          dilation: dilation, groups: groups)
    }

    public override func multiplyAccumulates(inputShape: [Int], outputShape: [Int]) -> Int {
        outputShape.reduce(1, *) * (inChannels / groups) * kernelSize.h * kernelSize.w
    }

    public override var configuration: String {
        var s = "\(inChannels) -> \(outChannels), kernel \(kernelSize)"
        if stride != 1 { s += ", stride \(stride)" }
        if padding != .valid && padding != .uniform(0) { s += ", padding \(padding)" }
        if dilation != 1 { s += ", dilation \(dilation)" }
        if groups != 1 { s += ", groups \(groups)" }
        return s
    }
}
