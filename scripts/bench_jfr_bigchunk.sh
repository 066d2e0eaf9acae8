#!/usr/bin/env bash
# The JFR reader on ONE huge chunk: memory (max RSS) and speed of hch on a recording whose
# single chunk is SIZE_MB (default 1000) MB, the shape async-profiler writes for a long profile
# (metadata first, then the events, then all constant pools at the end). Prints a Markdown table.
#
#   scripts/bench_jfr_bigchunk.sh [BIG.jfr [SIZE_MB]]   # makes BIG.jfr unless it exists
#   HCH=/path/to/hch scripts/bench_jfr_bigchunk.sh ...  # another binary (e.g. an older build)
#
# The file is synthesized from the public async-profiler.jfr (crates/hch-jfr/tests/data/grafana;
# one chunk, 3.3 MB, 199,661 samples): its event region is repeated until the chunk reaches
# SIZE_MB, its metadata and its constant pool are kept, and the header's size and constant pool
# offset are moved. Samples scale with the repeats; distinct stacks stay those of the original.
# Each command runs RUNS times (default 3); the table shows the median run.
set -euo pipefail
cd "$(dirname "$0")/.."

big="${1:-/tmp/hch-bigchunk.jfr}"
size_mb="${2:-1000}"
if [ ! -f "$big" ]; then
  gunzip -c crates/hch-jfr/tests/data/grafana/async-profiler.jfr.gz | python3 -c '
import struct, sys
b = sys.stdin.buffer.read()
target = int(sys.argv[2]) * 1000 * 1000

def varint(p):
    v = 0
    for i in range(9):
        x = b[p + i]
        if i == 8:
            return v | x << 56
        v |= (x & 0x7F) << (7 * i)
        if x < 0x80:
            return v

size, cp, md = struct.unpack(">QQQ", b[8:32])
assert size == len(b), "one chunk expected"
assert md == 68 and cp > md, "metadata first, then events, then the pool"
events = b[md + varint(md):cp]
k = max(1, (target - (len(b) - len(events))) // len(events))
head = bytearray(b[:68])
head[8:16] = struct.pack(">Q", len(b) + (k - 1) * len(events))
head[16:24] = struct.pack(">Q", cp + (k - 1) * len(events))
with open(sys.argv[1], "wb") as out:
    out.write(head)
    out.write(b[68:md + varint(md)])
    for _ in range(k):
        out.write(events)
    out.write(b[cp:])
print(f"made {sys.argv[1]}: one chunk, {k} copies of {len(events)} bytes of events", file=sys.stderr)
' "$big" "$size_mb"
fi

hch="${HCH:-$(scripts/build_release.sh)}"
mb=$(python3 -c "print(round($(stat -c %s "$big")/1e6))")
runs=${RUNS:-3}

run() { # label, command...: the median of $runs runs by wall time
  local label="$1"; shift
  local t; t=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -v "$@" > /dev/null 2>> "$t" || true
  done
  python3 - "$t" "$label" "$mb" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
walls, rss = [], []
for m in re.finditer(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text):
    walls.append(int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3)))
rss = [int(x) for x in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", text)]
runs = sorted(zip(walls, rss))
w, r = runs[len(runs) // 2]
print(f"| {sys.argv[2]} | {w:.2f} | {r / 1024:.0f} | {float(sys.argv[3]) / w:.0f} |")
EOF
  rm -f "$t"
}

echo "File: $big, $mb MB in one chunk, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), median of $runs runs, $hch"
echo
echo "| command | wall s | max RSS MB | MB/s |"
echo "|---|---|---|---|"
run "hch analyze --flat 20" "$hch" analyze "$big" --flat 20
run "hch analyze --collapsed" "$hch" analyze "$big" --collapsed
run "hch jfr summary" "$hch" jfr summary "$big"
run "hch jfr print --events jdk.ActiveSetting" "$hch" jfr print --events jdk.ActiveSetting "$big"
