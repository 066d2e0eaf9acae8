#!/usr/bin/env bash
# The cost of `hch exporter`: host CPU of the exporter per JVM per minute, and scrape latency,
# with N idle-ish JVMs (examples/Park.java, 2 threads) on this host.
# Usage: scripts/bench_exporter.sh [N=20] [INTERVAL=15s] [SECONDS=60] [HCH=target/release/hch]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}; interval=${2:-15s}; secs=${3:-60}; hch=${4:-target/release/hch}
java=${JAVA:-java}; javac=${JAVAC:-javac}
work=$(mktemp -d); tag="hch.bench.$$"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$javac" -d "$work" examples/Park.java
for _ in $(seq "$n"); do
  "$java" -Xmx32m -D"$tag" -cp "$work" Park 0 2 >/dev/null 2>&1 & pids+=($!)
done
sleep 5
port=$((20000 + RANDOM % 20000))
"$hch" exporter --listen 127.0.0.1:$port --interval "$interval" --match "$tag" 2>"$work/err" & exp=$!; pids+=($exp)
# Let it find and query every JVM once before measuring.
until [ "$(curl -s 127.0.0.1:$port/metrics | grep -c '^hch_jvm_up{.*} 1')" -ge "$n" ]; do sleep 1; done
ticks() { awk '{print $14 + $15}' /proc/$exp/stat; }
t0=$(ticks); s0=$(date +%s.%N)
lat=()
while (( $(echo "$(date +%s.%N) - $s0 < $secs" | bc) )); do
  lat+=("$(curl -s -o /dev/null -w '%{time_total}' 127.0.0.1:$port/metrics)")
  sleep 1
done
t1=$(ticks); s1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
cpu=$(echo "($t1 - $t0) / $hz" | bc -l); wall=$(echo "$s1 - $s0" | bc -l)
printf 'JVMs %d, interval %s, %.0f s: exporter CPU %.3f s = %.1f ms per JVM per minute\n' \
  "$n" "$interval" "$wall" "$cpu" "$(echo "$cpu * 1000 / $n / ($wall / 60)" | bc -l)"
printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {printf "scrape latency over %d scrapes: median %.1f ms, p90 %.1f ms, max %.1f ms\n", NR, a[int(NR*0.5)+1]*1000, a[int(NR*0.9)+1]*1000, a[NR]*1000}'
curl -s 127.0.0.1:$port/metrics | wc -c | awk '{printf "exposition: %d bytes\n", $1}'
