#!/bin/bash
# Alternates two builds of the engine's test binary and OpenCV DNN on the
# recogniser, batches 1, 32 and 256, for the side-by-side figures in
# docs/benchmarks.md (face engine). The machine is shared: each round runs
# every side back to back, and swaps the two engines' order.
#
#   go test -c -o /tmp/new.test ./model   (and /tmp/old.test from the other commit)
#   bash docs/bench/embed_ab.sh /tmp/old.test /tmp/new.test ROUNDS OUTDIR
#   benchstat OUTDIR/old.txt OUTDIR/new.txt
set -eu
old=$1 new=$2 rounds=$3 out=$4
root=$(cd "$(dirname "$0")/../.." && pwd)
model=${MODEL:-$root/../shared/models/faceplugin/fr_feature.onnx}
mkdir -p "$out"
cd "$root/model" # the benchmarks find ../shared from the package folder
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  for spec in "1 100x" "32 4x" "256 1x"; do
    set -- $spec
    for side in $order; do
      bin=$old; [ "$side" = new ] && bin=$new
      "$bin" -test.run '^$' -test.bench "EmbedBatch$1\$" -test.benchtime "$2" | grep '^Benchmark' >> "$out/$side.txt"
    done
    echo "$(date +%T) $(/usr/bin/python3 "$root/docs/bench/opencv_embed.py" "$model" 2 "$1")" >> "$out/opencv.txt"
  done
  echo "$(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"
done
