//! `hch jit TARGET --duration D` on running JVMs of every JDK found (the first by PID, the
//! others over JMX): the recording has the JIT events and leaves nothing behind, and on JDK 22
//! and older the profile started late shows up as the storm it causes.

use std::process::Command;
use std::time::Duration;

use hch_testkit::{free_port, jmx_agent_options, require_jdks, Jvm, Launch};
use serde_json::Value;

#[test]
fn a_late_profile_is_a_storm_on_jdk22_and_older() {
    for (i, jdk) in require_jdks().into_iter().enumerate() {
        let port = free_port();
        let launch = Launch::args(["500", "loop"]).jvm(jmx_agent_options(port));
        let mut jvm = Jvm::start(&jdk, "Deopt", &launch);
        jvm.wait_line("DONE", Duration::from_secs(120));
        let target = if i == 0 {
            jvm.pid.to_string()
        } else {
            format!("127.0.0.1:{port}")
        };
        let out = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args(["jit", &target, "--duration", "4s", "--json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{} {target}: {}",
            jdk.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["summary"]["source"]["feature"], jdk.feature);
        assert!(
            v["summary"]["compiles"].as_u64().unwrap_or(0) > 0,
            "{}: no compiles recorded",
            jdk.label()
        );
        let causes: Vec<&str> = v["storms"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["cause"].as_str())
            .collect();
        let jfr_start = causes.contains(&"jfr_start");
        assert_eq!(
            jfr_start,
            jdk.feature <= 22,
            "{} {target}: storms {causes:?}, tier-4 compiles: {}",
            jdk.label(),
            tier4(&v)
        );
        let check = jdk.jcmd(jvm.pid, "JFR.check");
        assert!(
            check.contains("No available recordings"),
            "{}: {check}",
            jdk.label()
        );
    }
}

/// The recording's C2 compiles, for a failure's message.
fn tier4(v: &Value) -> usize {
    v["timeline"]["methods"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .flat_map(|m| m["versions"].as_array().cloned().unwrap_or_default())
                .filter(|x| x["level"] == 4)
                .count()
        })
        .unwrap_or(0)
}
