#!/usr/bin/env bash
# The agent's cost: the CPU workload (examples/HotLoop.java's call trees, counted by
# scripts/Throughput.java) in JVMs started alternately without and with
# -agentpath:libhch_agent.so, and the resident memory the agent adds.
#
#   scripts/bench_agent.sh [pairs (3)] [run seconds (70)] [agent options]
#
# The agent runs with the defaults' duty cycle compressed ten times (delay=5s, interval=60s,
# duration=6s: a tenth of each period recording, as 60s of every 10m), so a run sees a cycle
# per minute; the fixed cost of a cycle (JFR start and stop, reading, analysis) then weighs ten
# times more than at the defaults, so the loss measured is an upper bound for them.
# Per JDK, per mode: throughput (calls per second) and efficiency (calls per CPU second of the
# whole JVM, robust against other processes taking CPU), from 10 s into each run to its end;
# RSS at the end (heap fixed and pre-touched, so the difference is the agent's and JFR's);
# the agent's CPU per cycle from its log. Then one run with a 60 s recording (the defaults'
# duration) for the CPU per cycle at that size.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
run=${2:-70}
agent_opts=${3:-delay=5s,interval=60s,duration=6s,dialect=stock}
cargo build --release -p hch-agent >&2
lib=$(realpath "${CARGO_TARGET_DIR:-target}/release/libhch_agent.so")
out=target/bench-agent
mkdir -p "$out"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=""; }
trap cleanup EXIT

# one_run JAVA_HOME CLASSES MODE SECONDS AGENT_OPTIONS -> "calls_per_s calls_per_cpu_s rss_kb"
one_run() {
  local home=$1 classes=$2 mode=$3 secs=$4 opts=$5 log="$out/run.ops"
  local extra=()
  if [ "$mode" = on ]; then extra=("-agentpath:$lib=$opts,log=$(realpath "$out")/agent-on.log"); fi
  "$home/bin/java" -Xms256m -Xmx256m -XX:+AlwaysPreTouch -XX:+UnlockDiagnosticVMOptions \
    -XX:+DebugNonSafepoints "${extra[@]}" -cp "$classes" Throughput 2 > "$log" 2>/dev/null &
  pid=$!
  until grep -q READY "$log" 2>/dev/null; do sleep 0.1; done
  sleep "$secs"
  local rss
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  cleanup
  python3 - "$log" "$rss" <<'PY'
import sys
ops = [tuple(map(int, l.split()[1:])) for l in open(sys.argv[1]) if l.startswith("OPS ")]
inside = [o for o in ops if o[0] >= ops[0][0] + 9000]
(t0, n0, c0), (t1, n1, c1) = inside[0], inside[-1]
print(f"{(n1 - n0) / ((t1 - t0) / 1e3):.0f} {(n1 - n0) / ((c1 - c0) / 1e9):.0f} {sys.argv[2]}")
PY
}

for home in $(for j in /usr/lib/jvm/*/; do [ -x "$j/bin/javac" ] && realpath "$j"; done | sort -u); do
  feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  classes="$out/classes-$feature"
  mkdir -p "$classes"
  "$home/bin/javac" -nowarn -d "$classes" examples/HotLoop.java scripts/Throughput.java
  results="$out/jdk$feature.runs"
  : > "$results"
  rm -f "$out/agent-on.log"
  echo "== JDK $feature ($home): $pairs pairs of ${run}s runs, agent $agent_opts" >&2
  for p in $(seq "$pairs"); do
    order="off on"
    if [ $((p % 2)) = 0 ]; then order="on off"; fi
    for mode in $order; do
      echo "$mode $(one_run "$home" "$classes" "$mode" "$run" "$agent_opts")" >> "$results"
    done
  done
  mv "$out/agent-on.log" "$out/agent-jdk$feature-compressed.log"
  one_run "$home" "$classes" on 80 "delay=5s,interval=10m,duration=60s,dialect=stock" > /dev/null
  mv "$out/agent-on.log" "$out/agent-jdk$feature-60s.log"
  python3 - "$results" "$feature" "$out/agent-jdk$feature-compressed.log" "$out/agent-jdk$feature-60s.log" <<'PY'
import re, statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
def med(mode, k):
    return statistics.median(float(r[k]) for r in runs if r[0] == mode)
for k, name in ((1, "throughput"), (2, "efficiency")):
    off, on = med("off", k), med("on", k)
    each = " ".join(f"{r[0]}:{float(r[k]):.0f}" for r in runs)
    print(f"JDK {sys.argv[2]} {name:10s}: off {off:.0f}, on {on:.0f} calls/s; ratio {on / off:.3f} ({100 * (1 - on / off):+.1f} % loss)  [{each}]")
print(f"JDK {sys.argv[2]} RSS added: {(med('on', 3) - med('off', 3)) / 1024:.1f} MiB (medians {med('off', 3) / 1024:.0f} and {med('on', 3) / 1024:.0f} MiB)")
for path, what in ((sys.argv[3], "6 s"), (sys.argv[4], "60 s")):
    cyc = [tuple(map(int, m.groups())) for m in re.finditer(r"cycle \d+: (\d+) samples .*\[(\d+) ms CPU\]", open(path).read())]
    if cyc:
        print(f"JDK {sys.argv[2]} cycles recording {what}: " + ", ".join(f"{s} samples {c} ms" for s, c in cyc))
PY
done
