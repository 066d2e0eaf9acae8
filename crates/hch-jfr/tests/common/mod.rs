//! Shared helpers of the reader's tests: recordings made on real JVMs, the JDK's `jfr` as oracle.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use hch_testkit::{Jdk, Jvm, Launch};

/// The public recordings shipped with the tests (grafana/jfr-parser testdata), decompressed.
pub fn grafana_recordings() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/grafana");
    let dst = hch_testkit::scratch_dir("grafana-jfr");
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for p in names {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".jfr.gz") else {
            continue;
        };
        let target = dst.join(format!("{stem}.jfr"));
        if !target.exists() {
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&p).unwrap())
                .read_to_end(&mut bytes)
                .unwrap();
            // Tests of one binary run as threads of one process: the name needs both.
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = dst.join(format!(".{stem}.{}.{n}", std::process::id()));
            std::fs::write(&tmp, bytes).unwrap();
            std::fs::rename(&tmp, &target).unwrap();
        }
        out.push(target);
    }
    out
}

/// Records the HotLoop workload on `jdk` for `seconds` with JFR's profile settings and
/// DebugNonSafepoints (plus `settings`, e.g. `,jdk.CPUTimeSample#enabled=true`), and returns it.
pub fn record_hotloop(jdk: &Jdk, tag: &str, seconds: u32, settings: &str) -> PathBuf {
    let out = hch_testkit::scratch_dir("recordings")
        .join(format!("hotloop-{tag}-jdk{}.jfr", jdk.feature));
    let _ = std::fs::remove_file(&out);
    let opts: Vec<String> = vec![
        "-XX:+UnlockDiagnosticVMOptions".into(),
        "-XX:+DebugNonSafepoints".into(),
        format!(
            "-XX:StartFlightRecording=settings=profile{settings},filename={}",
            out.display()
        ),
    ];
    let mut jvm = Jvm::start(
        jdk,
        "HotLoop",
        &Launch::args([seconds.to_string(), "2".into()]).jvm(opts),
    );
    jvm.wait_line("DONE", std::time::Duration::from_secs(120));
    // Let the JVM exit on its own so JFR writes the file at shutdown.
    for _ in 0..200 {
        if !jvm.alive() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(out.exists(), "no recording written on {}", jdk.label());
    out
}

/// The newest JDK that has the `jfr` tool.
pub fn oracle_jdk() -> Jdk {
    hch_testkit::require_jdks()
        .into_iter()
        .rev()
        .find(|j| j.has_tool("jfr"))
        .expect("a JDK with jfr")
}

/// Splits a recording into one file per chunk (the JDK's `jfr` misreads mixed concatenations).
pub fn split_chunks(path: &Path) -> Vec<PathBuf> {
    let data = std::fs::read(path).unwrap();
    let dir = hch_testkit::scratch_dir("chunks");
    let mut pos = 0usize;
    let mut out = Vec::new();
    while pos + 16 <= data.len() {
        let size = u64::from_be_bytes(data[pos + 8..pos + 16].try_into().unwrap()) as usize;
        let name = format!(
            "{}.{}.jfr",
            path.file_name().unwrap().to_string_lossy(),
            out.len()
        );
        let p = dir.join(name);
        std::fs::write(&p, &data[pos..pos + size]).unwrap();
        out.push(p);
        pos += size;
    }
    out
}

/// A frame as both sides can print it: class, method, descriptor, line, bci, type.
pub type OracleFrame = (String, String, String, i64, i64, String);

/// Every ExecutionSample's stack as `jfr print --json` gives it, sorted.
pub fn jdk_stacks(jdk: &Jdk, path: &Path, event: &str) -> Vec<Vec<OracleFrame>> {
    let mut stacks = Vec::new();
    for ev in jdk.jfr_events(path, event) {
        let frames = ev["values"]["stackTrace"]["frames"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        stacks.push(
            frames
                .iter()
                .map(|f| {
                    let m = &f["method"];
                    (
                        m["type"]["name"].as_str().unwrap_or("").to_string(),
                        m["name"].as_str().unwrap_or("").to_string(),
                        m["descriptor"].as_str().unwrap_or("").to_string(),
                        f["lineNumber"].as_i64().unwrap_or(0),
                        f["bytecodeIndex"].as_i64().unwrap_or(0),
                        f["type"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect(),
        );
    }
    stacks.sort();
    stacks
}

/// Our stacks, expanded to one entry per sample, in the oracle's shape.
pub fn our_stacks(p: &hch_jfr::SampleProfile) -> Vec<Vec<OracleFrame>> {
    let mut out = Vec::new();
    for s in &p.stacks {
        let frames: Vec<OracleFrame> = s
            .frames
            .iter()
            .map(|f| {
                let m = &p.methods[f.method as usize];
                (
                    m.class.clone(),
                    m.name.clone(),
                    m.descriptor.clone(),
                    f.line as i64,
                    f.bci as i64,
                    f.kind.description().to_string(),
                )
            })
            .collect();
        for _ in 0..s.samples {
            out.push(frames.clone());
        }
    }
    out.sort();
    out
}
