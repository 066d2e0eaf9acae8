#!/usr/bin/env bash
# The research's table, reproduced by `hch lab` on the generated demo: for each JDK given (a
# JAVA_HOME each) and each workload, natural, compact and sparse layouts of the workload's own
# hot set in interleaved rounds in one JVM. Writes one JSON per run to $OUT (default
# target/bench-lab) and prints a Markdown table (scripts/bench_lab_table.py).
#   scripts/bench_lab.sh /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64
# Knobs: CASES ("small:1000 small:2000 small:4000 large:1000"), ROUNDS (5), PHASE (8s).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p hch -p hch-agent
hch=target/release/hch
out=${OUT:-target/bench-lab}
mkdir -p "$out"
cases=${CASES:-small:1000 small:2000 small:4000 large:1000}
for home in "$@"; do
  jdk=$("$home/bin/java" -version 2>&1 | head -1 | sed -E 's/.*"([0-9]+)[."].*/\1/')
  for c in $cases; do
    f="$out/jdk$jdk-${c/:/-}.json"
    echo "bench_lab: JDK $jdk $c -> $f" >&2
    JAVA_HOME=$home HCH_AGENT_LIB=target/release/libhch_agent.so \
      "$hch" lab --demo "$c" --warmup 15s --profile 20s --phase "${PHASE:-8s}" --settle 3s \
      --rounds "${ROUNDS:-5}" --json --svg "${f%.json}-chart.svg" --maps "${f%.json}-maps.svg" > "$f" \
      || { echo "bench_lab: JDK $jdk $c failed (see above)" >&2; rm -f "$f"; }
  done
done
python3 scripts/bench_lab_table.py "$out"/jdk*.json
