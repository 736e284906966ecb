#!/usr/bin/env bash
# The ETTh1 table of benchmarks/reproduction.md, with the report's statistics: DLinear,
# iTransformer and PatchTST/42 (each with its paper's preset) x pred_len 96/192/336/720 x
# seeds 1-3, then tsbench-report against DLinear (paired tests, Holm, ranks, CD diagram)
# as Markdown, CSV and an HTML page. Hours of CPU (PatchTST/42 with patience 10, as in
# reproduction.md, about 10 to 45 minutes a run on 2 cores).
#
#   benchmarks/reproduce_etth1.sh [OUT_DIR]          # default: outputs/etth1_reproduction
#
# A model whose sweep directory already holds all its finished runs is skipped, so an
# interrupted reproduction continues where it stopped (the unfinished sweep reruns).
# Smaller settings for a smoke test: SEEDS=1 HORIZONS=96 EXTRA="trainer.max_epochs=1
# trainer.limit_train_batches=2" benchmarks/reproduce_etth1.sh /tmp/etth1_smoke
set -euo pipefail
out="${1:-outputs/etth1_reproduction}"
seeds="${SEEDS:-1,2,3}"
horizons="${HORIZONS:-96,192,336,720}"
read -r -a extra <<< "${EXTRA:-}"
runs=$(( $(tr ',' '\n' <<< "$seeds" | wc -l) * $(tr ',' '\n' <<< "$horizons" | wc -l) ))

sweep() {  # sweep NAME PRESET [OVERRIDES...]
    local name=$1 preset=$2
    shift 2
    local done
    done=$( (find "$out/$name" -name metrics.json 2>/dev/null || true) | wc -l)
    if [ "$done" -ge "$runs" ]; then
        echo "reproduce_etth1: $name: $done finished runs in $out/$name, skipped"
        return
    fi
    rm -rf "$out/$name"
    tsbench -m "experiment=$preset" "pred_len=$horizons" "seed=$seeds" \
        trainer.progress_bar=false trainer.num_threads=1 "$@" "${extra[@]}" \
        "hydra.sweep.dir=$out/$name"
}

sweep dlinear dlinear_etth1
sweep itransformer itransformer_etth1
sweep patchtst patchtst42_etth1 trainer.patience=10

tsbench-report "$out" --baseline dlinear -o "$out/table.md" --cd-diagram "$out/cd.png"
tsbench-report "$out" --baseline dlinear --format csv -o "$out/table.csv"
tsbench-report "$out" --baseline dlinear --format html -o "$out/report.html"
cat "$out/table.md"
echo "reproduce_etth1: $out/table.md, table.csv, report.html (and cd.png when there are ranks)"
