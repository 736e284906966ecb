#!/usr/bin/env bash
# The ETTh1 table of benchmarks/reproduction.md, with the report's statistics: DLinear,
# iTransformer and PatchTST/42 (each with its paper's preset) x pred_len 96/192/336/720 x
# seeds 1-3, then tsbench-report against DLinear (paired tests, Holm, ranks, CD diagram)
# as Markdown, CSV and an HTML page. Hours of CPU (PatchTST/42 with patience 10, as in
# reproduction.md, about 10 to 45 minutes a run at one thread).
#
#   benchmarks/reproduce_etth1.sh [OUT_DIR]          # default: outputs/etth1_reproduction
#
# Each run has its own folder, OUT_DIR/MODEL/h{pred_len}_s{seed}, and runs at one torch
# thread, JOBS (default 2, one per core) at a time, longest first. A folder that holds
# metrics.json is kept, so an interrupted reproduction continues where it stopped (an
# unfinished run's folder is emptied and run again).
# Smaller settings for a smoke test: SEEDS=1 HORIZONS=96 EXTRA="trainer.max_epochs=1
# trainer.limit_train_batches=2" benchmarks/reproduce_etth1.sh /tmp/etth1_smoke
set -euo pipefail
out="${1:-outputs/etth1_reproduction}"
seeds="${SEEDS:-1,2,3}"
horizons="${HORIZONS:-96,192,336,720}"
jobs="${JOBS:-2}"
export EXTRA="${EXTRA:-}"

one_run() {  # one_run NAME PRESET PRED_LEN SEED [OVERRIDES...]
    local name=$1 preset=$2 pred_len=$3 seed=$4
    shift 4
    local dir="$out/$name/h${pred_len}_s${seed}"
    [ -f "$dir/metrics.json" ] && return 0
    rm -rf "$dir"
    mkdir -p "$out/$name"
    read -r -a extra <<< "$EXTRA"
    if tsbench "experiment=$preset" "pred_len=$pred_len" "seed=$seed" \
        trainer.progress_bar=false trainer.num_threads=1 "$@" "${extra[@]}" \
        "hydra.run.dir=$dir" > "$dir.log" 2>&1; then
        echo "reproduce_etth1: $dir done"
    else
        echo "reproduce_etth1: $dir FAILED (see $dir.log)" >&2
        return 1
    fi
}
export -f one_run
export out

mkdir -p "$out"
# PatchTST/42 first (the longest runs), then iTransformer, then DLinear: the two slots end
# nearly together.
for pred_len in $(tr ',' '\n' <<< "$horizons" | sort -rn); do
    for seed in $(tr ',' ' ' <<< "$seeds"); do
        echo "patchtst patchtst42_etth1 $pred_len $seed trainer.patience=10"
    done
done > "$out/runs.txt"
for name in itransformer dlinear; do
    for pred_len in $(tr ',' '\n' <<< "$horizons" | sort -rn); do
        for seed in $(tr ',' ' ' <<< "$seeds"); do
            echo "$name ${name}_etth1 $pred_len $seed"
        done
    done
done >> "$out/runs.txt"
# shellcheck disable=SC2016
xargs -P "$jobs" -L 1 bash -c 'one_run "$@"' _ < "$out/runs.txt"

tsbench-report "$out" --baseline dlinear -o "$out/table.md" --cd-diagram "$out/cd.png"
tsbench-report "$out" --baseline dlinear --format csv -o "$out/table.csv"
tsbench-report "$out" --baseline dlinear --format html -o "$out/report.html"
cat "$out/table.md"
echo "reproduce_etth1: $out/table.md, table.csv, report.html (and cd.png when there are ranks)"
