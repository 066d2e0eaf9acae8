#!/usr/bin/env bash
# Builds the release binary as it is meant to ship: static glibc, not position-independent.
# It starts in about half the time of a default (dynamic) build: no dynamic loader work and no
# libgcc_s start-up, which probes the CPU (slow in VMs). One `hch jcmd` round trip then takes
# about as long as jattach's (docs/BENCHMARKS.md). Prints the binary's path.
#
#   scripts/build_release.sh            # x86_64 Linux; TRIPLE=aarch64-unknown-linux-gnu for Arm
#
# The one caveat of static glibc: host names are resolved by resolver modules loaded at run
# time, so give JMX targets by IP address on a host whose glibc differs from the build's.
set -euo pipefail
cd "$(dirname "$0")/.."
triple=${TRIPLE:-$(rustc -vV | sed -n 's/^host: //p')}
# --target keeps these flags off build scripts and proc-macros, which must stay dynamic.
RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
  cargo build --release -p hch --target "$triple" >&2
realpath "${CARGO_TARGET_DIR:-target}/$triple/release/hch"
