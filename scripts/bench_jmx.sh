#!/usr/bin/env bash
# JMX benchmark on loopback: hch-jmx against the JDK's own JMX client (scripts/JmxBench.java),
# both talking to one JVM that runs examples/Park.java (16 threads parking every millisecond)
# with a JFR recording of every park, which grows by megabytes a second.
# Measures a Compiler.codecache round trip and streaming a JFR snapshot back (MB/s); the two
# clients take turns (who goes first alternates), ROUNDS times (default 4), and each prints its
# median at the end.
# Usage: scripts/bench_jmx.sh [JDK_HOME]   (WARMUP=seconds the recording grows first, default 15)
set -euo pipefail
jdk=${1:-/usr/lib/jvm/temurin-25-jdk-amd64}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
jvm=
cleanup() { [ -n "$jvm" ] && kill "$jvm" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$jdk/bin/javac" -nowarn -d "$work" "$root/examples/Park.java" "$root/scripts/JmxBench.java"
(cd "$root" && cargo build --release -q -p hch-jmx --example jmx_bench)

p=-Dcom.sun.management.jmxremote
"$jdk/bin/java" -cp "$work" "$p.port=$port" "$p.rmi.port=$port" "$p.host=127.0.0.1" \
    "$p.authenticate=false" "$p.ssl=false" -Djava.rmi.server.hostname=127.0.0.1 \
    "-XX:StartFlightRecording:settings=profile,jdk.ThreadPark#threshold=0ms" Park 0 16 >"$work/jvm.out" 2>&1 &
jvm=$!
for _ in $(seq 100); do grep -q READY "$work/jvm.out" && break; sleep 0.2; done
sleep "${WARMUP:-15}"

echo "# $("$jdk/bin/java" -version 2>&1 | head -1); loopback; port $port; $(nproc) cores"
for round in $(seq "${ROUNDS:-4}"); do
    echo "# round $round"
    # Who goes first alternates: the first client of a run also warms the server up.
    hch() { "$root/target/release/examples/jmx_bench" 127.0.0.1 "$port" 300 2 | tee -a "$work/results"; }
    java() { "$jdk/bin/java" -cp "$work" JmxBench 127.0.0.1 "$port" 300 2 | tee -a "$work/results"; }
    if [ $((round % 2)) = 1 ]; then hch; java; else java; hch; fi
done
echo "# medians over all rounds"
for who in hch java; do
    median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    rtt=$(grep "^$who codecache" "$work/results" | sed 's/.*median=\([0-9]*\).*/\1/' | median)
    mbs=$(grep "^$who stream" "$work/results" | sed 's/.*MB\/s=//' | median)
    mb=$(grep "^$who stream" "$work/results" | sed 's/.*bytes=\([0-9]*\).*/\1/' | median)
    echo "$who: codecache round trip median ${rtt} us; streaming ${mbs} MB/s (median snapshot $((mb / 1000000)) MB)"
done
