#!/usr/bin/env bash
# The GPU checks of benchmarks/RESULTS-gpu.md in one script, each step under a time limit.
#
# 1. Once, on a machine with pip, tsbench's environment and the datasets (.gpu/ is ignored):
#        TSBENCH_DATA_DIR=/path/to/csvs bash benchmarks/gpu_checks.sh prepare
#    builds wheels of the pure-Python packages that a bare GPU image may lack (hydra-core,
#    omegaconf, antlr4-python3-runtime, hydra-joblib-launcher, scikit-optimize, pyaml; the
#    versions installed here) into .gpu/wheels, and copies ETTh1.csv into .gpu/data.
# 2. On the GPU machine, from the repository root, with .gpu/ copied along:
#        bash benchmarks/gpu_checks.sh [step ...]
#    Steps, in this order (default: all): env run bf16 sweep fp32 compile. Each writes
#    $OUT/<step>.txt (OUT defaults to gpu-out/), and $OUT/summary.txt gets its exit status
#    and seconds (124: stopped at its limit). With every step at its limit the script ends
#    after 520 s, inside a 10-minute allowance; rerun the steps that did not finish by name,
#    with a longer limit if need be: LIMIT_run=300 bash benchmarks/gpu_checks.sh run
#
#   env      nvidia-smi; GPU name, driver, torch, CUDA, cuDNN and Lightning versions
#   run      one full PatchTST/42 ETTh1-96 run with trainer=gpu, the CPU seeds' protocol
#            (benchmarks/reproduction.md: seed 1, patience 10, every test window scored);
#            its metrics.json is copied to $OUT/run-metrics.json
#   bf16     throughput.py --device cuda --precision bf16: tsbench's loop vs the plain one
#   sweep    sweep_throughput.py --device cuda: 16 trials, 1, 2, 4 and 8 at once on the GPU
#   fp32     throughput.py --device cuda --precision fp32
#   compile  throughput.py --device cuda --precision bf16 --compile, PatchTST/42 only
set -u
cd "$(dirname "$0")/.."

declare -A LIMIT=([env]=30 [run]=150 [bf16]=100 [sweep]=110 [fp32]=70 [compile]=60)
STEPS=(env run bf16 sweep fp32 compile)
for name in "${STEPS[@]}"; do  # LIMIT_<step>=seconds overrides a step's limit
    override="LIMIT_$name"
    [ -z "${!override:-}" ] || LIMIT[$name]=${!override}
done
WHEELS=(hydra-core omegaconf antlr4-python3-runtime hydra-joblib-launcher scikit-optimize pyaml)

prepare() {
    local data="${TSBENCH_DATA_DIR:?set TSBENCH_DATA_DIR to the folder holding ETTh1.csv}"
    local pins
    pins=$(python -c 'import sys, importlib.metadata as m
print(" ".join(f"{n}=={m.version(n)}" for n in sys.argv[1:]))' "${WHEELS[@]}") || exit 1
    mkdir -p .gpu/wheels .gpu/data
    # shellcheck disable=SC2086
    python -m pip wheel --quiet --no-deps --wheel-dir .gpu/wheels $pins || exit 1
    cp "$data/ETTh1.csv" .gpu/data/ || exit 1
    ls .gpu/wheels .gpu/data
}

step_env() {
    nvidia-smi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    python3 -c 'import torch, pytorch_lightning as pl
print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN",
      torch.backends.cudnn.version(), "Lightning", pl.__version__)
print("device 0:", torch.cuda.get_device_name(0), "bf16:", torch.cuda.is_bf16_supported())'
}

step_run() {
    rm -rf /tmp/gpu_run
    python3 -m tsbench experiment=patchtst42_etth1 pred_len=96 seed=1 trainer=gpu \
        trainer.patience=10 trainer.progress_bar=false hydra.run.dir=/tmp/gpu_run || return
    cp /tmp/gpu_run/metrics.json "$OUT/run-metrics.json"
}

step_bf16() { python3 benchmarks/throughput.py --device cuda --precision bf16 --repeat 1; }
step_sweep() { python3 benchmarks/sweep_throughput.py --device cuda; }
step_fp32() { python3 benchmarks/throughput.py --device cuda --precision fp32 --repeat 1; }
step_compile() {
    python3 benchmarks/throughput.py --device cuda --precision bf16 --compile \
        --configs patchtst42 --steps 40 --repeat 1
}

if [ "${1:-}" = prepare ]; then
    prepare
    exit
fi

[ $# -gt 0 ] || set -- "${STEPS[@]}"
for step in "$@"; do
    if [ -z "${LIMIT[$step]:-}" ]; then
        echo "gpu_checks.sh: unknown step '$step' -> use prepare, or steps of: ${STEPS[*]}" >&2
        exit 2
    fi
done
OUT="${OUT:-gpu-out}"
mkdir -p "$OUT"
if [ ! -d .gpu/wheels ] || [ ! -f .gpu/data/ETTh1.csv ]; then
    echo "gpu_checks.sh: .gpu/ is missing -> run 'bash benchmarks/gpu_checks.sh prepare' first" \
        "and copy .gpu/ along" >&2
    exit 2
fi
python3 -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/tsbench-site .gpu/wheels/*.whl || exit 1
export PYTHONPATH="$PWD:/tmp/tsbench-site" TSBENCH_DATA_DIR="$PWD/.gpu/data" TSBENCH_OFFLINE=1
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
export -f step_env step_run step_bf16 step_sweep step_fp32 step_compile
export OUT

for step in "$@"; do
    start=$SECONDS
    timeout -k 10 "${LIMIT[$step]}" bash -c "step_$step" >"$OUT/$step.txt" 2>&1
    status=$?
    echo "$step: exit $status after $((SECONDS - start)) s (limit ${LIMIT[$step]} s)" \
        | tee -a "$OUT/summary.txt"
done
