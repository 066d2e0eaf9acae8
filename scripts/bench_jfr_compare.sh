#!/usr/bin/env bash
# Two hch binaries side by side on the same recordings: `hch analyze FILE --flat 100` on two
# threads and on one, OLD and NEW alternating run by run (so that a busy machine slows both
# alike), RUNS times each (default 11). Prints a Markdown table: MB/s from the median and the
# fastest wall time, median CPU (user+sys) and max RSS, OLD / NEW, and NEW as a share of OLD.
#
#   scripts/bench_jfr_compare.sh OLD_HCH NEW_HCH FILE...
#
# Make an OLD binary from a commit with: git archive COMMIT | tar -x -C /tmp/old &&
# (cd /tmp/old && CARGO_TARGET_DIR=/tmp/old/target scripts/build_release.sh)
set -euo pipefail
old="$1"; new="$2"; shift 2
runs=${RUNS:-11}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT

echo "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at the start, $runs runs each"
echo
echo "| file | threads | MB/s, median run | MB/s, fastest run | CPU s, median | max RSS MB |"
echo "|---|---|---|---|---|---|"
for f in "$@"; do
  for th in 2 1; do
    : > "$t/old"; : > "$t/new"
    for _ in $(seq "$runs"); do
      for which in old new; do
        bin=$old; [ "$which" = new ] && bin=$new
        RAYON_NUM_THREADS=$th /usr/bin/time -f "%e %U %S %M" -a -o "$t/$which" \
          "$bin" analyze "$f" --flat 100 > /dev/null 2>&1 || true
      done
    done
    python3 - "$f" "$th" "$t" <<'EOF'
import os, sys
f, th, t = sys.argv[1:4]
mb = os.path.getsize(f) / 1e6
def stats(p):
    rows = [tuple(map(float, l.split())) for l in open(p) if l[:1].isdigit()]
    wall = sorted(r[0] for r in rows)
    cpu = sorted(r[1] + r[2] for r in rows)
    return wall[len(wall) // 2], wall[0], cpu[len(cpu) // 2], max(r[3] for r in rows) / 1024
o, n = stats(f"{t}/old"), stats(f"{t}/new")
share = lambda i: f"{100 * o[i] / n[i]:.0f}%"
print(f"| {os.path.basename(f)} | {th} | {mb / o[0]:.0f} / {mb / n[0]:.0f} ({share(0)}) "
      f"| {mb / o[1]:.0f} / {mb / n[1]:.0f} ({share(1)}) | {o[2]:.2f} / {n[2]:.2f} | {o[3]:.0f} / {n[3]:.0f} |")
EOF
  done
done
