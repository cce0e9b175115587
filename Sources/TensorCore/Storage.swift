#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import Synchronization

/// A contiguous, 64-byte-aligned block of `Float32` values owned by one or more tensors.
///
/// Storage is a reference: tensors made by `reshaped` share it. Kernels read and write it
/// through `pointer`; nothing here is bounds-checked on the hot path. Blocks of 4 KiB and
/// more come from and go back to `BufferPool.shared`, so a training loop whose steps
/// repeat the same shapes stops asking the system for memory after its first step.
public final class TensorStorage: @unchecked Sendable {
    /// Number of `Float` elements.
    public let count: Int
    /// Start of the elements (64-byte aligned, valid for `count` elements).
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` elements, zero-filled when `zeroed` (the default).
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "negative storage size \(count)")
        self.count = count
        pointer = BufferPool.shared.take(floats: count)
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    deinit { BufferPool.shared.give(pointer, floats: count) }

    /// The elements as a buffer pointer.
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

/// Keeps freed tensor buffers for reuse: by exact size (in 64-byte units) under 1 MiB, and
/// as pages that any size can be made of from 1 MiB up (`PageSpans`).
///
/// A training step allocates the same activations, gradients and scratch buffers every
/// time; without a pool each large one is a fresh `mmap` whose pages fault in and are zeroed
/// by the kernel, then unmapped at the end of the step. The pool hands them back instead.
/// It keeps at most `maxBuffersPerSize` buffers of a size under 1 MiB and `capacityBytes` in all; when
/// full, a returned buffer evicts buffers of other sizes, and one it cannot keep goes back
/// to the system. Buffers under `minimumBytes` are kept too, at most `smallBuffersPerSize`
/// of a size, in a list per 64-byte size class: a small model's single-image inference
/// takes a dozen of them, and `posix_memalign` plus `free` cost more than the list.
/// `drain()` empties it.
public final class BufferPool: Sendable {
    /// The process-wide pool that `TensorStorage` uses. It may hold a quarter of the
    /// machine's memory (at least 1 GiB): a CIFAR ResNet-18 step at batch 128 frees about
    /// 1.3 GB of activations and gradients, which a 1 GiB pool sent back to the system and
    /// the next step faulted in again. What it holds is what the next step takes back, so
    /// a larger pool does not raise the peak.
    public static let shared = BufferPool(capacityBytes: Swift.max(1 << 30, System.physicalMemoryBytes / 4))

    /// Buffers smaller than this many bytes are kept by size class, outside `capacityBytes`.
    public static let minimumBytes = 4096
    /// Most unused buffers kept of any one size under `minimumBytes` (at most 63 sizes of
    /// 64 ... 4032 bytes: 2 MiB in all at worst).
    public static let smallBuffersPerSize = 8
    /// Most bytes the pool holds while they are unused.
    public let capacityBytes: Int
    /// Most unused buffers kept of any one size.
    public let maxBuffersPerSize: Int

    private struct State {
        /// Unused buffers by size, as addresses (raw pointers are not Sendable).
        var free: [Int: [UInt]] = [:]
        /// Unused buffers under `minimumBytes`, by size / 64 - 1.
        var small = [[UInt]](repeating: [], count: BufferPool.minimumBytes / 64)
        var heldBytes = 0
        var reused = 0, allocated = 0
        /// Bytes of pooled-size buffers handed out and not given back, and the most there were.
        var liveBytes = 0, peakLiveBytes = 0
        /// The most bytes of pooled-size buffers there were at once, in use or held unused.
        var peakFootprintBytes = 0
        /// Unused buffers of `PageSpans.minimumBytes` and more, as spans of pages.
        var spans = PageSpans()

        /// Bytes held unused, in buffers by size and in spans.
        var totalHeldBytes: Int { heldBytes + spans.heldBytes }
    }
    private let state = Mutex(State())

    public init(capacityBytes: Int = 1 << 30, maxBuffersPerSize: Int = 64) {
        self.capacityBytes = capacityBytes
        self.maxBuffersPerSize = maxBuffersPerSize
    }

    /// Bytes a buffer of `floats` elements occupies (at least one element, 64-byte multiple).
    static func bytes(floats: Int) -> Int { (Swift.max(floats, 1) * MemoryLayout<Float>.stride + 63) & ~63 }

    /// A 64-byte-aligned buffer for `floats` elements, uninitialised: a pooled one of the
    /// same size when there is one.
    public func take(floats: Int) -> UnsafeMutablePointer<Float> {
        let size = Self.bytes(floats: floats)
        if size >= PageSpans.minimumBytes {
            return takeSpan(PageSpans.rounded(size)).bindMemory(to: Float.self, capacity: Swift.max(floats, 1))
        }
        if size >= Self.minimumBytes {
            let reused = state.withLock { s -> UInt? in
                s.liveBytes += size
                s.peakLiveBytes = Swift.max(s.peakLiveBytes, s.liveBytes)
                if let p = s.free[size]?.popLast() {
                    s.heldBytes -= size
                    s.reused += 1
                    return p
                }
                s.allocated += 1
                s.peakFootprintBytes = Swift.max(s.peakFootprintBytes, s.liveBytes + s.totalHeldBytes)
                return nil
            }
            if let reused, let p = UnsafeMutableRawPointer(bitPattern: reused) {
                return p.bindMemory(to: Float.self, capacity: Swift.max(floats, 1))
            }
        } else if let reused = state.withLock({ $0.small[size / 64 - 1].popLast() }),
                  let p = UnsafeMutableRawPointer(bitPattern: reused) {
            return p.bindMemory(to: Float.self, capacity: Swift.max(floats, 1))
        }
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, size)
        precondition(rc == 0 && raw != nil, "out of memory allocating \(size) bytes")
        return raw!.bindMemory(to: Float.self, capacity: Swift.max(floats, 1))
    }

    /// A buffer of `bytes` (whole pages): a held span of that size, else one
    /// assembled from the pages of held spans and new memory for the rest (see `PageSpans`).
    ///
    /// Only while the tape records or a backward runs: a training step's peak is what the
    /// spans are for, and its buffers are large next to the pages moved. Inference takes spans of its sizes or
    /// new memory, so its buffers settle into spans of their own sizes after the first call
    /// (moving pages on every single-image call made ResNet-18 and VGG-16 3-5% slower).
    private func takeSpan(_ bytes: Int) -> UnsafeMutableRawPointer {
        let assembles = PageSpans.canMovePages && (GradMode.isEnabled || GradMode.isBackward)
        let (exact, pieces) = state.withLock { s -> (UInt?, [(address: UInt, bytes: Int)]) in
            s.liveBytes += bytes
            s.peakLiveBytes = Swift.max(s.peakLiveBytes, s.liveBytes)
            if let address = s.spans.takeExact(bytes) {
                s.reused += 1
                return (address, [])
            }
            let pieces = assembles ? s.spans.takePieces(bytes) : []
            if pieces.reduce(0, { $0 + $1.bytes }) < bytes {
                s.allocated += 1
                s.peakFootprintBytes = Swift.max(s.peakFootprintBytes, s.liveBytes + s.totalHeldBytes)
            } else {
                s.reused += 1
            }
            return (nil, pieces)
        }
        if let exact { return UnsafeMutableRawPointer(bitPattern: exact)! }
        // The first part of one larger span needs no pages moved.
        if pieces.count == 1, pieces[0].bytes == bytes { return UnsafeMutableRawPointer(bitPattern: pieces[0].address)! }
        return PageSpans.assemble(bytes, from: pieces)
    }

    /// Takes back a span-sized buffer: kept while the pool has room, else unmapped (or kept
    /// in place of held spans when the pool is full).
    private func giveSpan(_ raw: UnsafeMutableRawPointer, bytes: Int) {
        let (kept, evicted) = state.withLock { s -> (Bool, [(address: UInt, bytes: Int)]) in
            s.liveBytes -= bytes
            guard bytes <= capacityBytes else { return (false, []) }
            let evicted = s.totalHeldBytes + bytes > capacityBytes ? s.spans.evict(s.totalHeldBytes + bytes - capacityBytes) : []
            guard s.totalHeldBytes + bytes <= capacityBytes else { return (false, evicted) }
            s.spans.give(UInt(bitPattern: raw), bytes: bytes)
            return (true, evicted)
        }
        PageSpans.unmap(evicted)
        if !kept { PageSpans.unmap([(UInt(bitPattern: raw), bytes)]) }
    }

    /// Takes back a buffer from `take(floats:)` with the same `floats`.
    public func give(_ pointer: UnsafeMutablePointer<Float>, floats: Int) {
        let size = Self.bytes(floats: floats), raw = UnsafeMutableRawPointer(pointer)
        if size >= PageSpans.minimumBytes {
            giveSpan(raw, bytes: PageSpans.rounded(size))
            return
        }
        if size >= Self.minimumBytes {
            let address = UInt(bitPattern: raw)
            // When full, buffers of other sizes make room: the sizes in use now are the ones
            // worth keeping, not those an earlier model left behind.
            let (kept, evicted) = state.withLock { s -> (Bool, [UInt]) in
                s.liveBytes -= size
                guard size <= capacityBytes, s.free[size, default: []].count < maxBuffersPerSize else { return (false, []) }
                var evicted: [UInt] = []
                while s.totalHeldBytes + size > capacityBytes,
                      let other = s.free.first(where: { $0.key != size && !$0.value.isEmpty })?.key {
                    evicted.append(s.free[other]!.removeLast())
                    s.heldBytes -= other
                }
                guard s.totalHeldBytes + size <= capacityBytes else { return (false, evicted) }
                s.free[size, default: []].append(address)
                s.heldBytes += size
                return (true, evicted)
            }
            for p in evicted { free(UnsafeMutableRawPointer(bitPattern: p)) }
            if kept { return }
        } else {
            let kept = state.withLock { s -> Bool in
                guard s.small[size / 64 - 1].count < Self.smallBuffersPerSize else { return false }
                s.small[size / 64 - 1].append(UInt(bitPattern: raw))
                return true
            }
            if kept { return }
        }
        free(raw)
    }

    /// Returns every unused buffer to the system.
    public func drain() {
        let (buffers, spans) = state.withLock { s -> ([UInt], [(address: UInt, bytes: Int)]) in
            let all = s.free.values.flatMap { $0 } + s.small.flatMap { $0 }
            s.free = [:]
            s.small = [[UInt]](repeating: [], count: s.small.count)
            s.heldBytes = 0
            return (all, s.spans.removeAll())
        }
        for p in buffers { free(UnsafeMutableRawPointer(bitPattern: p)) }
        PageSpans.unmap(spans)
    }

    /// What the pool has done: buffers handed out again, buffers it had to allocate (both
    /// counting only buffers of at least `minimumBytes`), and bytes it holds unused now.
    public var statistics: (reused: Int, allocated: Int, heldBytes: Int) {
        state.withLock { ($0.reused, $0.allocated, $0.totalHeldBytes) }
    }

    /// Bytes of buffers of at least `minimumBytes` in use now, and the most in use at once
    /// since the process started (what a perfect allocator would need; the pool's
    /// `heldBytes` on top is what reuse by exact size costs).
    public var liveBytes: (now: Int, peak: Int) { state.withLock { ($0.liveBytes, $0.peakLiveBytes) } }

    /// The most bytes of buffers of at least `minimumBytes` there were at once, in use or held
    /// by the pool unused: what the process's memory holds of tensors at its peak.
    public var peakFootprintBytes: Int { state.withLock { $0.peakFootprintBytes } }

    /// Unused buffers under `minimumBytes` held now (not counted in `heldBytes`).
    public var smallBuffersHeld: Int { state.withLock { $0.small.reduce(0) { $0 + $1.count } } }
}
