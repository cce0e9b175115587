import Foundation
import TensorCore

/// How image files on disk become one `LabeledImages`: decoded (PNG or JPEG), converted to
/// one channel count, checked for one size or resized to it, and stacked.
public struct ImageLoadOptions: Sendable {
    /// Channels of the result: 1 (grey; colour becomes luminance) or 3 (RGB; grey is
    /// repeated). Nil takes the first image's (alpha dropped).
    public var channels: Int?
    /// Height and width of the result; images of another size are resized (bilinear). Nil
    /// requires every image to have the first image's size.
    public var size: (height: Int, width: Int)?
    /// Skip unreadable files (and empty class folders) with a warning instead of failing.
    public var skipBad: Bool

    public init(channels: Int? = nil, size: (height: Int, width: Int)? = nil, skipBad: Bool = false) {
        self.channels = channels; self.size = size; self.skipBad = skipBad
    }
}

/// Labelled image files, ready to decode.
struct ImageFileList {
    var files: [(url: URL, label: Int)]
    var classNames: [String]
    /// What was skipped and why (with `skipBad`).
    var warnings: [String] = []

    /// Decodes and stacks the files.
    func load(_ options: ImageLoadOptions) throws -> (data: LabeledImages, warnings: [String]) {
        var warnings = self.warnings
        if let c = options.channels, c != 1 && c != 3 {
            throw DatasetError.invalidArgument("images can be loaded as 1 or 3 channels, got \(c)")
        }
        // Decode on every core (file order kept), then check sizes in order, so errors and
        // warnings name the same file whatever the thread count.
        var decoded = [Result<Image, Error>?](repeating: nil, count: files.count)
        decoded.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            Parallel.forRanges(files.count, minPerChunk: 8) { range in
                for i in range { slots.value[i] = Result { try ImageFile.read(contentsOf: files[i].url) } }
            }
        }
        var images: [Image] = [], labels: [Int] = []
        var shape: (c: Int, h: Int, w: Int)?
        for ((url, label), result) in zip(files, decoded) {
            let image: Image
            do { image = try result!.get() } catch {
                guard options.skipBad else { throw error }
                warnings.append("skipped \(url.path): \(error)")
                continue
            }
            let target = shape ?? (options.channels ?? (image.channels >= 3 ? 3 : 1),
                                   options.size?.height ?? image.height, options.size?.width ?? image.width)
            shape = target
            if options.size == nil && (image.height != target.h || image.width != target.w) {
                let e = DatasetError.imageSize(path: url.path, width: image.width, height: image.height,
                                               expectedWidth: target.w, expectedHeight: target.h)
                guard options.skipBad else {
                    throw DatasetError.invalidArgument("\(e); the images differ in size: pass a size to resize them all")
                }
                warnings.append("skipped \(url.path): \(e)")
                continue
            }
            images.append(image)
            labels.append(label)
        }
        guard let target = shape, !images.isEmpty else {
            throw DatasetError.invalidArgument("no readable images among \(files.count) file(s)")
        }
        // The size may come from the caller: checked without overflow before allocating (issue 29).
        guard target.h > 0, target.w > 0, ShapeMath.checkedCount([images.count, target.c, target.h, target.w]) != nil else {
            throw DatasetError.invalidArgument("cannot stack \(images.count) images of \(target.c)x\(target.h)x\(target.w): "
                + "the sizes must be positive and their product must fit in an Int")
        }
        let per = target.c * target.h * target.w
        let stacked = Tensor(zeros: [images.count, target.c, target.h, target.w])
        for (i, image) in images.enumerated() {
            var pixels = try image.converted(toChannels: target.c).toTensor()
            if image.height != target.h || image.width != target.w {
                pixels = try ImageFitting.fit(pixels, to: [target.c, target.h, target.w], mode: .resize)
            }
            (stacked.pointer + i * per).update(from: pixels.pointer, count: per)
        }
        return (try LabeledImages(images: stacked, labels: labels, classNames: classNames), warnings)
    }

    /// Whether `url` names a PNG or JPEG file by its extension.
    static func isImage(_ url: URL) -> Bool { ["png", "jpg", "jpeg"].contains(url.pathExtension.lowercased()) }
}

/// torchvision's ImageFolder layout: `root/<class>/<image>`, classes sorted by name, images
/// sorted by file name within each class; PNG and JPEG files (grey, RGB or RGBA; 8- or
/// 16-bit PNG). Hidden entries and other files are ignored.
public enum ImageFolder {
    /// Loads every image under `root`.
    ///
    /// - Throws: `DatasetError` naming the folder or file for a missing root, a root without
    ///   class folders, an empty class folder, an unreadable image, or mixed sizes without
    ///   `options.size` (the last three are skipped with a warning under `options.skipBad`).
    public static func load(_ root: URL, options: ImageLoadOptions = ImageLoadOptions()) throws -> (data: LabeledImages, warnings: [String]) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.fileNotFound(path: root.path)
        }
        let entries = try fm.contentsOfDirectory(at: root, includingPropertiesForKeys: [.isDirectoryKey], options: [.skipsHiddenFiles])
        let classes = entries.filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
            .map(\.lastPathComponent).sorted()
        guard !classes.isEmpty else {
            throw DatasetError.unexpectedContents(path: root.path, reason: "no class folders (expected root/<class>/<image>.png)")
        }
        var list = ImageFileList(files: [], classNames: classes)
        for (label, name) in classes.enumerated() {
            let folder = root.appendingPathComponent(name)
            let images = try fm.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
                .filter(ImageFileList.isImage).sorted { $0.lastPathComponent < $1.lastPathComponent }
            if images.isEmpty {
                let message = "class folder \(folder.path) holds no PNG or JPEG images"
                guard options.skipBad else { throw DatasetError.unexpectedContents(path: folder.path, reason: "holds no PNG or JPEG images") }
                list.warnings.append("skipped: " + message)
            }
            list.files += images.map { ($0, label) }
        }
        return try list.load(options)
    }
}

/// A CSV of `file,label` rows beside a folder of images, as in the AOI defect-inspection
/// competition (`ID,Label`). The first row is a header when its label cell is not a number.
/// Labels are class indices (0, 1, ...) or names; class names are the sorted distinct labels
/// (numerically when they are all numbers, so `"10"` comes after `"9"`).
public enum LabeledCSV {
    /// The most classes numeric labels may make (labels 0...99,999), as `ModelZoo.maxClasses`.
    public static let maxClasses = 100_000

    /// Loads the images listed in `csv`, found under `images` (default: the CSV's folder).
    ///
    /// - Throws: `DatasetError` naming the CSV and line for a malformed row, or the file for a
    ///   missing or unreadable image (skipped with a warning under `options.skipBad`).
    public static func load(_ csv: URL, images: URL? = nil, options: ImageLoadOptions = ImageLoadOptions()) throws -> (data: LabeledImages, warnings: [String]) {
        let text = String(decoding: try FileIO.read(csv), as: UTF8.self)
        let folder = images ?? csv.deletingLastPathComponent()
        var rows: [(file: String, label: String, line: Int)] = []
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")) }
            guard cells.count >= 2, !cells[0].isEmpty, !cells[1].isEmpty else {
                throw DatasetError.unexpectedContents(path: csv.path, reason: "line \(n + 1) is '\(line)', expected file,label")
            }
            if rows.isEmpty && n == 0 && Int(cells[1]) == nil && cells[1].lowercased() == "label" { continue }
            rows.append((cells[0], cells[1], n + 1))
        }
        guard !rows.isEmpty else { throw DatasetError.unexpectedContents(path: csv.path, reason: "no file,label rows") }
        let distinct = Array(Set(rows.map(\.label)))
        let numeric = distinct.allSatisfy { Int($0) != nil }
        let classNames: [String]
        if numeric {
            let top = distinct.compactMap { Int($0) }.max()!
            guard distinct.allSatisfy({ Int($0)! >= 0 }) else {
                throw DatasetError.unexpectedContents(path: csv.path, reason: "labels must be 0 or more, got \(distinct.compactMap { Int($0) }.min()!)")
            }
            // Numeric labels make classes 0...top: a huge one must not make billions of names (issue 29).
            guard top < maxClasses else {
                let line = rows.first { Int($0.label) == top }!.line
                throw DatasetError.unexpectedContents(path: csv.path, reason: "line \(line) has label \(top); numeric labels are class indices below \(maxClasses)")
            }
            classNames = (0...top).map(String.init)
        } else {
            classNames = distinct.sorted()
        }
        var list = ImageFileList(files: [], classNames: classNames)
        for row in rows {
            let url = folder.appendingPathComponent(row.file)
            guard FileManager.default.fileExists(atPath: url.path) else {
                let message = "\(csv.path) line \(row.line) names \(url.path), which does not exist"
                guard options.skipBad else { throw DatasetError.unexpectedContents(path: csv.path, reason: "line \(row.line) names \(url.path), which does not exist") }
                list.warnings.append("skipped: " + message)
                continue
            }
            list.files.append((url, numeric ? Int(row.label)! : classNames.firstIndex(of: row.label)!))
        }
        return try list.load(options)
    }
}

extension Image {
    /// The image with 1 channel (luminance, alpha composited onto black) or 3 (RGB: grey
    /// repeated, alpha dropped).
    public func converted(toChannels c: Int) throws -> Image {
        switch (c, channels) {
        case (1, _): return grayscale()
        case (3, 3): return self
        case (3, 4): return try Image(width: width, height: height, channels: 3, pixels: Array(pixels[0..<(3 * width * height)]))
        case (3, _):
            let grey = grayscale().pixels
            return try Image(width: width, height: height, channels: 3, pixels: grey + grey + grey)
        default: throw DatasetError.invalidArgument("images convert to 1 or 3 channels, not \(c)")
        }
    }
}
