//! One hot set for a fleet: recordings of two differently loaded JVMs (HotLoop on one thread,
//! and on three threads with deep call chains) merged by `hch analyze --weight`, and the
//! overlap of their own hot sets, checked against the hot sets of each recording alone.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use hch_testkit::{require_jdks, scratch_dir, workload_source};

fn hch(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Records HotLoop for 3 s with these program arguments into `keep`.
fn record(jdk: &hch_testkit::Jdk, keep: &Path, program: &[&str]) {
    let classes = hch_testkit::compile(jdk, &workload_source("HotLoop"));
    let out = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(["record", "--duration", "3s", "--json", "--keep"])
        .arg(keep)
        .arg("--")
        .arg(jdk.tool("java"))
        .arg("-cp")
        .arg(&classes)
        .arg("HotLoop")
        .args(program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hot_methods(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["hot"]["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["method"].to_string())
        .collect()
}

fn total(doc: &serde_json::Value) -> u64 {
    doc["flat"]["total_samples"].as_u64().unwrap()
}

#[test]
fn two_differently_loaded_jvms_merge_by_weight_and_report_their_overlap() {
    let jdk = require_jdks().pop().unwrap();
    let dir = scratch_dir("fleet");
    let (light, heavy) = (dir.join("light.jfr"), dir.join("heavy.jfr"));
    record(&jdk, &light, &["0", "1"]);
    record(&jdk, &heavy, &["0", "3", "deep"]);
    let (l, h) = (light.to_str().unwrap(), heavy.to_str().unwrap());
    let alone = [
        hch(&["analyze", l, "--json"]),
        hch(&["analyze", h, "--json"]),
    ];
    let (nl, nh) = (total(&alone[0]), total(&alone[1]));
    // Three threads on two cores do not always give more samples than one (JFR samples a few
    // threads per period): the merge only needs both to have samples.
    assert!(nl > 0 && nh > 0, "{nl} {nh}: both JVMs have samples");

    let by_samples = hch(&["analyze", l, h, "--json", "--weight", "samples"]);
    assert_eq!(total(&by_samples), nl + nh);
    let equal = hch(&["analyze", l, h, "--json", "--weight", "equal"]);
    assert_eq!(
        total(&equal),
        2 * nl.max(nh),
        "the smaller instance is scaled up to the larger one"
    );

    // The overlap report, against the two hot sets computed alone.
    let fleet = &equal["fleet"];
    assert_eq!(fleet["weight"], "equal");
    let inst = fleet["instances"].as_array().unwrap();
    assert_eq!(inst[0]["samples"].as_u64(), Some(nl));
    assert_eq!(inst[1]["samples"].as_u64(), Some(nh));
    let (a, b) = (hot_methods(&alone[0]), hot_methods(&alone[1]));
    assert_eq!(inst[0]["hot_blobs"].as_u64(), Some(a.len() as u64));
    let jaccard = a.intersection(&b).count() as f64 / a.union(&b).count() as f64;
    let pair = &fleet["pairs"][0];
    assert!(
        (pair["jaccard"].as_f64().unwrap() - jaccard).abs() < 1e-9,
        "{pair} vs {jaccard}"
    );
    assert!(
        (0.0..=1.0).contains(&pair["weighted"].as_f64().unwrap()),
        "{pair}"
    );
    eprintln!(
        "{}: light {nl} samples, heavy {nh}; Jaccard {jaccard:.2}, weighted {}",
        jdk.label(),
        pair["weighted"]
    );
    // A single input has no fleet report.
    assert!(alone[0].get("fleet").is_none());
}
