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

/// Keeps freed tensor buffers for reuse, by exact size (in 64-byte units).
///
/// A training step allocates the same activations, gradients and scratch buffers every
/// time; without a pool each large one is a fresh `mmap` whose pages fault in and are zeroed
/// by the kernel, then unmapped at the end of the step. The pool hands them back instead.
/// It keeps at most `maxBuffersPerSize` buffers of a size and `capacityBytes` in all; when
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
        if size >= Self.minimumBytes {
            let reused = state.withLock { s -> UInt? in
                s.liveBytes += size
                s.peakLiveBytes = Swift.max(s.peakLiveBytes, s.liveBytes)
                guard let p = s.free[size]?.popLast() else { s.allocated += 1; return nil }
                s.heldBytes -= size
                s.reused += 1
                return p
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

    /// Takes back a buffer from `take(floats:)` with the same `floats`.
    public func give(_ pointer: UnsafeMutablePointer<Float>, floats: Int) {
        let size = Self.bytes(floats: floats), raw = UnsafeMutableRawPointer(pointer)
        if size >= Self.minimumBytes {
            let address = UInt(bitPattern: raw)
            // When full, buffers of other sizes make room: the sizes in use now are the ones
            // worth keeping, not those an earlier model left behind.
            let (kept, evicted) = state.withLock { s -> (Bool, [UInt]) in
                s.liveBytes -= size
                guard size <= capacityBytes, s.free[size, default: []].count < maxBuffersPerSize else { return (false, []) }
                var evicted: [UInt] = []
                while s.heldBytes + size > capacityBytes,
                      let other = s.free.first(where: { $0.key != size && !$0.value.isEmpty })?.key {
                    evicted.append(s.free[other]!.removeLast())
                    s.heldBytes -= other
                }
                guard s.heldBytes + size <= capacityBytes else { return (false, evicted) }
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
        let buffers = state.withLock { s -> [UInt] in
            let all = s.free.values.flatMap { $0 } + s.small.flatMap { $0 }
            s.free = [:]
            s.small = [[UInt]](repeating: [], count: s.small.count)
            s.heldBytes = 0
            return all
        }
        for p in buffers { free(UnsafeMutableRawPointer(bitPattern: p)) }
    }

    /// What the pool has done: buffers handed out again, buffers it had to allocate (both
    /// counting only buffers of at least `minimumBytes`), and bytes it holds unused now.
    public var statistics: (reused: Int, allocated: Int, heldBytes: Int) {
        state.withLock { ($0.reused, $0.allocated, $0.heldBytes) }
    }

    /// Bytes of buffers of at least `minimumBytes` in use now, and the most in use at once
    /// since the process started (what a perfect allocator would need; the pool's
    /// `heldBytes` on top is what reuse by exact size costs).
    public var liveBytes: (now: Int, peak: Int) { state.withLock { ($0.liveBytes, $0.peakLiveBytes) } }

    /// Unused buffers under `minimumBytes` held now (not counted in `heldBytes`).
    public var smallBuffersHeld: Int { state.withLock { $0.small.reduce(0) { $0 + $1.count } } }
}
