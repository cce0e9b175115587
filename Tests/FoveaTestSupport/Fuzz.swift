import TensorCore

/// Seeded mutations of a valid file, for tests that readers refuse damaged input cleanly.
public enum Fuzz {
    /// Applies one to four random edits to `bytes`: bit flips, byte overwrites with boundary
    /// values (0, 0xFF, 0x7F, 0x80), truncation, insertion or deletion of a run of bytes, and
    /// duplication of a slice.
    public static func mutate(_ bytes: inout [UInt8], using g: inout SeededGenerator) {
        let edits = 1 + Int(g.next() % 4)
        for _ in 0..<edits {
            guard !bytes.isEmpty else { bytes = [UInt8(truncatingIfNeeded: g.next())]; continue }
            let at = Int(g.next() % UInt64(bytes.count))
            switch g.next() % 7 {
            case 0: bytes[at] ^= UInt8(1) << UInt8(g.next() % 8)
            case 1: bytes[at] = [0, 0xFF, 0x7F, 0x80][Int(g.next() % 4)]
            case 2: bytes.removeSubrange(at...)
            case 3: bytes.insert(contentsOf: (0..<(1 + Int(g.next() % 16))).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: at)
            case 4: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(g.next() % 16)))
            case 5:
                let end = min(bytes.count, at + 1 + Int(g.next() % 64))
                bytes.insert(contentsOf: Array(bytes[at..<end]), at: Int(g.next() % UInt64(bytes.count)))
            default: bytes[at] = UInt8(truncatingIfNeeded: g.next())
            }
        }
    }
}
