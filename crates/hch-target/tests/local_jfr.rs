//! `jfr::record` on real JVMs by pid, on every JDK found: the recording is one the JDK's own
//! `jfr` tool reads, and nothing is left on the JVM afterwards (the JDK's `jcmd JFR.check` and
//! a look into its /tmp are the oracles), also after a cancel, a panic, and the JVM's death.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hch_target::jfr::{self, RecordOptions};
use hch_target::{LocalTarget, Target, TargetError};
use hch_testkit::{require_jdks, scratch_dir, Jdk, Jvm, Launch};

/// The tests look for leftovers by this process's file prefix, so they take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn open(jvm: &Jvm) -> LocalTarget {
    LocalTarget::open(jvm.pid, &hch_attach::Options::default()).unwrap()
}

/// `jcmd <pid> JFR.check` by the JDK's own tool.
fn jfr_check(jdk: &Jdk, pid: u32) -> String {
    jdk.jcmd(pid, "JFR.check")
}

/// Files this process placed in the JVM's /tmp (`hch-<our pid>-…`).
fn leftovers(pid: u32) -> Vec<String> {
    let prefix = format!("hch-{}-", std::process::id());
    std::fs::read_dir(format!("/proc/{pid}/root/tmp"))
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_clean(jdk: &Jdk, pid: u32) {
    let check = jfr_check(jdk, pid);
    assert!(
        check.contains("No available recordings"),
        "{}: a recording is left: {check}",
        jdk.label()
    );
    assert_eq!(
        leftovers(pid),
        Vec::<String>::new(),
        "{}: files left",
        jdk.label()
    );
}

#[test]
fn a_recording_the_jdk_reads_and_nothing_left() {
    let _turn = serial();
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "HotLoop", &Launch::args(["0", "1"]));
        let mut t = open(&jvm);
        let mut calls = 0;
        let opts = RecordOptions::new(Duration::from_secs(2));
        let bytes = jfr::record(&mut t, &opts, &AtomicBool::new(false), &mut |_, _| {
            calls += 1
        })
        .unwrap();
        assert!(bytes.starts_with(b"FLR\0"), "{}", jdk.label());
        assert!(calls >= 10, "progress called {calls} times");
        let file = scratch_dir("local-jfr").join(format!("hotloop-{}.jfr", jdk.feature));
        std::fs::write(&file, &bytes).unwrap();
        let summary = jdk.jfr_summary(&file);
        let count = |event: &str| summary.get(event).map_or(0, |(n, _)| *n);
        // At least one sample: a busy 2-core machine may give the workload little CPU.
        assert!(
            count("jdk.ExecutionSample") > 0,
            "{}: {summary:?}",
            jdk.label()
        );
        assert!(
            count("jdk.JVMInformation") >= 1 && count("jdk.BooleanFlag") > 0,
            "{summary:?}"
        );
        assert_eq!(
            count("jdk.GarbageCollection"),
            0,
            "events not asked for stay off: {summary:?}"
        );
        assert_clean(&jdk, jvm.pid);
    }
}

#[test]
fn cancel_stops_at_once_and_cleans_up() {
    let _turn = serial();
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let mut t = open(&jvm);
        let cancel = AtomicBool::new(false);
        let start = Instant::now();
        let err = jfr::record(
            &mut t,
            &RecordOptions::new(Duration::from_secs(60)),
            &cancel,
            &mut |elapsed, _| {
                if elapsed >= Duration::from_millis(500) {
                    cancel.store(true, Ordering::Relaxed);
                }
            },
        )
        .unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "took {:?}",
            start.elapsed()
        );
        let interrupted = matches!(&err, TargetError::Io { source, .. } if source.kind() == std::io::ErrorKind::Interrupted);
        assert!(interrupted, "{err}");
        assert_clean(&jdk, jvm.pid);
    }
}

#[test]
fn a_panic_midway_still_cleans_up() {
    let _turn = serial();
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let mut t = open(&jvm);
        let opts = RecordOptions::new(Duration::from_secs(60));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            jfr::record(&mut t, &opts, &AtomicBool::new(false), &mut |elapsed, _| {
                assert!(
                    elapsed < Duration::from_millis(300),
                    "the caller's progress callback panics"
                );
            })
        }));
        assert!(panicked.is_err());
        assert_clean(&jdk, jvm.pid);
    }
}

#[test]
fn the_jvm_dying_midway_is_reported_and_files_are_removed() {
    let _turn = serial();
    for jdk in require_jdks() {
        let mut jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let pid = jvm.pid;
        let mut t = open(&jvm);
        let mut killed = false;
        let err = jfr::record(
            &mut t,
            &RecordOptions::new(Duration::from_secs(60)),
            &AtomicBool::new(false),
            &mut |elapsed, _| {
                if elapsed >= Duration::from_millis(500) && !killed {
                    killed = true;
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                }
            },
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("exited") && message.contains("no profile"),
            "{}: {message}",
            jdk.label()
        );
        jvm.kill();
        // The JVM's /tmp is this host's /tmp here: the settings and output files are gone.
        let prefix = format!("hch-{}-", std::process::id());
        let left: Vec<_> = std::fs::read_dir("/tmp")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with(&prefix))
            .collect();
        assert!(left.is_empty(), "{}: left {left:?}", jdk.label());
        assert!(t.check_alive().is_err());
    }
}
