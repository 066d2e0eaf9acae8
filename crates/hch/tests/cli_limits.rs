//! Arguments out of bounds are usage errors (exit 2) before anything runs: durations above 30
//! days (2^64-1 s used to panic adding to an Instant).

use std::process::{Command, Output};

fn hch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .output()
        .unwrap()
}

fn assert_usage_error(args: &[&str], says: &str) {
    let o = hch(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn every_duration_argument_is_capped() {
    const HUGE: &str = "18446744073709551615s";
    let cases: [&[&str]; 10] = [
        &["profile", "1", "--duration", HUGE],
        &["profile", "1", "--interval", HUGE],
        &["record", "--duration", HUGE, "--", "java"],
        &["record", "--interval", HUGE, "--", "java"],
        &["watch", "1", "--every", HUGE],
        &["watch", "1", "--for", HUGE],
        &["sparseness", "1", "--duration", HUGE],
        &["jcmd", "--timeout", HUGE, "1", "VM.version"],
        &["codecache", "--timeout", HUGE, "1"],
        &["watch", "1", "--every", "30days 1s"],
    ];
    for args in cases {
        assert_usage_error(args, "longer than the maximum of 30 days");
    }
}
