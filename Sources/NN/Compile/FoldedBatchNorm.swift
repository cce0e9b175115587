import Synchronization
import TensorCore

/// Batch norm's running statistics and a convolution's bias folded into the per-channel
/// scale and shift the convolution applies as it writes its output (inference).
///
/// Folded once; folded again only when one of the five vectors it was made from has changed
/// (training in between, a loaded checkpoint, a value written in place). Each call compares
/// the vectors where they are against the copy taken at the last fold, bit for bit: one pass
/// over `5 x channels` floats, with nothing allocated, instead of the fold.
final class FoldedBatchNorm: @unchecked Sendable {
    let norm: BatchNorm
    let convolutionBias: Tensor?
    /// The five vectors' values, one after another, when last folded, and the fold.
    private let state = Mutex<(sources: [Float], folded: ConvEpilogue?)>(([], nil))

    init(_ norm: BatchNorm, convolutionBias: Tensor?) {
        self.norm = norm
        self.convolutionBias = convolutionBias
    }

    /// The epilogue for the current values, with or without the ReLU.
    func epilogue(relu: Bool) -> ConvEpilogue {
        state.withLock { state in
            if state.folded == nil || !sourcesMatch(state.sources) {
                state.folded = ConvEpilogue(convolutionBias: convolutionBias, gamma: norm.weight, beta: norm.bias,
                                            runningMean: norm.runningMean, runningVar: norm.runningVar, eps: norm.eps,
                                            relu: false)
                state.sources = sourceValues()
            }
            var e = state.folded!
            e.relu = relu
            return e
        }
    }

    /// Calls `body` with each vector the fold is made from, in a fixed order (the ones the
    /// layers have).
    private func forEachSource(_ body: (Tensor) -> Void) {
        if let convolutionBias { body(convolutionBias) }
        if let weight = norm.weight { body(weight) }
        if let bias = norm.bias { body(bias) }
        body(norm.runningMean)
        body(norm.runningVar)
    }

    /// The vectors' values, one after another.
    private func sourceValues() -> [Float] {
        var values: [Float] = []
        forEachSource { values.append(contentsOf: UnsafeBufferPointer(start: $0.pointer, count: $0.count)) }
        return values
    }

    /// Whether the vectors hold, bit for bit, the values in `saved` (as `sourceValues()`
    /// laid them out). The differences are OR-ed together rather than returned at the first
    /// one, so that the loop vectorizes.
    private func sourcesMatch(_ saved: [Float]) -> Bool {
        var offset = 0, difference: UInt32 = 0, fits = true
        saved.withUnsafeBufferPointer { saved in
            forEachSource { vector in
                let n = vector.count
                guard fits, n <= saved.count - offset else { fits = false; return }
                let p = vector.pointer
                for i in 0..<n { difference |= saved[offset + i].bitPattern ^ p[i].bitPattern }
                offset += n
            }
        }
        return fits && offset == saved.count && difference == 0
    }
}
