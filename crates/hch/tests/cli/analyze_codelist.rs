//! `hch analyze --codelist`: blob sizes come from a real `jcmd PID Compiler.codelist` of the JVM
//! that made the recording, on every JDK found; the sizes equal what the codelist lines say.

use std::collections::HashMap;
use std::process::Command;

use hch_testkit::{require_jdks, scratch_dir, skip, Jvm, Launch};

/// Header-to-end size of every in-use compiled method (levels 1 to 4), largest per method, and
/// its highest compile level.
fn sizes_from_codelist(text: &str) -> HashMap<String, (u64, u64)> {
    let mut sizes = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 || f[1] == "0" || f[2] != "0" {
            continue;
        }
        let hex = |s: &str| {
            u64::from_str_radix(
                s.trim_matches(|c| c == '[' || c == ']' || c == ',')
                    .trim_start_matches("0x"),
                16,
            )
            .ok()
        };
        let (Some(start), Some(end)) = (hex(f[4]), hex(f[7])) else {
            continue;
        };
        let level: u64 = f[1].parse().unwrap();
        let e: &mut (u64, u64) = sizes.entry(f[3].to_string()).or_insert((0, 0));
        *e = (e.0.max(end - start), e.1.max(level));
    }
    sizes
}

#[test]
fn sizes_from_a_real_codelist_on_every_jdk() {
    for jdk in require_jdks() {
        if !jdk.has_tool("jcmd") {
            skip(&jdk, "no jcmd to capture Compiler.codelist");
            continue;
        }
        let dir = scratch_dir(&format!("analyze-codelist-{}", jdk.feature));
        let rec = dir.join("rec.jfr");
        let _ = std::fs::remove_file(&rec);
        let opts = [
            format!(
                "-XX:StartFlightRecording=duration=3s,filename={}",
                rec.display()
            ),
            "-XX:+UnlockDiagnosticVMOptions".into(),
            "-XX:+DebugNonSafepoints".into(),
        ];
        let mut jvm = Jvm::start(&jdk, "HotLoop", &Launch::args(["0", "2"]).jvm(opts));
        jvm.wait_for_file(&rec);
        let o = Command::new(jdk.tool("jcmd"))
            .arg(jvm.pid.to_string())
            .arg("Compiler.codelist")
            .output()
            .unwrap();
        drop(jvm);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let codelist = dir.join("codelist.txt");
        std::fs::write(&codelist, &text).unwrap();

        let o = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args(["analyze", "--json", "--flat", "0", "--codelist"])
            .arg(&codelist)
            .arg(&rec)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            jdk.label(),
            String::from_utf8_lossy(&o.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let hot = &json["hot"];
        assert_eq!(hot["sizes_from_codelist"], true);
        let expected = sizes_from_codelist(&text);
        let mut measured = 0u64;
        for b in hot["blobs"].as_array().unwrap() {
            let m = &b["method"];
            let key = format!(
                "{}.{}{}",
                m["class"].as_str().unwrap().replace('/', "."),
                m["name"].as_str().unwrap(),
                m["descriptor"].as_str().unwrap()
            );
            if b["measured"] == true {
                measured += 1;
                let want = expected.get(&key).copied();
                assert_eq!(
                    b["bytes"].as_u64(),
                    want.map(|w| w.0),
                    "{}: {key}",
                    jdk.label()
                );
                assert_eq!(
                    b["level"].as_u64(),
                    want.map(|w| w.1),
                    "{}: {key}",
                    jdk.label()
                );
            } else {
                assert_eq!(b["bytes"], 4096);
            }
        }
        // On an idle machine most blobs are measured; on a loaded one the first seconds run
        // mostly interpreted, so only require that sizes were found and each one is right.
        assert!(measured > 0, "{}: no size measured", jdk.label());
        assert_eq!(hot["measured_sizes"].as_u64(), Some(measured));
    }
}
