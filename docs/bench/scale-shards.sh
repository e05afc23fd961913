#!/usr/bin/env bash
# Scaling of the real `maskinv mask` + `maskinv embed --out` over 1, 2 and 4
# shards run at once on this machine, as the tasks of an array job on one
# node would (docs/scale.md, "Measured here"), then the merges.
#
#   bash docs/bench/scale-shards.sh MASKINV [PHOTOS]
#
# PHOTOS (default 400) are the first LFW photos in sorted path order,
# copied from ../shared/data/lfw. Prints one line per shard (photos, mask
# and embed seconds, photos/s through both) and per run (wall time,
# photos/s over all shards, merge seconds).
set -euo pipefail
cd "$(dirname "$0")/../.."
maskinv=$(realpath "${1:?usage: scale-shards.sh MASKINV [PHOTOS]}")
photos=${2:-400}
lfw=$(realpath ../shared/data/lfw)
t=$(mktemp -d /tmp/maskinv-scale.XXXXXX)
trap 'rm -rf "$t"' EXIT

find "$lfw" -name '*.jpg' | sort >"$t/all"
head -n "$photos" "$t/all" | while read -r f; do
  rel=${f#"$lfw"/}
  mkdir -p "$t/in/$(dirname "$rel")"
  cp "$f" "$t/in/$rel"
done
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }

echo "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs; $photos photos"
for shards in 1 2 4; do
  out=$t/out-$shards
  mkdir -p "$out"
  start=$(now)
  for i in $(seq 1 "$shards"); do
    (
      s0=$(now)
      "$maskinv" mask --keep-going --in "$t/in" --out "$out/masked" --shard "$i/$shards" >"$out/mask-$i.log" 2>&1
      s1=$(now)
      "$maskinv" embed --keep-going --out "$out/store-$i" --shard "$i/$shards" "$t/in" >"$out/embed-$i.log" 2>&1
      s2=$(now)
      n=$(grep -o '^[0-9]* images' "$out/mask-$i.log" | cut -d' ' -f1)
      echo "shards $shards: shard $i/$shards: $n photos, mask $(sub "$s1" "$s0") s, embed $(sub "$s2" "$s1") s, $(rate "$n" "$(sub "$s2" "$s0")") photos/s"
    ) &
  done
  wait
  end=$(now)
  m0=$(now)
  "$maskinv" merge --out "$out/store" "$out"/store-* >/dev/null 2>&1
  if [ "$shards" -gt 1 ]; then "$maskinv" merge --masks "$out/masked" >/dev/null 2>&1; fi
  m1=$(now)
  echo "shards $shards: wall $(sub "$end" "$start") s, $(rate "$photos" "$(sub "$end" "$start")") photos/s in all; merge $(sub "$m1" "$m0") s"
done
for shards in 2 4; do
  cmp -s "$t/out-1/store/embeddings.npy" "$t/out-$shards/store/embeddings.npy" &&
    cmp -s "$t/out-1/masked/manifest.json" "$t/out-$shards/masked/manifest.json" &&
    echo "shards $shards: merged store and manifest identical to one shard's" ||
    echo "shards $shards: merged output DIFFERS from one shard's"
done
