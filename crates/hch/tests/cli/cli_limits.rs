//! Arguments out of bounds are usage errors (exit 2) before anything runs: durations above 30
//! days (2^64-1 s used to panic adding to an Instant) and target specs that are neither a plain
//! PID nor HOST:PORT (`+6108` used to be taken for PID 6108).

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

#[test]
fn target_specs_are_strict() {
    assert_usage_error(&["jcmd", "+6108", "VM.version"], "without a sign");
    assert_usage_error(&["info", "06108"], "without leading zeros");
    assert_usage_error(&["watch", "0"], "0 is not a process");
    assert_usage_error(&["profile", "4294967295"], "largest PID");
    assert_usage_error(&["jcmd", "host:0", "VM.version"], "is not a port");
    assert_usage_error(&["jcmd", "::1:9010", "VM.version"], "[::1]:9010");
    // Commands whose TARGET is optional check it when they connect.
    assert_usage_error(&["codecache", "+1"], "without a sign");
    assert_usage_error(&["directives", "print", "h:65536"], "is not a port");
}
