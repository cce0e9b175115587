/// Errors from reading, checking, running or writing ONNX models. Every message names the
/// file, node, tensor or value at fault and quotes the offending values.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    /// The bytes are not a valid ONNX protobuf (truncated, corrupt, not ONNX at all).
    case malformedFile(path: String, reason: String)
    /// The file is readable but its content breaks a rule of the format or a Fovea limit.
    case invalidModel(String)
    /// The model needs an operator set Fovea does not implement.
    case unsupportedOpset(domain: String, version: Int64)
    /// A node uses an operator Fovea cannot run.
    case unsupportedOperator(opType: String, node: String, domain: String)
    /// A node's attribute or constant input is missing, of the wrong type, or out of range.
    case invalidAttribute(node: String, opType: String, String)
    /// A tensor in the file cannot be turned into a Fovea tensor.
    case invalidTensor(name: String, String)
    /// A layer of the model has no ONNX form.
    case unsupportedLayer(type: String, name: String, String)
    /// Running the graph failed at a node (wrong input shape, an intermediate too large, ...).
    case executionFailed(node: String, opType: String, String)

    public var description: String {
        switch self {
        case .malformedFile(let path, let reason): return "\(path) is not a readable ONNX model: \(reason)"
        case .invalidModel(let m): return "invalid ONNX model: \(m)"
        case .unsupportedOpset(let domain, let version):
            return "unsupported ONNX operator set \(domain.isEmpty ? "ai.onnx" : domain) version \(version) (Fovea reads ai.onnx versions \(ONNXImporter.supportedOpsets.lowerBound)-\(ONNXImporter.supportedOpsets.upperBound))"
        case .unsupportedOperator(let op, let node, let domain):
            return "unsupported ONNX operator \(domain.isEmpty ? "" : domain + ".")\(op) in node '\(node)'; Fovea supports \(ONNXOperatorFactory.supportedOperators.joined(separator: ", "))"
        case .invalidAttribute(let node, let op, let m): return "\(op) node '\(node)': \(m)"
        case .invalidTensor(let name, let m): return "tensor '\(name)': \(m)"
        case .unsupportedLayer(let type, let name, let m):
            return "cannot export layer '\(name.isEmpty ? "(model)" : name)' of type \(type) to ONNX: \(m)"
        case .executionFailed(let node, let op, let m): return "\(op) node '\(node)' failed: \(m)"
        }
    }
}
