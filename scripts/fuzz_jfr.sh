#!/usr/bin/env bash
# Fuzzes the JFR reader for a bounded time (default 60 s), seeded with the public recordings.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP lets the stable toolchain
# build the sanitizer instrumentation.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
corpus=fuzz/corpus/jfr
mkdir -p "$corpus"
# Seeds under 1 MB: big ones run a few times a minute under the sanitizer and teach little more.
for f in crates/hch-jfr/tests/data/grafana/*.jfr.gz; do
  n=$(basename "$f" .gz)
  [ -f "$corpus/$n" ] || gunzip -c "$f" > "$corpus/$n"
  [ "$(stat -c %s "$corpus/$n")" -lt 1000000 ] || rm -f "$corpus/$n"
done
RUSTC_BOOTSTRAP=1 cargo fuzz run jfr "$corpus" -- -max_total_time="$secs" -rss_limit_mb=1024 -max_len=1000000
