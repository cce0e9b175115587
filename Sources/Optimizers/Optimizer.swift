import TensorCore

/// Updates parameters in place from their `grad` after `backward()`.
public protocol Optimizer: AnyObject {
    /// The tensors this optimizer updates.
    var parameters: [Tensor] { get }
    /// The current learning rate (schedules change it between steps).
    var learningRate: Float { get set }
    /// Applies one update to every parameter that has a gradient.
    func step()
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// A bad optimizer setting; the message quotes it.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let m): return "invalid optimizer setting: \(m)" }
    }
}
