//! pprof out and in, with Go's own pprof as the oracle (Debian's `golang-go`): the `-top` table of
//! hch's pprof of a recording is hch's flat profile (same leaf names, same sample counts), and a
//! pprof that `go tool pprof -proto` rewrote reads back into the same hot set, gzipped or not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Recordings of three producers: JDK (FastSlow), async-profiler, and a Grafana-collected one.
const RECORDINGS: [&str; 3] = [
    "FastSlow_2024_01_16_180855",
    "async-profiler",
    "cortex-dev-01__kafka-0__cpu__0",
];

fn recording(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../hch-jfr/tests/data/grafana")
        .join(format!("{name}.jfr.gz"))
}

fn have_go() -> bool {
    let ok = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP: no `go` (apt-get install golang-go; .ci/run does)");
    }
    ok
}

/// `hch analyze ARGS --json` as JSON.
fn analyze(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hch"))
        .arg("analyze")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn go_pprof(args: &[&str]) -> Vec<u8> {
    let out = Command::new("go")
        .args(["tool", "pprof"])
        .args(args)
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The rows of `go tool pprof -top` with a non-zero flat count: name to flat samples.
fn go_top(pprof: &Path) -> BTreeMap<String, u64> {
    let text = String::from_utf8(go_pprof(&[
        "-top",
        "-sample_index=samples",
        "-nodecount=1000000",
        "-nodefraction=0",
        "-edgefraction=0",
        s(pprof),
    ]))
    .unwrap();
    let rows = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .skip(1);
    rows.filter_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let flat: u64 = cols.first()?.parse().ok()?;
        (flat > 0).then(|| (cols[5..].join(" "), flat))
    })
    .collect()
}

/// hch's flat profile: leaf name to samples.
fn hch_flat(doc: &serde_json::Value) -> BTreeMap<String, u64> {
    doc["flat"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["samples"].as_u64().unwrap(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The hot set's blobs by method and samples (`hidden` is told again from the name on input).
fn hot(doc: &serde_json::Value) -> Vec<String> {
    doc["hot"]["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let m = &b["method"];
            format!(
                "{}.{}{} {} {} {}",
                m["class"],
                m["name"],
                m["descriptor"],
                b["samples"],
                b["inlined_samples"],
                b["c1_samples"]
            )
        })
        .collect()
}

#[test]
fn go_pprof_top_is_hchs_flat_profile() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in RECORDINGS {
        let out = dir.path().join(format!("{name}.pb.gz"));
        let doc = analyze(&[s(&recording(name)), "--flat", "1000000", "--pprof", s(&out)]);
        let flat = hch_flat(&doc);
        assert!(flat.len() > 3, "{name}: {flat:?}");
        assert_eq!(go_top(&out), flat, "{name}");
    }
}

#[test]
fn a_pprof_rewritten_by_go_reads_back_into_the_same_hot_set() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in RECORDINGS {
        let out = dir.path().join(format!("{name}.pb.gz"));
        let original = analyze(&[s(&recording(name)), "--pprof", s(&out)]);
        let rewritten = dir.path().join(format!("{name}.rewritten.pb.gz"));
        std::fs::write(&rewritten, go_pprof(&["-proto", s(&out)])).unwrap();
        let back = analyze(&[s(&rewritten)]);
        assert_eq!(hot(&back), hot(&original), "{name}");
        assert_eq!(hch_flat(&back), hch_flat(&original), "{name}");
        // The same, not gzipped: the format is told from the content.
        let raw = dir.path().join(format!("{name}.pb"));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&rewritten).unwrap()),
            &mut bytes,
        )
        .unwrap();
        std::fs::write(&raw, bytes).unwrap();
        assert_eq!(hot(&analyze(&[s(&raw)])), hot(&original), "{name} (raw)");
    }
}

#[test]
fn a_truncated_pprof_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.pb.gz");
    analyze(&[s(&recording(RECORDINGS[0])), "--pprof", s(&out)]);
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&out).unwrap()),
        &mut raw,
    )
    .unwrap();
    let cut = dir.path().join("cut.pb");
    std::fs::write(&cut, &raw[..raw.len() / 2]).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(["analyze", s(&cut)])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a readable pprof"));
}
