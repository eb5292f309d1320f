#!/usr/bin/env bash
# Side-by-side latency and memory of Stride and ONNX Runtime on the same
# models, inputs, batch sizes and thread counts, measured alternately.
#
#   scripts/bench_vs_ort.sh MODEL_DIR...      (each holds model.onnx)
#
# Needs ONNX Runtime's bench script (shared/bench): BENCH=/tmp/bench with
# `cd $BENCH/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci` done once.
# Environment: BATCHES ("1 8"), THREADS ("1 2"), ROUNDS (3), ITERS (10).
# Prints one markdown row per cell: the median over rounds of each runtime's
# median latency, their ratio, and both peak RSS figures.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-/tmp/bench}
BATCHES=${BATCHES:-"1 8"}
THREADS=${THREADS:-"1 2"}
ROUNDS=${ROUNDS:-3}
ITERS=${ITERS:-10}
bin=$(mktemp -d)/infer
go build -o "$bin" ./cmd/infer

median() { sort -g | awk '{a[NR]=$1} END {m=(NR+1)/2; if (NR%2) print a[m]; else print (a[m-0.5]+a[m+0.5])/2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

echo "| model | batch | threads | stride ms | ORT ms | ratio | stride RSS MB | ORT RSS MB | RSS ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for dir in "$@"; do
  name=$(basename "$dir")
  for b in $BATCHES; do
    for t in $THREADS; do
      s_ms=(); o_ms=(); s_rss=(); o_rss=()
      for r in $(seq "$ROUNDS"); do
        line=$("$bin" bench "$dir/model.onnx" --batch "$b" --threads "$t" --iters "$ITERS" --warmup 2)
        s_ms+=("$(echo "$line" | field median_ms)"); s_rss+=("$(echo "$line" | field peak_rss_mb)")
        out=$( { /usr/bin/time -f "maxrss_kb=%M" node "$BENCH/ort_bench.js" "$dir/model.onnx" --batch "$b" --threads "$t" --iters "$ITERS" --warmup 2; } 2>&1 )
        o_ms+=("$(echo "$out" | grep '^ort ' | field median_ms)")
        o_rss+=("$(echo "$out" | sed -n 's/maxrss_kb=\([0-9]*\)/\1/p' | awk '{print $1/1024}')")
      done
      sm=$(printf '%s\n' "${s_ms[@]}" | median); om=$(printf '%s\n' "${o_ms[@]}" | median)
      sr=$(printf '%s\n' "${s_rss[@]}" | median); orr=$(printf '%s\n' "${o_rss[@]}" | median)
      awk -v n="$name" -v b="$b" -v t="$t" -v sm="$sm" -v om="$om" -v sr="$sr" -v orr="$orr" \
        'BEGIN {printf "| %s | %s | %s | %.1f | %.1f | %.2f | %.0f | %.0f | %.2f |\n", n, b, t, sm, om, sm/om, sr, orr, sr/orr}'
    done
  done
done
