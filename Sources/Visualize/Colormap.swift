/// Colour ramps for heat maps, images of signed weights and overlays: a value in [0, 1]
/// (clamped) to an RGB triple in [0, 1], by linear interpolation between evenly spaced stops.
public enum Colormap: String, Sendable, CaseIterable {
    /// White to dark blue: confusion-matrix cells (0 is white, so empty cells vanish).
    case blues
    /// Black through purple, red and orange to pale yellow: activations and saliency.
    case heat
    /// Blue, white, red: signed values with 0.5 as zero (filter weights).
    case diverging
    /// Black to white.
    case grey

    private var stops: [(Double, Double, Double)] {
        switch self {
        case .blues: return [(1, 1, 1), (0.78, 0.86, 0.94), (0.42, 0.68, 0.84), (0.13, 0.44, 0.71), (0.03, 0.19, 0.42)]
        case .heat: return [(0, 0, 0), (0.34, 0.06, 0.43), (0.73, 0.21, 0.33), (0.98, 0.55, 0.04), (0.99, 1, 0.64)]
        case .diverging: return [(0.02, 0.19, 0.38), (0.57, 0.77, 0.87), (1, 1, 1), (0.96, 0.65, 0.51), (0.4, 0, 0.05)]
        case .grey: return [(0, 0, 0), (1, 1, 1)]
        }
    }

    /// The colour at `t` (clamped to [0, 1]; NaN gives the first stop).
    public func rgb(_ t: Double) -> (r: Double, g: Double, b: Double) {
        let s = stops
        let u = t.isNaN ? 0 : Swift.min(1, Swift.max(0, t)) * Double(s.count - 1)
        let i = Swift.min(Int(u), s.count - 2)
        let f = u - Double(i)
        let a = s[i], b = s[i + 1]
        return (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    /// `#rrggbb` for `t`.
    public func hex(_ t: Double) -> String {
        let c = rgb(t)
        func byte(_ v: Double) -> String {
            let b = Int((v * 255).rounded())
            return (b < 16 ? "0" : "") + String(b, radix: 16)
        }
        return "#" + byte(c.r) + byte(c.g) + byte(c.b)
    }

    /// Relative luminance of the colour at `t` (Rec. 709 weights), for choosing black or
    /// white text over it.
    public func luminance(_ t: Double) -> Double {
        let c = rgb(t)
        return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b
    }
}

/// Distinct line colours for chart series (cycled).
public let seriesColors = ["#1f5fa8", "#d1495b", "#2e9e5b", "#e8a33d", "#7b4fa0", "#1aa3a3", "#8c5a3c", "#c2458e", "#5a6b7d", "#9aa832"]
