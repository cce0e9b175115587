#!/bin/sh
# Regenerates Sources/ONNX/Generated/onnx_subset.pb.swift from Sources/ONNX/Proto/onnx_subset.proto.
#
# The generated file is committed, so building Fovea needs neither protoc nor the plugin.
# Made with protoc 3.21.12 (Debian's protobuf-compiler) and protoc-gen-swift 1.39.0, built from
# https://github.com/apple/swift-protobuf at tag 1.39.0:
#     swift build -c release --product protoc-gen-swift
# Usage: Scripts/generate_onnx_swift.sh [path/to/protoc-gen-swift]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
plugin=${1:-$(command -v protoc-gen-swift || true)}
if [ -z "$plugin" ] || [ ! -x "$plugin" ]; then
    echo "protoc-gen-swift not found: pass its path or put it on PATH" >&2
    exit 1
fi
protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_opt=Visibility=Public \
    --proto_path="$root/Sources/ONNX/Proto" \
    --swift_out="$root/Sources/ONNX/Generated" \
    "$root/Sources/ONNX/Proto/onnx_subset.proto"
echo "wrote Sources/ONNX/Generated/onnx_subset.pb.swift"
