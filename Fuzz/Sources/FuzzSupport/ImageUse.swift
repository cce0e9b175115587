import Fovea

/// What the project does with a decoded image: its tensor, grey and colour conversions, and
/// fitting it to a model's input by padding and by resizing.
public func useImage(_ image: Image) throws {
    _ = image.toTensor()
    _ = image.grayscale()
    _ = try image.converted(toChannels: 3)
    guard image.width * image.height <= 1 << 20 else { return }
    let grey = image.grayscale().toTensor()
    _ = try ImageFitting.fit(grey, to: [1, 28, 28], mode: .resize)
    _ = try ImageFitting.fit(grey, to: [1, 28, 28], mode: .pad)
}
