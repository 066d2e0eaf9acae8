#!/usr/bin/env bash
# One diagnostic command round trip (`Compiler.codecache`) against a running JVM, side by side:
# hch jcmd (the release binary, static, and a default dynamic build) vs jattach vs the JDK's jcmd,
# with hyperfine, on every JDK under /usr/lib/jvm.
#
#   scripts/bench_attach.sh     # needs cargo, hyperfine and jattach (apt-get install -y hyperfine jattach)
#
# The JVM's attach listener is started before timing (first attach), so every run measures the
# steady round trip: process start, connect, request, the JVM's answer, exit. Tables (markdown
# and JSON) go to target/bench-attach/.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in hyperfine jattach; do
  command -v "$tool" >/dev/null || { echo "bench_attach: $tool missing (apt-get install -y $tool)" >&2; exit 1; }
done
target_dir=${CARGO_TARGET_DIR:-target}
triple=x86_64-unknown-linux-gnu
cargo build --release -p hch >&2
# The release binary (static glibc, not position-independent: no dynamic loader work).
hch_static=$(TRIPLE=$triple scripts/build_release.sh)
hch=$(realpath "$target_dir/release/hch")
out=target/bench-attach
mkdir -p "$out"

pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=""; }
trap cleanup EXIT

for home in $(for j in /usr/lib/jvm/*/; do [ -x "$j/bin/jcmd" ] && realpath "$j"; done | sort -u); do
  feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  classes="$out/classes-$feature"
  mkdir -p "$classes"
  "$home/bin/javac" -d "$classes" examples/Park.java
  "$home/bin/java" -cp "$classes" Park 0 1 > "$out/park-$feature.out" &
  pid=$!
  until grep -q READY "$out/park-$feature.out" 2>/dev/null; do sleep 0.1; done
  "$hch" jcmd "$pid" Compiler.codecache > /dev/null   # start the attach listener
  echo "== JDK $feature ($home), pid $pid" >&2
  hyperfine -N --warmup 10 --min-runs 30 \
    --export-markdown "$out/jdk$feature.md" --export-json "$out/jdk$feature.json" \
    -n "hch jcmd" "$hch jcmd $pid Compiler.codecache" \
    -n "hch jcmd (static)" "$hch_static jcmd $pid Compiler.codecache" \
    -n "jattach" "jattach $pid jcmd Compiler.codecache" \
    -n "jcmd" "$home/bin/jcmd $pid Compiler.codecache"
  cleanup
done
