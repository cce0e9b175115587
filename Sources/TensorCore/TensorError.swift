/// Errors a user of the tensor API can cause: mismatched shapes, bad arguments.
/// Each message quotes the offending values.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    /// The shapes of the operands do not fit the operation.
    case shapeMismatch(op: String, String)
    /// An argument is out of its valid range.
    case invalidArgument(op: String, String)

    public var description: String {
        switch self {
        case .shapeMismatch(let op, let detail): return "\(op): shape mismatch: \(detail)"
        case .invalidArgument(let op, let detail): return "\(op): invalid argument: \(detail)"
        }
    }
}

/// Formats a shape the way PyTorch prints it: `[64, 1, 28, 28]`.
@inlinable
public func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
