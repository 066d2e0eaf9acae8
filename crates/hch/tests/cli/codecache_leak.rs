//! The native-wrapper leak of seed 000, reproduced on every JDK: a JVMTI agent re-registers
//! `Unsafe.park` in a parking workload. `hch watch` must alert within 60 s and `hch codecache`
//! must name `Unsafe.park`; on the same workload without the agent, neither may.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hch_testkit::Launch;

use crate::codecache_support as support;

/// Runs `hch watch` until it prints an alert line naming `Unsafe.park` or `limit` passes;
/// returns the seconds it took and the metrics page fetched meanwhile.
fn watch_until_alert(spec: &str, limit: Duration) -> Option<(f64, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args([
            "watch",
            spec,
            "--every",
            "1s",
            "--codelist-every",
            "1",
            "--for",
            "60s",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = BufReader::new(child.stderr.take().unwrap());
    let addr = err.lines().map_while(Result::ok).find_map(|l| {
        l.split("http://")
            .nth(1)
            .map(|a| a.trim_end_matches("/metrics").to_string())
    });
    let out = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        out.lines()
            .map_while(Result::ok)
            .for_each(|l| drop(tx.send(l)))
    });
    let start = Instant::now();
    let mut found = None;
    while let Ok(line) = rx.recv_timeout(limit.saturating_sub(start.elapsed())) {
        if line.starts_with("ALERT") && line.contains("Unsafe.park") {
            found = Some(start.elapsed().as_secs_f64());
            break;
        }
    }
    let metrics = addr.map(|a| http_get(&a)).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    found.map(|t| (t, metrics))
}

/// A plain HTTP/1.1 GET of /metrics.
fn http_get(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn reregistered_unsafe_park_is_found_by_watch_and_codecache() {
    for jdk in hch_testkit::require_jdks() {
        let Some(agent) = support::parkflip(&jdk) else {
            hch_testkit::skip(&jdk, "no gcc or JVMTI headers to build the JVMTI agent");
            continue;
        };
        let launch =
            Launch::args(["0", "4"]).jvm([format!("-agentpath:{}=period=100", agent.display())]);
        let t = support::start(&jdk, "Park", launch);
        let (secs, metrics) = watch_until_alert(&t.spec, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{}: no alert within 60 s", jdk.label()));
        eprintln!("{}: alert after {secs:.1} s", jdk.label());
        assert!(
            metrics.contains(&format!(
                "hch_codeheap_used_bytes{{target=\"{}\",heap=",
                t.spec
            )),
            "{metrics}"
        );
        assert!(
            metrics.contains(
                "kind=\"not_entrant_versions\",subject=\"jdk.internal.misc.Unsafe.park(ZJ)V\"} 1"
            ),
            "{metrics}"
        );
        let out = support::hch(&["codecache", &t.spec]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(6), "{}: {text}", jdk.label());
        assert!(
            text.contains("VERDICT [native-wrapper-leak]") && text.contains("Unsafe.park"),
            "{}: {text}",
            jdk.label()
        );
    }
}

#[test]
fn baseline_park_workload_has_no_alert_and_no_verdict() {
    for jdk in hch_testkit::require_jdks() {
        let t = support::start_with_jmx(&jdk, "Park", Launch::args(["0", "4"]));
        let out = support::hch(&[
            "watch",
            &t.spec,
            "--every",
            "1s",
            "--codelist-every",
            "1",
            "--for",
            "12s",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}: {text}", jdk.label());
        assert!(!text.contains("ALERT"), "{}: {text}", jdk.label());
        assert!(text.contains("alerts: none"), "{text}");
        // The same answer by pid (attach) and over JMX.
        for spec in [t.spec.as_str(), t.jmx.as_deref().unwrap()] {
            let out = support::hch(&["codecache", spec, "--json"]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{} {spec}: {stdout}",
                jdk.label()
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["report"]["verdicts"].as_array().map(Vec::len), Some(0));
            assert!(v["report"]["nmethods"].as_u64().unwrap() > 0);
            assert_eq!(v["jdk"].as_u64(), Some(u64::from(jdk.feature)));
        }
        // The JDK's jcmd as the oracle: hch discarded the analytics snapshot it made, so there is
        // no free-space section to print any more.
        if jdk.has_tool("jcmd") {
            let out = std::process::Command::new(jdk.tool("jcmd"))
                .args([t.spec.as_str(), "Compiler.CodeHeap_Analytics", "FreeSpace"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                !text.contains("F R E E   S P A C E"),
                "{}: {text}",
                jdk.label()
            );
        }
    }
}
