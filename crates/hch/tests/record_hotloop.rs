//! `hch record` on the bundled demo, on every JDK found: it finds the workload's hot methods, its
//! flat profile equals an aggregation of `jfr print --json` on the same recording, the directives
//! it writes load in the real JVM, a broken tail exits 5 after the sound part, and Ctrl-C ends the
//! JVM cleanly with the partial profile reported and nothing left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hch_testkit::{require_jdks, scratch_dir, skip, workload_source, Jdk};

fn hch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hch"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh private TMPDIR for one hch run, so leftovers can be seen.
fn fresh_tmp(name: &str) -> PathBuf {
    let d = scratch_dir("record").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `hch record --duration 4s --keep FILE -o OUT --dialect D -- java -cp C HotLoop 0 2`: the
/// README's first command, shortened (compiled classes: the source launcher's javac would take
/// seconds of the recording on a loaded machine).
fn record(jdk: &Jdk, keep: &Path, out: &Path, dialect: &str, tmp: &Path) -> Output {
    let classes = hch_testkit::compile(jdk, &workload_source("HotLoop"));
    let o = hch()
        .args([
            "record",
            "--duration",
            "4s",
            "--flat",
            "100000",
            "--json",
            "--dialect",
            dialect,
        ])
        .arg("--keep")
        .arg(keep)
        .arg("-o")
        .arg(out)
        .arg("--")
        .arg(jdk.tool("java"))
        .arg("-cp")
        .arg(classes)
        .args(["HotLoop", "0", "2"])
        .env("TMPDIR", tmp)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}: hch record failed: {}",
        jdk.label(),
        text(&o.stderr)
    );
    o
}

/// Leaf-frame counts from `jfr print --json --events jdk.ExecutionSample` (the JDK's own tool).
fn jfr_oracle(jdk: &Jdk, file: &Path) -> (u64, BTreeMap<String, u64>) {
    let o = Command::new(jdk.tool("jfr"))
        .args(["print", "--json", "--events", "jdk.ExecutionSample"])
        .arg(file)
        .output()
        .unwrap();
    assert!(o.status.success(), "jfr print: {}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut counts = BTreeMap::new();
    let events = v["recording"]["events"].as_array().unwrap();
    for e in events {
        let leaf = &e["values"]["stackTrace"]["frames"][0]["method"];
        if leaf.is_null() {
            continue;
        }
        let class = leaf["type"]["name"].as_str().unwrap().replace('/', ".");
        let name = format!("{class}.{}", leaf["name"].as_str().unwrap());
        *counts.entry(name).or_insert(0) += 1;
    }
    (events.len() as u64, counts)
}

/// hch's flat rows as name → samples, and its total.
fn hch_flat(json: &serde_json::Value) -> (u64, BTreeMap<String, u64>) {
    let rows = json["flat"]["rows"].as_array().unwrap();
    let counts = rows
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["samples"].as_u64().unwrap(),
            )
        })
        .collect();
    (json["flat"]["total_samples"].as_u64().unwrap(), counts)
}

/// Whether the JVM loads a directives file at start-up.
fn jvm_loads(jdk: &Jdk, file: &Path) -> (bool, String) {
    let o = Command::new(jdk.tool("java"))
        .arg("-XX:+UnlockDiagnosticVMOptions")
        .arg(format!("-XX:CompilerDirectivesFile={}", file.display()))
        .arg("-version")
        .output()
        .unwrap();
    let out = text(&o.stdout);
    (
        o.status.success() && out.contains("compiler directives added"),
        out,
    )
}

#[test]
fn record_finds_hot_methods_matches_jfr_and_writes_loadable_directives() {
    for jdk in require_jdks() {
        if !jdk.has_tool("jfr") {
            skip(&jdk, "no `jfr` tool to compare against");
            continue;
        }
        let dir = scratch_dir(&format!("record-jdk{}", jdk.feature));
        let (rec, stock) = (dir.join("rec.jfr"), dir.join("stock.json"));
        let tmp = fresh_tmp(&format!("tmp{}", jdk.feature));
        let o = record(&jdk, &rec, &stock, "stock", &tmp);
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "{}: hch left files in TMPDIR",
            jdk.label()
        );
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();

        // The demo's hot methods lead the hot set.
        let blobs = json["hot"]["blobs"].as_array().unwrap();
        let hot_runs = blobs
            .iter()
            .take(20)
            .filter(|b| {
                b["method"]["class"]
                    .as_str()
                    .unwrap()
                    .starts_with("HotLoop$W")
            })
            .count();
        assert!(
            hot_runs >= 10,
            "{}: only {hot_runs} HotLoop$W*.run in the top 20: {:?}",
            jdk.label(),
            &blobs[..blobs.len().min(20)]
        );
        assert!(
            json["warnings"].as_array().unwrap().is_empty(),
            "{}: {}",
            jdk.label(),
            json["warnings"]
        );

        // Oracle: the JDK's own jfr tool on the same file.
        let (total, oracle) = jfr_oracle(&jdk, &rec);
        let (hch_total, ours) = hch_flat(&json);
        assert_eq!(hch_total, total, "{}: total samples", jdk.label());
        assert_eq!(ours, oracle, "{}: per-method leaf counts", jdk.label());

        // The stock dialect loads in the real JVM; the hot dialect is refused by stock JVMs.
        let (ok, out) = jvm_loads(&jdk, &stock);
        assert!(ok, "{}: stock directives refused: {out}", jdk.label());
        let hot = dir.join("hot.json");
        let o = hch()
            .args(["analyze", "--flat", "0", "-o"])
            .arg(&hot)
            .arg(&rec)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let (ok, out) = jvm_loads(&jdk, &hot);
        assert!(
            !ok && out.contains("No such key: 'Hot'"),
            "{}: stock JVM and Hot: {out}",
            jdk.label()
        );
        let o = hch()
            .args(["directives", "check", "--java"])
            .arg(&jdk.home)
            .arg(&hot)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(6), "{}", text(&o.stdout));
        assert!(text(&o.stdout).contains("--dialect stock"));

        broken_tail_exits_5(&jdk, &rec, &dir, &json);
    }
}

/// Two copies of the recording with the second cut short: the first is reported, exit 5.
fn broken_tail_exits_5(jdk: &Jdk, rec: &Path, dir: &Path, whole: &serde_json::Value) {
    let bytes = std::fs::read(rec).unwrap();
    let mut broken = bytes.clone();
    broken.extend_from_slice(&bytes[..bytes.len() / 2]);
    let path = dir.join("broken.jfr");
    std::fs::write(&path, &broken).unwrap();
    let o = hch()
        .args(["analyze", "--json", "--flat", "100000"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}: {}",
        jdk.label(),
        text(&o.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        json["flat"]["total_samples"].as_u64() >= whole["flat"]["total_samples"].as_u64(),
        "{}",
        jdk.label()
    );
    assert!(
        text(&o.stderr).contains("broken.jfr"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn ctrl_c_ends_the_jvm_cleanly_and_reports_the_partial_profile_on_every_jdk() {
    for jdk in require_jdks() {
        ctrl_c(&jdk);
    }
}

/// Without DebugNonSafepoints the profile is biased, and hch says so plainly.
#[test]
fn warns_when_recorded_without_debug_nonsafepoints() {
    for jdk in require_jdks() {
        let classes = hch_testkit::compile(&jdk, &workload_source("HotLoop"));
        let o = hch()
            .args([
                "record",
                "--no-debug-nonsafepoints",
                "--duration",
                "2s",
                "--flat",
                "1",
                "--",
            ])
            .arg(jdk.tool("java"))
            .arg("-cp")
            .arg(&classes)
            .args(["HotLoop", "0", "1"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(
            err.contains("hch: warning:")
                && err.contains("DebugNonSafepoints")
                && err.contains("biased"),
            "{}: {err}",
            jdk.label()
        );
    }
}

fn ctrl_c(jdk: &Jdk) {
    let classes = hch_testkit::compile(jdk, &workload_source("HotLoop"));
    let tmp = fresh_tmp(&format!("ctrl-c-{}", jdk.feature));
    let child = hch()
        .args(["record", "--flat", "5", "--"])
        .arg(jdk.tool("java"))
        .arg("-cp")
        .arg(&classes)
        .args(["HotLoop", "0", "1"])
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The workload's output comes on hch's stderr; interrupt a second after it is running.
    let mut child = child;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if line.starts_with("READY") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the workload never printed READY");
    std::thread::sleep(Duration::from_secs(1));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let start = Instant::now();
    let o = child.wait_with_output().unwrap();
    let err = reader.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(130), "{}: {err}", jdk.label());
    let out = text(&o.stdout);
    assert!(
        out.starts_with("--- Execution profile ---\nTotal samples       : "),
        "{out}"
    );
    assert!(out.contains("HotLoop"), "{out}");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "hch left files in TMPDIR"
    );
}
