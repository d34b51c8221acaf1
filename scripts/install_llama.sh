#!/usr/bin/env bash
# Install llama-cpp-python 0.3.36 into a venv, built for this CPU family.
#
# Usage: scripts/install_llama.sh VENV_PYTHON
#
# llama-cpp-python ships as source only, and its default native build (-march=native) picks
# AMX kernels that segfault on this machine's CPU, so we build a portable AVX2 wheel once,
# keep it in ${RNA_WHEEL_CACHE:-~/.cache/research-notes/wheels}, and install from there.
# Idempotent: does nothing when the venv already imports llama_cpp 0.3.36.
set -euo pipefail

VERSION=0.3.36
PY=${1:?usage: $0 VENV_PYTHON}
CACHE=${RNA_WHEEL_CACHE:-$HOME/.cache/research-notes/wheels}
START=$(date +%s)

have_llama() {
    "$PY" - "$VERSION" <<'EOF' >/dev/null 2>&1
import sys
import llama_cpp
sys.exit(0 if llama_cpp.__version__ == sys.argv[1] else 1)
EOF
}

find_wheel() {
    compgen -G "$CACHE/llama_cpp_python-${VERSION}-*.whl" | head -n 1 || true
}

if have_llama; then
    echo "llama-cpp-python $VERSION already installed for $PY"
    exit 0
fi

mkdir -p "$CACHE"
WHEEL=$(find_wheel)
if [[ -z "$WHEEL" ]]; then
    echo "building llama-cpp-python $VERSION (about 6 minutes on 2 cores)..."
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
        "$PY" -m pip wheel --no-deps --no-cache-dir -w "$CACHE" "llama-cpp-python==$VERSION"
    WHEEL=$(find_wheel)
    [[ -n "$WHEEL" ]] || { echo "build produced no wheel in $CACHE" >&2; exit 1; }
fi

# Its runtime deps (numpy, jinja2, diskcache, typing-extensions) come from PyPI as wheels.
"$PY" -m pip install "$WHEEL"
have_llama || { echo "llama_cpp $VERSION still does not import after installing $WHEEL" >&2; exit 1; }
echo "llama-cpp-python $VERSION installed from $WHEEL in $(( $(date +%s) - START )) s"
