import TensorCore

/// Local response normalisation across channels (`nn.LocalResponseNorm`), as AlexNet and
/// ZFNet use after their first convolutions: `b_c = a_c / (k + alpha/size Σ a_{c'}²)^beta`
/// over the `size` channels around `c`. `[N, C, H, W]` -> same shape; no parameters.
/// AlexNet's values: size 5, alpha 1e-4, beta 0.75, k 2.
public final class LocalResponseNorm: Layer, @unchecked Sendable {
    public let size: Int
    public let alpha: Float, beta: Float, k: Float

    public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) throws {
        guard size >= 1 else { throw LayerError.invalidConfiguration("LocalResponseNorm size must be at least 1, got \(size)") }
        guard alpha >= 0, beta >= 0, k > 0 else {
            throw LayerError.invalidConfiguration("LocalResponseNorm needs alpha >= 0, beta >= 0, k > 0; got \(alpha), \(beta), \(k)")
        }
        self.size = size; self.alpha = alpha; self.beta = beta; self.k = k
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try input.localResponseNorm(size: size, alpha: alpha, beta: beta, k: k)
    }

    public override var configuration: String { "size \(size), alpha \(alpha), beta \(beta), k \(k)" }
}
