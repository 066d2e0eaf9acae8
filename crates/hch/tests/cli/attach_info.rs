//! `hch info` on real JVMs on every JDK found: the JSON carries what the library gathered (whose
//! values are checked against `jcmd VM.flags` in hch-target's tests), and the text says what
//! to do about a missing DebugNonSafepoints.

use std::process::Command;

use hch_testkit::{require_jdks, Jvm, Launch};
use serde_json::Value;

#[test]
fn info_as_json_and_text() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let pid = jvm.pid.to_string();
        let hch = |extra: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_hch"))
                .args(["info", &pid])
                .args(extra)
                .output()
                .unwrap()
        };
        let out = hch(&["--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let info: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(info["feature"], jdk.feature, "{info}");
        assert_eq!(info["version"], jdk.version.as_str());
        assert_eq!(info["target"], format!("pid {pid}"));
        assert_eq!(
            (
                info["debug_non_safepoints"].as_bool(),
                info["jfr_available"].as_bool()
            ),
            (Some(false), Some(true))
        );
        let text = String::from_utf8_lossy(&hch(&[]).stdout).into_owned();
        assert!(
            text.contains("-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"),
            "{text}"
        );
        assert!(
            text.contains(&format!("JDK                 {}", jdk.version)),
            "{text}"
        );
    }
}
