#!/usr/bin/env bash
# hch jit's benchmark. A LogCompilation file of BYTES (default 1 GiB: a real one of
# examples/Deopt.java, repeated with its compile ids and stamps shifted past each copy) is read
# by `hch jit` on one core; then the same kind of JIT events as a JFR recording (the run's own
# recording, its chunk repeated until it holds as many compilations as the big file) is read
# by `hch jit` and by the JDK's `jfr print --events jdk.Compilation,jdk.Deoptimization`.
#
#   scripts/bench_jit.sh [BYTES]      # files in target/bench-jit/ (BYTES + a few hundred MB)
#
# Inputs are read once before timing, so the figures are the readers', not the disk's.
# Prints a Markdown table: wall and CPU seconds, MB/s and compilations/s of CPU time, peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-1073741824}
out=target/bench-jit
mkdir -p "$out"
cargo build --release -p hch >&2
cargo build --release -p hch-jit --example synth_logcompilation --example jit_settings >&2
hch=$(realpath target/release/hch)
home=$(for j in /usr/lib/jvm/*/; do [ -x "$j/bin/jfr" ] && realpath "$j"; done | sort -uV | tail -1)
echo "== JDK $home" >&2

"$home/bin/javac" -d "$out/classes" examples/Deopt.java
target/release/examples/jit_settings > "$out/jit.jfc"
rm -f "$out/base.xml" "$out/base.jfr"
(cd "$out" && "$home/bin/java" -cp classes -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation \
  -XX:LogFile=base.xml "-XX:StartFlightRecording:filename=base.jfr,settings=$PWD/jit.jfc" \
  Deopt 1000 exit > /dev/null)
target/release/examples/synth_logcompilation "$out/base.xml" "$out/big.xml" "$bytes"

# The JFR side: as many jdk.Compilation events as the big file has compile tasks.
tasks=$(grep -c '^<task ' "$out/big.xml")
per=$("$home/bin/jfr" summary "$out/base.jfr" | awk '$1 == "jdk.Compilation" { print $2 }')
copies=$(( (tasks + per - 1) / per ))
: > "$out/big.jfr"
for _ in $(seq "$copies"); do cat "$out/base.jfr" >> "$out/big.jfr"; done

row() { # label input events command...
  local label=$1 input=$2 events=$3; shift 3
  cat "$input" > /dev/null
  /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$@" > /dev/null
  read -r wall user sys rss < "$out/time.txt"
  local size; size=$(stat -c %s "$input")
  awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v b="$size" -v e="$events" 'BEGIN {
    cpu = u + s; printf "| %s | %.0f MB | %d | %.1f | %.1f | %.0f | %.0f | %.0f MB |\n", l, b / 1e6, e, w, cpu, b / 1e6 / cpu, e / cpu, r / 1024 }'
}
echo "| reader | input | compilations | wall s | CPU s | MB/s (CPU) | compilations/s (CPU) | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
row "hch jit, LogCompilation XML, 1 core" "$out/big.xml" "$tasks" taskset -c 0 "$hch" jit "$out/big.xml"
row "hch jit, JFR, 1 core" "$out/big.jfr" $((copies * per)) taskset -c 0 "$hch" jit "$out/big.jfr"
row "jfr print --events jdk.Compilation,jdk.Deoptimization" "$out/big.jfr" $((copies * per)) \
  "$home/bin/jfr" print --events jdk.Compilation,jdk.Deoptimization "$out/big.jfr"
