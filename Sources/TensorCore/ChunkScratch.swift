/// One scratch buffer per parallel chunk, all taken from the pool before the threads start.
///
/// A chunk that allocated its own scratch inside `Parallel.forEachChunk` would make a
/// step's allocations depend on scheduling: when one thread happens to run two chunks in
/// turn, the first chunk's buffer is back in the pool for the second, so the pool ends up
/// holding one buffer where the next, concurrent step needs two, and that step allocates.
/// Taking every chunk's buffer up front makes the count the same on every step.
struct ChunkScratch {
    /// Elements per chunk, rounded up to 16 floats (64 bytes) so each chunk's buffer stays aligned.
    let stride: Int
    private let storage: TensorStorage?

    /// Scratch of `count` elements for each of `chunks` chunks; none when `count` is 0 or
    /// `needed` is false.
    init(chunks: Int, count: Int, needed: Bool = true) {
        stride = (Swift.max(count, 0) + 15) & ~15
        storage = needed && count > 0 && chunks > 0 ? TensorStorage(count: stride * chunks, zeroed: false) : nil
    }

    /// Chunk `chunk`'s buffer, or nil when none was asked for.
    func buffer(_ chunk: Int) -> UnsafeMutablePointer<Float>? { storage.map { $0.pointer + chunk * stride } }
}
