// The umbrella module: `import Fovea` brings in every layer of the framework.
@_exported import TensorCore
@_exported import NN
@_exported import Optimizers
@_exported import Models
@_exported import Datasets
@_exported import Training
@_exported import Interop
@_exported import Metrics
@_exported import Visualize
@_exported import Serving
@_exported import DatasetDownload
@_exported import ONNX
