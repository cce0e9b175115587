import Synchronization
import TensorCore

/// A convolution's weights and settings, taken from a recorded `conv2d` node whose weight
/// (and bias) are parameters of the model, with its algorithm chosen once for the captured
/// geometry (`ConvolutionPlan`); the op's backward uses the same plan. A class, so that a
/// step's kernel hands it over by reference instead of copying the plan on every run.
final class ConvolutionCall {
    let weight: Tensor
    let bias: Tensor?
    let stride: Size2D
    let padding: Padding
    let dilation: Size2D
    let groups: Int
    let plan: ConvolutionPlan?

    /// The call a `conv2d` node on inputs of `inputShape` makes, or nil when its weight or
    /// bias is computed in the graph.
    init?(_ op: GraphOp, _ operands: [GraphRecorder.Operand], inputShape: [Int]) {
        guard case .conv2d(let stride, let padding, let dilation, let groups, let hasBias) = op,
              operands.count == (hasBias ? 3 : 2), case .constant(let weight) = operands[1] else { return nil }
        var bias: Tensor?
        if hasBias {
            guard case .constant(let b) = operands[2] else { return nil }
            bias = b
        }
        (self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups) = (weight, bias, stride, padding, dilation, groups)
        plan = try? Tensor.convolutionPlan(input: inputShape, weight: weight.shape, stride: stride, padding: padding,
                                           dilation: dilation, groups: groups)
    }

    /// Whether a max pool node is the 2x2, stride-2, unpadded, floor-mode pool that
    /// `Tensor.conv2dReLUMaxPool2x2` applies.
    static func isFusablePool(_ op: GraphOp) -> Bool {
        guard case .pool2d(.max, let kernel, let stride, let padding, let ceilMode, _) = op else { return false }
        return kernel == Size2D(2, 2) && stride == Size2D(2, 2) && (padding == .valid || padding == .uniform(0)) && !ceilMode
    }
}

/// One step of an execution plan: a recorded node run as it was, or a group of nodes run
/// as one fused kernel. A class, so that the plan's loop takes each step by reference
/// instead of copying (and retaining) its kernel, operands and releases on every run.
final class PlanStep {
    enum Kernel {
        /// A recorded node, run as recorded.
        case node(GraphRecorder.Operation)
        /// `conv(x)` on its plan; operand: x.
        case convolution(ConvolutionCall)
        /// `relu(conv(x))` (`Tensor.conv2dReLU`); operand: x.
        case convolutionReLU(ConvolutionCall)
        /// `maxPool2x2(relu(conv(x)))` (`Tensor.conv2dReLUMaxPool2x2`); operand: x.
        case convolutionReLUMaxPool(ConvolutionCall)
        /// `[relu](bn(conv(x)) [+ residual])` with batch norm folded (`Tensor.conv2dInference`);
        /// operands: x[, residual].
        case convolutionInference(ConvolutionCall, FoldedBatchNorm, relu: Bool)
        /// `relu(linear(x))` (`Tensor.linearReLU`); operand: x.
        case linearReLU(weight: Tensor, bias: Tensor?)
        /// `relu(a + b)` (`Tensor.reluOfSum`); operands: a, b.
        case reluOfSum
        /// `prelu(bn(x))` (`Tensor.batchNormPReLU`); operand: x.
        case batchNormPReLU(BatchNorm, slope: Tensor)
    }

    let kernel: Kernel
    let operands: [GraphRecorder.Operand]
    /// The value this step produces.
    let output: Int
    /// The graph nodes it stands for.
    let nodes: [Int]
    /// Values no later step reads, dropped after this one (their memory goes back to the pool).
    /// Set while the plan is made, only read after: unchecked, so that the run's reads make
    /// no runtime exclusivity check.
    @exclusivity(unchecked) var releases: [Int] = []

    init(kernel: Kernel, operands: [GraphRecorder.Operand], output: Int, nodes: [Int]) {
        self.kernel = kernel
        self.operands = operands
        self.output = output
        self.nodes = nodes
    }

    /// The kernel's name, for descriptions and tests.
    var name: String {
        switch kernel {
        case .node(.op(let op)): return op.name
        case .node(.module(let m)): return (m as? Layer)?.typeName ?? "module"
        case .convolution: return "conv2d"
        case .convolutionReLU: return "conv2dReLU"
        case .convolutionReLUMaxPool: return "conv2dReLUMaxPool2x2"
        case .convolutionInference(_, _, let relu): return relu ? "conv2dBatchNormReLU" : "conv2dBatchNorm"
        case .linearReLU: return "linearReLU"
        case .reluOfSum: return "reluOfSum"
        case .batchNormPReLU: return "batchNormPReLU"
        }
    }

    /// Runs the step; `operand(i)` is the tensor of its operand `i`. The fused kernels read
    /// their one or two operands directly; only a recorded node gathers them into an array.
    func run(_ operand: (Int) -> Tensor) throws -> Tensor {
        switch kernel {
        case .node(.op(let op)):
            var args: [Tensor] = []
            args.reserveCapacity(operands.count)
            for i in 0..<operands.count { args.append(operand(i)) }
            return try op.apply(args)
        case .node(.module(let module)):
            return try (module as! Layer).forward(operand(0))
        case .convolution(let c):
            return try Tensor.conv2d(operand(0), weight: c.weight, bias: c.bias, stride: c.stride, padding: c.padding,
                                     dilation: c.dilation, groups: c.groups, plan: c.plan)
        case .convolutionReLU(let c):
            return try Tensor.conv2dReLU(operand(0), weight: c.weight, bias: c.bias, stride: c.stride, padding: c.padding,
                                         dilation: c.dilation, groups: c.groups, plan: c.plan)
        case .convolutionReLUMaxPool(let c):
            return try Tensor.conv2dReLUMaxPool2x2(operand(0), weight: c.weight, bias: c.bias, stride: c.stride,
                                                   padding: c.padding, dilation: c.dilation, groups: c.groups, plan: c.plan)
        case .convolutionInference(let c, let folded, let relu):
            return try Tensor.conv2dInference(operand(0), weight: c.weight, epilogue: folded.epilogue(relu: relu),
                                              residual: operands.count > 1 ? operand(1) : nil, stride: c.stride,
                                              padding: c.padding, dilation: c.dilation, groups: c.groups, plan: c.plan)
        case .linearReLU(let weight, let bias):
            return try Tensor.linearReLU(operand(0), weight: weight, bias: bias)
        case .reluOfSum:
            return try Tensor.reluOfSum(operand(0), operand(1))
        case .batchNormPReLU(let bn, let slope):
            return try bn.forwardThroughPReLU(operand(0), slope: slope)
        }
    }
}
