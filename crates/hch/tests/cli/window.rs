//! The profiling window (`--delay`, the design's starting point) and live facts, on real JVMs
//! on every JDK found: a workload whose hot methods change after one second is recorded from
//! after the change, so its hot set holds only the late phase's code.

use std::process::Command;

use hch_testkit::{compile, require_jdks, workload_source, Jvm, Launch};
use serde_json::Value;

/// The leaf frames of the flat profile, from `--json` output (the phases' methods are inlined
/// into the OSR-compiled `main`, so the hot set's host is `main` in both phases).
fn hot_hosts(stdout: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(stdout).expect("JSON output");
    v["flat"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Keeps `early` out of the compiled `main`: once the late phase runs, C2 recompiles `main`
/// with both phases inlined, and on JDK 11 and 21 its debug info put a few late-phase samples
/// (under 1%) on `early`'s inlined loop. Not inlined, `early` shows up only when it runs.
const EARLY_NOT_INLINED: [&str; 2] = [
    "-XX:CompileCommand=quiet",
    "-XX:CompileCommand=dontinline,Phases::early",
];

fn phases(names: &[String]) -> (bool, bool) {
    let early = names.iter().any(|n| n.starts_with("Phases.early"));
    let late = names.iter().any(|n| n.starts_with("Phases.late"));
    (early, late)
}

#[test]
fn record_with_a_delay_leaves_the_first_phase_out() {
    for jdk in require_jdks() {
        let classes = compile(&jdk, &workload_source("Phases"));
        let out = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args([
                "record",
                "--delay",
                "4s",
                "--duration",
                "2s",
                "--json",
                "--",
            ])
            .arg(jdk.tool("java"))
            .args(EARLY_NOT_INLINED)
            .arg("-cp")
            .arg(&classes)
            .args(["Phases", "1", "0"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {err}", jdk.label());
        let names = hot_hosts(&out.stdout);
        assert_eq!(phases(&names), (false, true), "{}: {names:?}", jdk.label());
    }
}

#[test]
fn profile_with_a_delay_leaves_the_first_phase_out() {
    for jdk in require_jdks() {
        let launch = Launch::args(["1", "0"]).jvm(EARLY_NOT_INLINED);
        let jvm = Jvm::start(&jdk, "Phases", &launch);
        let out = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args([
                "profile",
                &jvm.pid.to_string(),
                "--delay",
                "4s",
                "--duration",
                "2s",
                "--json",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {err}", jdk.label());
        assert!(err.contains("waiting 4s before recording"), "{err}");
        let names = hot_hosts(&out.stdout);
        assert_eq!(phases(&names), (false, true), "{}: {names:?}", jdk.label());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["profiling_cost"]["not_entrant_after"].is_u64(),
            "{}: {}",
            jdk.label(),
            v["profiling_cost"]
        );
    }
}
