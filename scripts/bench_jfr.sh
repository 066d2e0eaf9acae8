#!/usr/bin/env bash
# The JFR reader's benchmark: a flat top-frame profile of a large recording, hch side by side
# with the JDK's `jfr view hot-methods` and `jfr print`, in one run. Prints a Markdown table.
#
#   scripts/bench_jfr.sh BIG.jfr                    # an existing large recording
#   scripts/bench_jfr.sh --make BIG.jfr [deep|demo] # first record one (JDK 21+) and concatenate it
#
# deep: 90 s of HotLoop's deep mode, 1 ms samples, 16 threads (many distinct stacks, 545 KB);
# demo: 30 s of the demo workload with JFR's profile settings (~100 event types, 460 KB).
# Each tool runs RUNS times (default 5); the table shows the median run.
#
# JFRS_BENCH=path adds the jfrs crate (a small top-frame program built outside the repository);
# SKIP_PRINT=1 leaves out `jfr print`, which takes many minutes on sample-heavy files.
# HCH=path runs that hch binary instead of building one (e.g. an older build, to compare);
# HCH_ONLY=1 runs hch alone (no JDK tools; no JDK needed unless --make).
# Throughput is MB (10^6 bytes) of recording per second of wall time; CPU is user+sys.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${JDK:-}" ]; then
  for d in /usr/lib/jvm/*; do
    [ -x "$d/bin/jfr" ] && "$d/bin/jfr" help view >/dev/null 2>&1 && JDK="$d"
  done
fi
JDK="${JDK:-}"
[ -x "$JDK/bin/jfr" ] || [ -n "${HCH_ONLY:-}" ] || { echo "need a JDK 21+ with jfr (set JDK=...)"; exit 2; }

if [ "${1:-}" = "--make" ]; then
  big="$2"; mode="${3:-deep}"; tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  "$JDK/bin/javac" -d "$tmp" examples/HotLoop.java
  if [ "$mode" = demo ]; then
    "$JDK/bin/java" -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
      "-XX:StartFlightRecording=settings=profile,duration=30s,filename=$tmp/one.jfr" \
      -cp "$tmp" HotLoop 34 4 >/dev/null
  else
    "$JDK/bin/java" -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
      "-XX:StartFlightRecording=settings=profile,jdk.ExecutionSample#period=1ms,filename=$tmp/one.jfr" \
      -XX:FlightRecorderOptions:maxchunksize=4M -cp "$tmp" HotLoop 90 16 deep >/dev/null
  fi
  : > "$big"
  while [ "$(stat -c %s "$big")" -lt 300000000 ]; do cat "$tmp/one.jfr" >> "$big"; done
else
  big="$1"
fi

hch="${HCH:-$(scripts/build_release.sh)}"
mb=$(python3 -c "print($(stat -c %s "$big")/1e6)")
runs=${RUNS:-5}
base=""

run() { # label, command...: the median of $runs runs
  local label="$1"; shift
  local t; t=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -a -o "$t" "$@" > /dev/null 2>&1 || true
  done
  local row
  row=$(python3 -c "
rows=sorted((tuple(map(float,l.split())) for l in open('$t') if l[0].isdigit()), key=lambda r: r[0])
w,u,s,r=rows[len(rows)//2]
base='$base' or w
ratio='1' if not '$base' else f'{w/float(base):.1f}x slower'
print(f'{w}|| $label | {w:.3f} | {u+s:.2f} | {r/1024:.0f} | {$mb/w:.0f} | {ratio} |')")
  rm -f "$t"
  [ -z "$base" ] && base=${row%%||*}
  echo "|${row#*||}"
}

echo "File: $big, $mb MB, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), median of $runs runs"
echo
echo "| tool | wall s | CPU s | max RSS MB | MB/s (wall) | vs hch (2 threads) |"
echo "|---|---|---|---|---|---|"
run "hch analyze --flat 100 (2 threads)" "$hch" analyze "$big" --flat 100
RAYON_NUM_THREADS=1 run "hch analyze --flat 100 (1 thread)" env RAYON_NUM_THREADS=1 "$hch" analyze "$big" --flat 100
[ -n "${HCH_ONLY:-}" ] && exit 0
run "jfr view hot-methods" "$JDK/bin/jfr" view hot-methods "$big"
if [ -z "${SKIP_PRINT:-}" ]; then
  run "jfr print --events jdk.ExecutionSample" "$JDK/bin/jfr" print --events jdk.ExecutionSample "$big"
fi
if [ -n "${JFRS_BENCH:-}" ]; then run "jfrs 0.2.5 (top frames)" "$JFRS_BENCH" "$big"; fi
