import Foundation
import TensorCore

/// The batches of one epoch built ahead of use on background threads, like PyTorch's
/// `DataLoader(num_workers=..., prefetch_factor=...)`: while the training step works on
/// batch k, workers copy (and augment) batches k+1 ... k+depth.
///
/// ```swift
/// let epoch = loader.prefetched(epoch: 3, depth: 2, workers: 1)
/// for batch in epoch { ... }        // the same batches, in the same order, as loader.batches(epoch: 3)
/// epoch.statistics.waitSeconds      // time the loop spent waiting for a batch not yet built
/// ```
///
/// Batches arrive in order and are exactly the batches of `DataLoader.batches(epoch:)`
/// (each batch's augmentation is seeded by its position, not by which worker built it), so
/// prefetching never changes a seeded run. At most `depth` batches are built but not yet
/// taken; workers stop when the sequence is abandoned (its last iterator released).
public struct PrefetchedBatches: Sequence, Sendable {
    let batches: DataLoader.Batches
    let depth: Int
    let workers: Int
    let state: PrefetchState

    init(_ batches: DataLoader.Batches, depth: Int, workers: Int) {
        self.batches = batches
        self.depth = Swift.max(1, depth)
        self.workers = Swift.max(1, workers)
        self.state = PrefetchState(count: batches.count)
    }

    /// What the consumer waited and the workers worked, so far.
    public var statistics: PrefetchStatistics { state.statistics() }

    /// Starts the workers (on the first call) and returns the consumer's iterator.
    public func makeIterator() -> Iterator {
        state.start(batches: batches, depth: depth, workers: workers)
        return Iterator(state: state)
    }

    /// Takes the batches in order, waiting only for one not yet built.
    public struct Iterator: IteratorProtocol {
        let state: PrefetchState
        let guardian: PrefetchGuardian

        init(state: PrefetchState) {
            self.state = state
            self.guardian = PrefetchGuardian(state)
        }

        public mutating func next() -> DataLoader.Batch? { state.take() }
    }
}

/// Time spent on either side of a `PrefetchedBatches` queue.
public struct PrefetchStatistics: Sendable, Equatable {
    /// Batches the consumer has taken.
    public var taken: Int
    /// Batches the workers have finished building (never more than `taken + depth`).
    public var built: Int
    /// Seconds the consumer spent blocked in `next()` waiting for a batch being built.
    public var waitSeconds: Double
    /// Seconds the workers spent building batches, summed over the workers.
    public var buildSeconds: Double
    /// How many of the taken batches were not ready when asked for.
    public var waits: Int
}

/// The queue shared by the consumer and the workers (all access under `condition`).
final class PrefetchState: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private var ready: [Int: DataLoader.Batch] = [:]
    private var nextToBuild = 0
    private var nextToTake = 0
    private var started = false
    private var cancelled = false
    private var stats = PrefetchStatistics(taken: 0, built: 0, waitSeconds: 0, buildSeconds: 0, waits: 0)

    init(count: Int) { self.count = count }

    func statistics() -> PrefetchStatistics {
        condition.lock(); defer { condition.unlock() }
        return stats
    }

    func start(batches: DataLoader.Batches, depth: Int, workers: Int) {
        condition.lock()
        let first = !started
        started = true
        condition.unlock()
        guard first else { return }
        // A worker thread runs outside the caller's task: it builds its batches with the
        // caller's thread count, read here.
        let threads = Parallel.threadCount
        for w in 0..<min(workers, max(count, 1)) {
            let thread = Thread { [self] in Parallel.withThreads(threads) { self.work(batches: batches, depth: depth) } }
            thread.name = "fovea.prefetch.\(w)"
            thread.start()
        }
    }

    /// A worker: claims the next unbuilt position while fewer than `depth` batches wait
    /// ahead of the consumer, builds it outside the lock, and files it by position.
    private func work(batches: DataLoader.Batches, depth: Int) {
        while true {
            condition.lock()
            while !cancelled && nextToBuild < count && nextToBuild >= nextToTake + depth { condition.wait() }
            if cancelled || nextToBuild >= count { condition.unlock(); return }
            let position = nextToBuild
            nextToBuild += 1
            condition.unlock()

            let start = DispatchTime.now().uptimeNanoseconds
            let batch = batches[position]
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

            condition.lock()
            ready[position] = batch
            stats.buildSeconds += seconds
            stats.built += 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next batch in order, or nil after the last; blocks while it is being built.
    func take() -> DataLoader.Batch? {
        condition.lock(); defer { condition.unlock() }
        guard nextToTake < count, !cancelled else { return nil }
        var waited = false
        let start = DispatchTime.now().uptimeNanoseconds
        while ready[nextToTake] == nil { waited = true; condition.wait() }
        if waited {
            stats.waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            stats.waits += 1
        }
        let batch = ready.removeValue(forKey: nextToTake)
        nextToTake += 1
        stats.taken += 1
        condition.broadcast()
        return batch
    }

    /// Stops the workers after the batch each is building; later `take()`s return nil.
    func cancel() {
        condition.lock()
        cancelled = true
        ready.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

/// Cancels the workers when the last copy of an iterator goes away (a loop that breaks
/// or throws), so no thread keeps building batches nobody will take.
final class PrefetchGuardian: @unchecked Sendable {
    let state: PrefetchState
    init(_ state: PrefetchState) { self.state = state }
    deinit { state.cancel() }
}

extension DataLoader {
    /// The batches of epoch `epoch`, built up to `depth` ahead by `workers` background
    /// threads (see `PrefetchedBatches`). Use a fresh value per epoch.
    public func prefetched(epoch: Int, depth: Int = 2, workers: Int = 1) -> PrefetchedBatches {
        PrefetchedBatches(batches(epoch: epoch), depth: depth, workers: workers)
    }
}
