#!/usr/bin/env bash
# Builds Fovea's C kernels and Scripts/kernel_check/gemm_check.c for arm64 with Debian's cross
# compiler and runs the check under qemu-aarch64, so the NEON micro-kernel is tested on an x86
# machine. Needs gcc-aarch64-linux-gnu and qemu-user (optional: exits 77, "skipped", without).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || ! command -v qemu-aarch64 >/dev/null 2>&1; then
  echo "arm64 kernel check skipped: needs aarch64-linux-gnu-gcc and qemu-aarch64 (Debian: gcc-aarch64-linux-gnu qemu-user)"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kernels=Sources/CFoveaKernels
aarch64-linux-gnu-gcc -O2 -Wall -Wextra -Werror -I"$kernels/include" -I"$kernels" \
  "$kernels"/*.c Scripts/kernel_check/gemm_check.c -lm -lpthread -o "$out/gemm_check"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/gemm_check"
