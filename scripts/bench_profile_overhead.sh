#!/usr/bin/env bash
# Profiling overhead: the CPU workload (examples/HotLoop.java's call trees, counted by
# scripts/Throughput.java) while `hch profile` records it at the defaults (10 ms samples, depth
# 64, only the events hch needs), against the same JVM just before and after. Alternating
# windows in one JVM cancel JIT warm-up and slow drift of the machine.
#
#   scripts/bench_profile_overhead.sh [cycles (10)] [window seconds (10)] [threads (2)]
#
# Two figures per cycle, each "profiled window / mean of the unprofiled windows around it":
#   throughput   calls per second (what an application feels; noisy on a shared machine)
#   efficiency   calls per CPU second spent by the JVM and by hch together (the cost of
#                profiling itself, robust against other processes taking CPU)
# The first cycle is also shown alone: on JDK 17 the first JFR.start deoptimizes all code.
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-10}
window=${2:-10}
threads=${3:-2}
target_dir=${CARGO_TARGET_DIR:-target}
hch=$(scripts/build_release.sh)
out=target/bench-overhead
mkdir -p "$out"

pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=""; }
trap cleanup EXIT
now_ms() { date +%s%3N; }

for home in $(for j in /usr/lib/jvm/*/; do [ -x "$j/bin/javac" ] && realpath "$j"; done | sort -u); do
  feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  classes="$out/classes-$feature"
  mkdir -p "$classes"
  "$home/bin/javac" -nowarn -d "$classes" examples/HotLoop.java scripts/Throughput.java
  log="$out/jdk$feature.ops"
  windows="$out/jdk$feature.windows"   # per cycle: off start, on start, on end, hch CPU seconds
  "$home/bin/java" -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -cp "$classes" Throughput "$threads" > "$log" &
  pid=$!
  until grep -q READY "$log" 2>/dev/null; do sleep 0.1; done
  echo "== JDK $feature ($home), pid $pid: warm-up ${window}s, then $cycles x (${window}s off, ${window}s hch profile)" >&2
  sleep "$window"
  : > "$windows"
  start=$(now_ms)
  for c in $(seq "$cycles"); do
    sleep "$window"
    on=$(now_ms)
    /usr/bin/time -f "%U %S" -o "$out/time" "$hch" profile "$pid" --duration "${window}s" --flat 1 > /dev/null 2> "$out/profile-$feature.err"
    echo "$start $on $(now_ms) $(awk '{print $1 + $2}' "$out/time")" >> "$windows"
    start=$(now_ms)
  done
  sleep "$window"
  echo "$start $(now_ms) $(now_ms) 0" >> "$windows"
  cleanup
  python3 - "$log" "$windows" "$feature" <<'PY'
import statistics, sys
ops = [tuple(map(int, l.split()[1:])) for l in open(sys.argv[1]) if l.startswith("OPS ")]
wins = [tuple(map(float, l.split())) for l in open(sys.argv[2])]
def span(a, b):
    """Calls, seconds and JVM CPU seconds between the first report 1 s into [a, b] and the last."""
    inside = [o for o in ops if a + 1000 <= o[0] <= b]
    (t0, n0, c0), (t1, n1, c1) = inside[0], inside[-1]
    return n1 - n0, (t1 - t0) / 1e3, (c1 - c0) / 1e9
def ratios(i):
    off = [span(*wins[j][:2]) for j in (i, i + 1)]
    n, s, c = span(wins[i][1], wins[i][2])
    tput = (n / s) / statistics.mean(o[0] / o[1] for o in off)
    # hch's own CPU counts too; scaled to the part of the window the span covers.
    hch_cpu = wins[i][3] * s / ((wins[i][2] - wins[i][1]) / 1e3)
    eff = (n / (c + hch_cpu)) / statistics.mean(o[0] / o[2] for o in off)
    return tput, eff
rs = [ratios(i) for i in range(len(wins) - 1)]
for k, name in ((0, "throughput"), (1, "efficiency")):
    v = [r[k] for r in rs]
    rest = statistics.median(v[1:]) if len(v) > 1 else float("nan")
    print(f"JDK {sys.argv[3]} {name:10s}: per cycle {' '.join(f'{x:.3f}' for x in v)}; "
          f"median {statistics.median(v):.3f} ({100 * (1 - statistics.median(v)):+.1f} % loss), "
          f"first cycle {v[0]:.3f}, median of the others {rest:.3f}")
PY
done
