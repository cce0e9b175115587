#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import CFoveaKernels

/// The buffer pool's store of large unused buffers (1 MiB and more), kept as spans of whole
/// pages whatever size they were: a buffer of another size can still be made of them.
///
/// Exact-size reuse alone cannot serve a training step's sizes in the order it asks for
/// them: a CIFAR ResNet-18 backward needs its first 32 MB gradients while the pool holds
/// the 4-16 MB buffers the later stages gave back, so a pool by size held 1014 MB at the
/// step's peak for 736 MB of tensors in use. Here a request takes a span of its size when
/// there is one; otherwise its buffer is assembled from the pages of held spans, moved into
/// place without copying (`mremap` on Linux), and only what they lack is new memory. The
/// pool then never holds unused pages while it asks the system for new ones, so what it
/// holds adds nothing to the peak, and a step that repeats the last one's sizes still asks
/// the system for nothing.
///
/// Spans are plain page mappings: asking for transparent huge pages made the same step up
/// to 40% slower when the system had to compact memory to find them.
struct PageSpans {
    /// Buffers of this many bytes or more are spans.
    static let minimumBytes = 1 << 20
    /// Spans are whole multiples of the page size, and start on a page.
    static let unit = Swift.max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    /// Whether held pages can be moved into a new buffer (Linux); elsewhere only a span of
    /// the size asked for is reused.
    static let canMovePages: Bool = {
        #if os(Linux)
        true
        #else
        false
        #endif
    }()

    /// Unused spans: start address and length in bytes.
    private(set) var free: [(address: UInt, bytes: Int)] = []
    /// Bytes in `free`.
    private(set) var heldBytes = 0

    /// `bytes` rounded up to whole units.
    static func rounded(_ bytes: Int) -> Int { (bytes + unit - 1) / unit * unit }

    /// A held span of exactly `bytes`, taken out, if there is one.
    mutating func takeExact(_ bytes: Int) -> UInt? {
        guard let i = free.lastIndex(where: { $0.bytes == bytes }) else { return nil }
        heldBytes -= bytes
        return free.remove(at: i).address
    }

    /// Up to `bytes` of held pages, taken out as pieces (largest spans first); a span larger
    /// than what is still needed gives its first part, and the rest stays held.
    mutating func takePieces(_ bytes: Int) -> [(address: UInt, bytes: Int)] {
        free.sort { $0.bytes < $1.bytes }
        var pieces: [(address: UInt, bytes: Int)] = []
        var needed = bytes
        while needed > 0, let last = free.popLast() {
            let used = Swift.min(last.bytes, needed)
            pieces.append((last.address, used))
            if used < last.bytes { free.append((last.address + UInt(used), last.bytes - used)) }
            heldBytes -= used
            needed -= used
        }
        return pieces
    }

    /// Keeps a span.
    mutating func give(_ address: UInt, bytes: Int) {
        free.append((address, bytes))
        heldBytes += bytes
    }

    /// Takes out spans until at least `bytes` are gone (or none is left), for the caller to
    /// unmap.
    mutating func evict(_ bytes: Int) -> [(address: UInt, bytes: Int)] {
        var evicted: [(address: UInt, bytes: Int)] = []
        var freed = 0
        while freed < bytes, let last = free.popLast() {
            evicted.append(last)
            heldBytes -= last.bytes
            freed += last.bytes
        }
        return evicted
    }

    /// Every span, taken out.
    mutating func removeAll() -> [(address: UInt, bytes: Int)] {
        defer { free = []; heldBytes = 0 }
        return free
    }

    /// A new mapping of `bytes` (whole pages).
    static func map(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            preconditionFailure("out of memory mapping \(bytes) bytes")
        }
        return p
    }

    /// Unmaps spans.
    static func unmap(_ spans: [(address: UInt, bytes: Int)]) {
        for s in spans { munmap(UnsafeMutableRawPointer(bitPattern: s.address), s.bytes) }
    }

    /// A new buffer of `bytes` (whole units) whose first pages are `pieces`' pages, moved
    /// into place in order; the rest is new memory. A piece that cannot be moved is unmapped
    /// and its place left as new memory.
    static func assemble(_ bytes: Int, from pieces: [(address: UInt, bytes: Int)]) -> UnsafeMutableRawPointer {
        let buffer = map(bytes)
        var offset = 0
        for piece in pieces {
            let from = UnsafeMutableRawPointer(bitPattern: piece.address)!
            if fovea_move_pages(from, piece.bytes, buffer + offset) != 0 { munmap(from, piece.bytes) }
            offset += piece.bytes
        }
        return buffer
    }
}
