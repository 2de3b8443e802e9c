#!/usr/bin/env bash
# A CUDA toolkit for building the `cuda` feature, assembled from NVIDIA's wheels on PyPI (the
# compiler, runtime, cuBLAS and CCCL headers that pip installs for PyTorch) where NVIDIA's
# installers or apt repository are out of reach. The GPU driver is not part of a toolkit: a link
# stub of libcuda (every driver function cuda.h declares) lets the build link, and at run time
# the installed driver's libcuda.so.1 is loaded, as with the stubs NVIDIA's toolkit ships.
#
#   scripts/cuda-toolkit.sh PREFIX [VERSION]      (VERSION: 13.0 by default; CUDA 13 or later)
#
# Then build for a chosen GPU generation (90: H100/H200; 89: L4/RTX 40; 80: A100; 86: RTX 30):
#   CUDA_PATH=PREFIX CMAKE_CUDA_ARCHITECTURES=90 cargo build --release -p stenograph-cli --features cuda
# and run with PREFIX/lib on LD_LIBRARY_PATH (libcudart, libcublas) and the driver installed.
set -euo pipefail

prefix=${1:?usage: scripts/cuda-toolkit.sh PREFIX [VERSION]}
version=${2:-13.0}
major=${version%%.*}
if [ "$major" -lt 13 ]; then
  echo "cuda-toolkit: CUDA $version: only 13 and later are published as these wheels" >&2
  exit 2
fi
arch=$(uname -m)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

platforms=()
for tag in manylinux2014 manylinux_2_17 manylinux2010 manylinux_2_12 manylinux_2_27 manylinux_2_28; do
  platforms+=(--platform "${tag}_$arch")
done
packages=(nvidia-cuda-nvcc nvidia-cuda-crt nvidia-nvvm nvidia-cuda-runtime nvidia-cublas nvidia-cuda-cccl)
python3 -m pip download --quiet --no-deps --only-binary=:all: "${platforms[@]}" \
  --dest "$work/wheels" "${packages[@]/%/==$version.*}"
for wheel in "$work"/wheels/*.whl; do
  python3 -m zipfile -e "$wheel" "$work/tree"
done

mkdir -p "$prefix"
cp -a "$work/tree/nvidia/cu$major/." "$prefix/"
# Wheels carry no file modes.
chmod +x "$prefix"/bin/* "$prefix"/nvvm/bin/*
ln -sfn lib "$prefix/lib64"
for lib in "$prefix"/lib/*.so.*; do
  ln -sfn "$(basename "$lib")" "${lib%%.so.*}.so"
done

# The driver's link stub: each function cuda.h declares (after its versioned-name macros).
mkdir -p "$prefix/lib/stubs"
cc -E -P -I"$prefix/include" "$prefix/include/cuda.h" | tr '\n' ' ' |
  grep -oE 'CUresult +cu[A-Za-z0-9_]+ *\(' | sed -E 's/CUresult +//; s/ *\(//' | sort -u |
  sed 's/.*/int &(void) { return 999; }/' >"$work/cuda_stub.c"
cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$prefix/lib/stubs/libcuda.so" "$work/cuda_stub.c"

"$prefix/bin/nvcc" --version | tail -2
echo "cuda-toolkit: CUDA $version in $prefix ($(grep -c . "$work/cuda_stub.c") driver functions in the link stub)"
