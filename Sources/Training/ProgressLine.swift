import Foundation

/// Keras-style progress for one epoch:
/// `938/938 [==============================] - 4s 4ms/step - loss: 0.2134 - accuracy: 0.9352`.
/// On a terminal the line redraws in place as steps finish; otherwise only the final line
/// of each epoch is written, so logs stay readable.
public struct ProgressLine: Sendable {
    /// Steps in the epoch.
    public let total: Int
    /// Whether to redraw the line during the epoch (true when stdout is a terminal).
    public let live: Bool
    private var lastDraw: Double = -1

    public init(total: Int, live: Bool = isatty(STDOUT_FILENO) != 0) {
        self.total = total
        self.live = live
    }

    /// The text of the line after `step` steps, `elapsed` seconds, with named figures.
    public static func render(step: Int, total: Int, elapsed: Double, figures: [(String, Double)]) -> String {
        let width = 30
        let done = total > 0 ? width * step / total : width
        let bar = step >= total ? String(repeating: "=", count: width)
            : String(repeating: "=", count: max(done - 1, 0)) + ">" + String(repeating: ".", count: width - max(done, 1))
        let digits = String(total).count
        let counter = String(repeating: " ", count: max(0, digits - String(step).count)) + "\(step)/\(total)"
        let perStep = step > 0 ? elapsed / Double(step) : 0
        let stepText = perStep >= 1 ? String(format: "%.0fs/step", perStep) : String(format: "%.0fms/step", perStep * 1000)
        var s = "\(counter) [\(bar)] - \(String(format: "%.0fs", elapsed)) \(stepText)"
        for (name, value) in figures { s += " - \(name): " + String(format: "%.4f", value) }
        return s
    }

    /// Redraws the line (at most ten times a second) when live.
    public mutating func update(step: Int, elapsed: Double, figures: [(String, Double)]) {
        guard live, elapsed - lastDraw >= 0.1 || step == total else { return }
        lastDraw = elapsed
        Console.write("\r" + ProgressLine.render(step: step, total: total, elapsed: elapsed, figures: figures), newline: false)
    }

    /// Writes the final line of the epoch.
    public func finish(elapsed: Double, figures: [(String, Double)]) {
        Console.write((live ? "\r" : "") + ProgressLine.render(step: total, total: total, elapsed: elapsed, figures: figures))
    }
}

/// The single writer for standard output (Swift 6 forbids touching `stdout` directly).
public enum Console {
    /// Writes `text` (and a newline unless told otherwise) and flushes.
    public static func write(_ text: String, newline: Bool = true) {
        FileHandle.standardOutput.write((text + (newline ? "\n" : "")).data(using: .utf8)!)
    }

    /// Writes `text` and a newline to standard error.
    public static func error(_ text: String) {
        FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
    }
}
