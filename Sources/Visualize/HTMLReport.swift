import Foundation
import NN
import Datasets
import Metrics
import Training

/// A self-contained HTML page about one model: settings, model summary, training curves,
/// confusion matrix, ROC and precision-recall curves, the per-class table, first-layer
/// filters, feature maps, saliency and the misclassified images. SVG pictures are inline
/// and PNG pictures are `data:` URIs, so the one file reads offline and can be mailed.
/// There is no script: it renders in any browser, printed or not.
public struct HTMLReport {
    public var title: String
    /// Key-value rows: hyper-parameters and run facts.
    public var settings: [(String, String)] = []
    public var summary: ModelSummary?
    public var history: [EpochRecord] = []
    public var predictions: Predictions?
    /// Free sections appended in order after the standard ones: a heading and HTML body.
    public private(set) var sections: [(heading: String, html: String)] = []

    public init(title: String) { self.title = title }

    /// Adds a section with an inline SVG picture.
    public mutating func add(_ heading: String, svg: SVGDocument, caption: String? = nil) {
        sections.append((heading, "<figure>" + svg.render() + (caption.map { "<figcaption>\(HTMLReport.escape($0))</figcaption>" } ?? "") + "</figure>"))
    }

    /// Adds a section of PNG pictures, each with a caption.
    public mutating func add(_ heading: String, images: [(caption: String, image: Image)], note: String? = nil) throws {
        var html = note.map { "<p>\(HTMLReport.escape($0))</p>" } ?? ""
        html += "<div class=\"gallery\">"
        for (caption, image) in images {
            let data = Data(try PNG.encode(image)).base64EncodedString()
            html += "<figure><img alt=\"\(HTMLReport.escape(caption))\" width=\"\(image.width)\" height=\"\(image.height)\" src=\"data:image/png;base64,\(data)\"><figcaption>\(HTMLReport.escape(caption))</figcaption></figure>"
        }
        sections.append((heading, html + "</div>"))
    }

    /// The page.
    public func html() throws -> String {
        var body = "<h1>\(HTMLReport.escape(title))</h1>\n"
        // Computed once: a 1000-class one-vs-rest ROC is the costly part of the page.
        let confusion = try predictions.map { try $0.confusionMatrix() }
        let roc = Result { try predictions.map { try $0.rocCurves() } }
        if let p = predictions, let m = confusion {
            let r = ClassificationReport(m)
            var facts = [("Images", "\(p.count)"), ("Accuracy", String(format: "%.2f%%", m.accuracy * 100))]
            if p.classCount > 2 { facts.append(("Top-2 accuracy", String(format: "%.2f%%", try p.topKAccuracy(2) * 100))) }
            if p.classCount > 5 { facts.append(("Top-5 accuracy", String(format: "%.2f%%", try p.topKAccuracy(5) * 100))) }
            facts.append(("Macro F1", String(format: "%.4f", r.macro.f1)))
            if case .success(let roc?) = roc { facts.append(("Macro AUC (one-vs-rest)", String(format: "%.4f", roc.macroAUC))) }
            if p.loss.isFinite { facts.append(("Loss", String(format: "%.4f", p.loss))) }
            body += "<div class=\"cards\">" + facts.map { "<div class=\"card\"><div class=\"k\">\(HTMLReport.escape($0.0))</div><div class=\"v\">\(HTMLReport.escape($0.1))</div></div>" }.joined() + "</div>\n"
        }
        if !settings.isEmpty {
            body += section("Settings", table(["Setting", "Value"], settings.map { [$0.0, $0.1] }))
        }
        if !history.isEmpty {
            body += section("Training curves", "<figure>" + CurvePlots.training(history).render() + "</figure>"
                            + table(["Epoch", "Train loss", "Train acc.", "Val. loss", "Val. acc.", "Test loss", "Test acc.", "Learning rate", "Seconds"],
                                    history.map { r in [String(r.epoch), f4(r.trainLoss), f4(r.trainAccuracy), r.validationLoss.map(f4) ?? "", r.validationAccuracy.map(f4) ?? "",
                                                        r.testLoss.map(f4) ?? "", r.testAccuracy.map(f4) ?? "", String(format: "%.3g", r.learningRate), String(format: "%.1f", r.seconds)] }))
        }
        if let p = predictions, let m = confusion {
            let r = ClassificationReport(m)
            body += section("Confusion matrix", "<figure>" + (try ConfusionMatrixPlot(m, classNames: p.classNames).svg()).render()
                            + "<figcaption>Rows are true classes, columns predictions; colour is the share of the row.</figcaption></figure>")
            var rows = r.perClass.enumerated().map { i, s in [p.classNames[i], f4(s.precision), f4(s.recall), f4(s.f1), String(s.support)] }
            rows.append(["macro avg", f4(r.macro.precision), f4(r.macro.recall), f4(r.macro.f1), String(r.macro.support)])
            rows.append(["weighted avg", f4(r.weighted.precision), f4(r.weighted.recall), f4(r.weighted.f1), String(r.weighted.support)])
            body += section("Per-class precision, recall and F1", table(["Class", "Precision", "Recall", "F1", "Support"], rows))
            do {
                let roc = try roc.get()!   // non-nil: there are predictions
                body += section("ROC curves (one-vs-rest)", "<figure>" + RunArtifacts.rocPicture(roc, p).render()
                                + String(format: "<figcaption>Macro AUC %.4f, support-weighted AUC %.4f.</figcaption></figure>", roc.macroAUC, roc.weightedAUC))
                body += section("Precision-recall curves", "<figure>" + (try RunArtifacts.prPicture(p)).render() + "</figure>")
            } catch {
                // A test set without some class has no one-vs-rest curve for it.
                body += section("ROC curves (one-vs-rest)", "<p>Not drawn: \(HTMLReport.escape("\(error)"))</p>")
            }
        }
        if let s = summary {
            let rows = s.rows.map { [$0.name, $0.type, $0.outputShape.map(String.init).joined(separator: "x"), String($0.parameters), String($0.multiplyAccumulates)] }
            body += section("Model summary", "<p>Input \(s.inputShape.map(String.init).joined(separator: "x")); \(s.totalParameters) parameters (\(s.trainableParameters) trainable); \(s.multiplyAccumulates) multiply-accumulates per image.</p>"
                            + table(["Layer", "Type", "Output", "Parameters", "MACs"], rows))
        }
        for s in sections { body += section(s.heading, s.html) }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLReport.escape(title))</title>
        <style>
        body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1240px;color:#222;padding:0 12px}
        h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
        table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
        td:first-child,th:first-child{text-align:left}th{background:#f3f5f8}
        figure{margin:8px 0;display:inline-block;vertical-align:top}figcaption{font-size:12px;color:#555;max-width:640px}
        svg{max-width:100%;height:auto}img{image-rendering:pixelated;border:1px solid #ccc}
        .gallery figure{margin:6px 12px 6px 0}.cards{display:flex;flex-wrap:wrap;gap:12px}
        .card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;background:#fafbfc}.card .k{font-size:12px;color:#666}.card .v{font-size:20px}
        </style></head><body>
        \(body)<p style="color:#888;font-size:12px">Written by Fovea.</p>
        </body></html>

        """
    }

    /// Writes `html()` to `url` atomically.
    public func write(to url: URL) throws {
        try Data(html().utf8).write(to: url, options: .atomic)
    }

    /// `&`, `<`, `>` and quotes escaped.
    public static func escape(_ s: String) -> String { SVGDocument.escape(s) }

    private func section(_ heading: String, _ html: String) -> String {
        "<section><h2>\(HTMLReport.escape(heading))</h2>\n\(html)\n</section>\n"
    }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(HTMLReport.escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(HTMLReport.escape($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n") + "</table>"
    }

    private func f4(_ x: Double) -> String { String(format: "%.4f", x) }
}
