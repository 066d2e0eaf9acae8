//! A full code cache on every JDK: generated classes with hot methods under a small
//! `-XX:ReservedCodeCacheSize` (flushing off so it fills within seconds; the 120 s bound is for
//! a machine busy with other builds). `hch codecache` must report compilation disabled and why,
//! with the JVM's own `Compiler.codecache` as the oracle.

use std::time::{Duration, Instant};

use hch_testkit::Launch;

use crate::codecache_support as support;

#[test]
fn full_cache_reports_compilation_disabled_and_why() {
    for jdk in hch_testkit::require_jdks() {
        let launch = Launch::args(["200", "10", "60"])
            .jvm(["-XX:ReservedCodeCacheSize=5m", "-XX:-UseCodeCacheFlushing"]);
        let t = support::start(&jdk, "CodeCacheFill", launch);
        let start = Instant::now();
        let v = loop {
            let out = support::hch(&["codecache", &t.spec, "--json", "--no-analytics"]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if out.status.code() == Some(6) && v["report"]["compilation"]["enabled"] == false {
                break v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{}: not full after 120 s: {v}",
                jdk.label()
            );
            std::thread::sleep(Duration::from_secs(2));
        };
        eprintln!(
            "{}: full after {:.0} s",
            jdk.label(),
            start.elapsed().as_secs_f64()
        );
        let verdicts = v["report"]["verdicts"].as_array().unwrap();
        let disabled = verdicts
            .iter()
            .find(|x| x["id"] == "compilation-disabled")
            .expect("compilation-disabled verdict");
        assert!(
            disabled["title"].as_str().unwrap().contains("full"),
            "{disabled}"
        );
        assert_eq!(
            v["report"]["compilation"]["reason"],
            "not enough contiguous free space left"
        );
        assert!(v["report"]["full_count"].as_u64().unwrap() >= 1);
        let text =
            String::from_utf8_lossy(&support::hch(&["codecache", &t.spec]).stdout).to_string();
        assert!(
            text.contains("compilation: DISABLED (not enough contiguous free space left)"),
            "{text}"
        );
    }
}
