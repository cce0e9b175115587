import Foundation
import TensorCore
import NN
import Datasets
import Metrics
import Training

/// Every picture and table of one evaluated model, written into a folder:
///
/// | file | what |
/// |---|---|
/// | `report.html` | all of the below in one self-contained page |
/// | `evaluation.json` | accuracy, top-k, macro/weighted precision, recall, F1, AUC, per-class figures |
/// | `per_class.csv` | `class,precision,recall,f1,support,auc` |
/// | `curves.svg` | loss, accuracy and learning rate per epoch (when there is a history) |
/// | `confusion_matrix.svg` | heat map with counts |
/// | `roc.svg`, `pr.svg` | one-vs-rest ROC (AUC in the legend) and precision-recall curves |
/// | `misclassified.svg` | the most confidently wrong test images with true and predicted labels |
/// | `filters.png` | the first convolution's filters |
/// | `feature_maps/NN-name.png` | every convolution and pooling output for the sample image |
/// | `saliency.png`, `gradcam.png` | gradient saliency and Grad-CAM over the sample image |
public struct RunArtifacts {
    public var title: String
    public var model: Layer
    /// `[C, H, W]` the model takes.
    public var input: [Int]
    public var predictions: Predictions
    /// The evaluated images `[N, C, H, W]` as the model saw them (same order as `predictions`).
    public var images: Tensor
    public var history: [EpochRecord] = []
    public var settings: [(String, String)] = []
    /// Which image the feature maps and saliency maps are drawn for (default: the first).
    public var sampleIndex = 0

    public init(title: String, model: Layer, input: [Int], predictions: Predictions, images: Tensor) {
        self.title = title; self.model = model; self.input = input; self.predictions = predictions; self.images = images
    }

    /// Writes the files into `directory` (created if needed) and returns their names.
    @discardableResult
    public func write(to directory: URL) throws -> [String] {
        guard images.rank == 4, images.shape[0] == predictions.count, Array(images.shape.dropFirst()) == input else {
            throw DatasetError.invalidArgument("report images \(describe(images.shape)) do not match \(predictions.count) predictions of input \(describe(input))")
        }
        guard (0..<predictions.count).contains(sampleIndex) else {
            throw DatasetError.invalidArgument("sample image \(sampleIndex) outside 0..<\(predictions.count)")
        }
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        func save(_ name: String, _ data: Data) throws {
            try data.write(to: directory.appendingPathComponent(name), options: .atomic)
            written.append(name)
        }
        let p = predictions
        let confusion = try p.confusionMatrix(), scores = ClassificationReport(confusion)
        let roc = try? p.rocCurves()

        var report = HTMLReport(title: title)
        report.settings = settings
        report.history = history
        report.predictions = p
        report.summary = try? ModelSummary(model: model, input: input)

        if !history.isEmpty { try save("curves.svg", Data(CurvePlots.training(history).render().utf8)) }
        try save("confusion_matrix.svg", Data(try ConfusionMatrixPlot(confusion, classNames: p.classNames).svg().render().utf8))
        if let roc {
            try save("roc.svg", Data(RunArtifacts.rocPicture(roc, p).render().utf8))
            try save("pr.svg", Data(try RunArtifacts.prPicture(p).render().utf8))
        }
        let wrong = try MisclassifiedGrid.svg(images: images, predictions: p)
        try save("misclassified.svg", Data(wrong.render().utf8))
        report.add("Misclassified images", svg: wrong)

        var csv = "class,precision,recall,f1,support,auc\n"
        for (i, s) in scores.perClass.enumerated() {
            let name = p.classNames[i].contains(",") ? "\"\(p.classNames[i])\"" : p.classNames[i]
            csv += "\(name),\(g(s.precision)),\(g(s.recall)),\(g(s.f1)),\(s.support),\(roc.map { g($0.curves[i].auc) } ?? "")\n"
        }
        try save("per_class.csv", Data(csv.utf8))
        try save("evaluation.json", try RunArtifacts.json(p, confusion: confusion, scores: scores, roc: roc))

        if let (name, picture) = try FeatureMaps.filters(of: model) {
            try PNG.write(picture, to: directory.appendingPathComponent("filters.png"))
            written.append("filters.png")
            try report.add("First-layer filters", images: [("\(name).weight", picture)],
                           note: "Blue is negative, red positive, white zero, on one scale for all filters.")
        }
        let per = input.reduce(1, *)
        let sample = try Tensor(shape: [1] + input, values: Array(UnsafeBufferPointer(start: images.pointer + sampleIndex * per, count: per)))
        let sampleText = "image #\(sampleIndex) (true \(p.classNames[p.labels[sampleIndex]]), predicted \(p.classNames[p.predicted[sampleIndex]]))"
        let maps = try FeatureMaps.capture(model: model, image: sample).filter { $0.spatial != nil }
        if !maps.isEmpty {
            try fm.createDirectory(at: directory.appendingPathComponent("feature_maps"), withIntermediateDirectories: true)
            var gallery: [(String, Image)] = []
            for (k, map) in maps.enumerated() {
                let picture = try FeatureMaps.grid(map)
                let file = String(format: "feature_maps/%02d-", k + 1) + RunArtifacts.fileName(map.name) + ".png"
                try PNG.write(picture, to: directory.appendingPathComponent(file))
                written.append(file)
                let s = map.spatial!
                gallery.append(("\(map.name) (\(map.type)) \(s.channels)x\(s.height)x\(s.width)", picture))
            }
            try report.add("Feature maps", images: gallery, note: "Every convolution and pooling output for \(sampleText); each layer on its own scale, dark is low.")
        }
        let shown = try MisclassifiedGrid.stretched(sample.values, channels: input[0], height: input[1], width: input[2])
        let enlarge = ImageGrid.scale(for: max(input[1], input[2]), target: 168)
        var saliencyPictures: [(String, Image)] = [("input", try Saliency.enlarge(shown, by: enlarge))]
        let gradient = try Saliency.gradient(model: model, image: sample)
        let gradientPicture = try Saliency.image(gradient, scale: enlarge)
        try PNG.write(gradientPicture, to: directory.appendingPathComponent("saliency.png"))
        written.append("saliency.png")
        saliencyPictures.append(("gradient saliency for class \(p.classNames[gradient.classIndex])", gradientPicture))
        if let cam = try? Saliency.gradCAM(model: model, image: sample) {
            let camPicture = try Saliency.overlay(cam, on: shown, scale: enlarge)
            try PNG.write(camPicture, to: directory.appendingPathComponent("gradcam.png"))
            written.append("gradcam.png")
            saliencyPictures.append(("Grad-CAM at \(cam.layer ?? "?") for class \(p.classNames[cam.classIndex])", camPicture))
        }
        try report.add("Where the model looks", images: saliencyPictures, note: "For \(sampleText).")
        try save("report.html", Data(try report.html().utf8))
        return written
    }

    /// ROC curves of the first ten classes (all of them for up to ten).
    static func rocPicture(_ roc: OneVsRestROC, _ p: Predictions) -> SVGDocument {
        let shown = min(10, p.classCount)
        let title = p.classCount > shown ? "ROC, one-vs-rest (first \(shown) of \(p.classCount) classes)" : "ROC, one-vs-rest"
        return CurvePlots.roc((0..<shown).map { (p.classNames[$0], roc.curves[$0]) }, title: title)
    }

    /// Precision-recall curves of the first ten classes.
    static func prPicture(_ p: Predictions) throws -> SVGDocument {
        let shown = min(10, p.classCount)
        return CurvePlots.precisionRecall(try (0..<shown).map { (p.classNames[$0], try p.precisionRecall(class: $0)) },
                                          title: p.classCount > shown ? "Precision-recall (first \(shown) of \(p.classCount) classes)" : "Precision-recall, one-vs-rest")
    }

    /// `evaluation.json`: the figures, keys sorted.
    static func json(_ p: Predictions, confusion: ConfusionMatrix, scores: ClassificationReport, roc: OneVsRestROC?) throws -> Data {
        var perClass: [[String: Any]] = []
        for (i, s) in scores.perClass.enumerated() {
            var row: [String: Any] = ["class": p.classNames[i], "precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support]
            if let roc { row["auc"] = roc.curves[i].auc }
            perClass.append(row)
        }
        var out: [String: Any] = [
            "images": p.count, "classes": p.classCount, "accuracy": confusion.accuracy,
            "macro": ["precision": scores.macro.precision, "recall": scores.macro.recall, "f1": scores.macro.f1],
            "weighted": ["precision": scores.weighted.precision, "recall": scores.weighted.recall, "f1": scores.weighted.f1],
            "per_class": perClass, "confusion_matrix": confusion.counts,
        ]
        if p.loss.isFinite { out["loss"] = p.loss }
        for k in [2, 5] where k < p.classCount { out["top\(k)_accuracy"] = try p.topKAccuracy(k) }
        if let roc { out["macro_auc"] = roc.macroAUC; out["weighted_auc"] = roc.weightedAUC }
        return try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
    }

    /// A layer name safe as a file name: `layer1.0.conv1 (call 2)` -> `layer1.0.conv1-call-2`.
    public static func fileName(_ name: String) -> String {
        let kept = name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" ? $0 : "-" }
        return String(kept).split(separator: "-").joined(separator: "-")
    }

    private func g(_ x: Double) -> String { String(format: "%.6g", x) }
}
