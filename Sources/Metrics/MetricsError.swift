/// An error a caller can cause by handing a metric bad input.
///
/// Every message quotes the offending values, for example
/// `"labels has 5 entries, predictions has 4"` or `"label 12 outside 0..<10 (labels[3])"`.
public enum MetricsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An input array (named by the payload) has no entries.
    case empty(String)
    /// Two inputs that must pair up element by element have different lengths:
    /// `(first name, first count, second name, second count)`.
    case lengthMismatch(String, Int, String, Int)
    /// The number of classes is below 1.
    case invalidClassCount(Int)
    /// A class index in the named array lies outside `0..<classCount`.
    case labelOutOfRange(name: String, index: Int, value: Int, classCount: Int)
    /// A row-major `[N * classCount]` score array whose length is not a multiple of `classCount`.
    case scoresNotMultiple(count: Int, classCount: Int)
    /// A row-major score array with a different number of rows than there are labels.
    case scoresRowMismatch(labels: Int, rows: Int, classCount: Int)
    /// Entry `index` of the named array is NaN.
    case notANumber(name: String, index: Int)
    /// Entry `index` of the named array is infinite where finite values are required.
    case infinite(name: String, index: Int, value: Double)
    /// `k` for top-k accuracy lies outside `1...classCount`.
    case kOutOfRange(k: Int, classCount: Int)
    /// A ROC curve over labels that are all positive (`allPositive`) or all negative.
    case rocNeedsBothClasses(count: Int, allPositive: Bool)
    /// A one-vs-rest ROC where class `classIndex` has `positives` of `total` labels
    /// (0 or all of them), so its binary ROC is undefined.
    case oneVsRestClassMissing(classIndex: Int, positives: Int, total: Int)
    /// A precision-recall curve over `count` labels none of which is positive.
    case noPositives(count: Int)
    /// Row `row` of a confusion-count matrix has `count` entries instead of `expected`.
    case nonSquareCounts(row: Int, count: Int, expected: Int)
    /// A confusion-count matrix entry is negative.
    case negativeCount(row: Int, column: Int, value: Int)

    /// A human-readable message quoting the offending values.
    public var description: String {
        switch self {
        case let .empty(name):
            return "\(name) is empty"
        case let .lengthMismatch(a, na, b, nb):
            return "\(a) has \(na) \(na == 1 ? "entry" : "entries"), \(b) has \(nb)"
        case let .invalidClassCount(n):
            return "class count must be at least 1, got \(n)"
        case let .labelOutOfRange(name, index, value, classCount):
            let singular = name.hasSuffix("s") ? String(name.dropLast()) : name
            return "\(singular) \(value) outside 0..<\(classCount) (\(name)[\(index)])"
        case let .scoresNotMultiple(count, classCount):
            return "scores has \(count) entries, not a multiple of class count \(classCount)"
        case let .scoresRowMismatch(labels, rows, classCount):
            return "labels has \(labels) entries, scores has \(rows) rows of \(classCount) classes"
        case let .notANumber(name, index):
            return "\(name)[\(index)] is NaN"
        case let .infinite(name, index, value):
            return "\(name)[\(index)] is \(value); finite values are required"
        case let .kOutOfRange(k, classCount):
            return "k = \(k) outside 1...\(classCount)"
        case let .rocNeedsBothClasses(count, allPositive):
            return "ROC needs both classes; all \(count) labels are \(allPositive ? "positive" : "negative")"
        case let .oneVsRestClassMissing(classIndex, positives, total):
            let what = positives == 0 ? "no samples" : "all \(total) samples"
            return "one-vs-rest ROC needs positives and negatives for every class; class \(classIndex) has \(what) of the \(total) labels"
        case let .noPositives(count):
            return "precision-recall curve needs at least one positive; all \(count) labels are negative"
        case let .nonSquareCounts(row, count, expected):
            return "counts row \(row) has \(count) entries, expected \(expected) (a square matrix)"
        case let .negativeCount(row, column, value):
            return "counts[\(row)][\(column)] = \(value) is negative"
        }
    }
}
