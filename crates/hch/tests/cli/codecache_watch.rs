//! `hch watch` ends on Ctrl-C with its final report, and its CSV and JSON lines are well formed.

use std::process::{Command, Stdio};
use std::time::Duration;

use hch_testkit::Launch;

use crate::codecache_support as support;

#[test]
fn ctrl_c_ends_with_a_final_report() {
    let jdk = hch_testkit::require_jdks().pop().unwrap();
    let t = support::start(&jdk, "Park", Launch::args(["0", "2"]));
    let child = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(["watch", &t.spec, "--every", "500ms", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(lines.len() >= 3, "{lines:?}");
    assert_eq!(lines[0]["type"], "snapshot");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "final");
    assert_eq!(
        last["snapshots"].as_u64().unwrap() as usize,
        lines.len() - 1
    );
    assert!(t.jvm.pid > 0);
}

#[test]
fn csv_has_one_row_per_heap_and_snapshot() {
    let jdk = hch_testkit::require_jdks().pop().unwrap();
    let t = support::start(&jdk, "Park", Launch::args(["0", "2"]));
    let out = support::hch(&["watch", &t.spec, "--every", "500ms", "--for", "2s", "--csv"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("t_s,heap,used_kb,size_kb,nmethods,not_entrant,compilation_enabled")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(
        rows.len() >= 3 && rows.iter().all(|r| r.len() == 7),
        "{text}"
    );
    assert!(
        rows.iter().any(|r| r[1] == "non-profiled nmethods"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("alerts: none"));
}
