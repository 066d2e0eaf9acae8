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

/// What the JDK's own `jfr print --json --events jdk.ExecutionSample` says.
struct Oracle {
    /// Events.
    total: u64,
    /// Samples per leaf method (`pkg.Class.method`).
    leaves: BTreeMap<String, u64>,
    /// Samples per host blob: the first frame from the leaf that is not "Inlined", when it is
    /// "JIT compiled" (`pkg.Class.method(desc)`).
    hosts: BTreeMap<String, u64>,
}

fn method_key(m: &serde_json::Value, descriptor: bool) -> String {
    let class = m["type"]["name"].as_str().unwrap().replace('/', ".");
    let desc = if descriptor {
        m["descriptor"].as_str().unwrap()
    } else {
        ""
    };
    format!("{class}.{}{desc}", m["name"].as_str().unwrap())
}

fn jfr_oracle(jdk: &Jdk, file: &Path) -> Oracle {
    let events = jdk.jfr_events(file, "jdk.ExecutionSample");
    let mut oracle = Oracle {
        total: events.len() as u64,
        leaves: BTreeMap::new(),
        hosts: BTreeMap::new(),
    };
    for e in &events {
        let frames = e["values"]["stackTrace"]["frames"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(leaf) = frames.first() else { continue };
        *oracle
            .leaves
            .entry(method_key(&leaf["method"], false))
            .or_insert(0) += 1;
        let host = frames.iter().find(|f| f["type"] != "Inlined");
        if let Some(h) = host.filter(|h| h["type"] == "JIT compiled") {
            *oracle
                .hosts
                .entry(method_key(&h["method"], true))
                .or_insert(0) += 1;
        }
    }
    oracle
}

/// hch's hot set as host → samples.
fn hch_hosts(json: &serde_json::Value) -> BTreeMap<String, u64> {
    let blobs = json["hot"]["blobs"].as_array().unwrap();
    blobs
        .iter()
        .map(|b| {
            let m = &b["method"];
            let class = m["class"].as_str().unwrap().replace('/', ".");
            let key = format!(
                "{class}.{}{}",
                m["name"].as_str().unwrap(),
                m["descriptor"].as_str().unwrap()
            );
            (key, b["samples"].as_u64().unwrap())
        })
        .collect()
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

        // The demo's code takes most of the compiled samples, spread over its many run methods.
        let blobs = json["hot"]["blobs"].as_array().unwrap();
        let class = |b: &serde_json::Value| b["method"]["class"].as_str().unwrap().to_string();
        let demo: u64 = blobs
            .iter()
            .filter(|b| class(b).starts_with("HotLoop"))
            .map(|b| b["samples"].as_u64().unwrap())
            .sum();
        let compiled = json["hot"]["compiled_samples"].as_u64().unwrap();
        let runs = blobs
            .iter()
            .filter(|b| class(b).starts_with("HotLoop$W") && b["method"]["name"] == "run")
            .count();
        assert!(
            demo * 10 >= compiled * 6 && runs >= 10,
            "{}: demo {demo} of {compiled} compiled samples, {runs} HotLoop$W*.run blobs",
            jdk.label()
        );
        assert!(
            json["warnings"].as_array().unwrap().is_empty(),
            "{}: {}",
            jdk.label(),
            json["warnings"]
        );

        // Oracle: the JDK's own jfr tool on the same file.
        let oracle = jfr_oracle(&jdk, &rec);
        let (hch_total, ours) = hch_flat(&json);
        assert_eq!(hch_total, oracle.total, "{}: total samples", jdk.label());
        assert_eq!(
            ours,
            oracle.leaves,
            "{}: per-method leaf counts",
            jdk.label()
        );
        assert_eq!(
            json["hot"]["cutoff"],
            "None",
            "{}: fewer than 1000 blobs expected",
            jdk.label()
        );
        assert_eq!(
            hch_hosts(&json),
            oracle.hosts,
            "{}: hot set (host blobs and their samples)",
            jdk.label()
        );

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
    let mut child = HchGuard(Some(child));
    let stderr = child.0.as_mut().unwrap().stderr.take().unwrap();
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
    let pid = rustix::process::Pid::from_raw(child.0.as_ref().unwrap().id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let start = Instant::now();
    let o = child.0.take().unwrap().wait_with_output().unwrap();
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

/// Ends a `hch record` still running when the test fails: SIGTERM makes hch end its JVM.
struct HchGuard(Option<std::process::Child>);

impl Drop for HchGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            if let Some(pid) = rustix::process::Pid::from_raw(c.id() as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let _ = c.wait();
        }
    }
}
