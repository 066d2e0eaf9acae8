//! `hch sparseness` on a live HotLoop JVM (every JDK) with a JFR recording of that JVM as the
//! hot set, and on captured outputs with a directives file.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hch_testkit::Launch;

use crate::codecache_support as support;

/// Pages touched by the placed ranges, counted here without the library.
fn pages(placed: &[serde_json::Value], size: u64) -> usize {
    let mut set = BTreeSet::new();
    for p in placed {
        let (a, b) = (p["start"].as_u64().unwrap(), p["end"].as_u64().unwrap());
        set.extend(a / size..=(b - 1) / size);
    }
    set.len()
}

#[test]
fn hot_loop_methods_are_placed_and_counted() {
    for jdk in hch_testkit::require_jdks() {
        let dir = hch_testkit::scratch_dir(&format!("sparseness-jdk{}", jdk.feature));
        let rec = dir.join("rec.jfr");
        let _ = std::fs::remove_file(&rec);
        let jfr = format!(
            "-XX:StartFlightRecording:filename={},settings=profile,duration=5s",
            rec.display()
        );
        let t = support::start(&jdk, "HotLoop", Launch::args(["0", "2"]).jvm([jfr]));
        let start = Instant::now();
        while !rec.exists() || std::fs::metadata(&rec).map(|m| m.len()).unwrap_or(0) == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{}: no recording",
                jdk.label()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        std::thread::sleep(Duration::from_millis(500));
        let svg = dir.join("map.svg");
        let out = support::hch(&[
            "sparseness",
            &t.spec,
            "--profile",
            rec.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            jdk.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let s = &v["sparseness"];
        let placed = s["placed"].as_array().unwrap();
        assert!(!placed.is_empty(), "{}: {v}", jdk.label());
        // The recording covers the JVM's first 5 s, warm-up included: HotLoop's code leads.
        let class = |p: &serde_json::Value| p["method"]["class"].as_str().unwrap().to_string();
        assert!(
            placed
                .iter()
                .take(5)
                .any(|p| class(p).starts_with("HotLoop")),
            "{}: {v}",
            jdk.label()
        );
        let all = &s["overall"];
        assert_eq!(all["pages"].as_u64().unwrap() as usize, pages(placed, 4096));
        assert_eq!(
            all["regions"].as_u64().unwrap() as usize,
            pages(placed, 2 << 20)
        );
        assert!(all["packed_pages"].as_u64() <= all["pages"].as_u64());
        assert!(all["density"].as_f64() <= all["packed_density"].as_f64());
        let per_heap: u64 = s["per_heap"]
            .as_object()
            .unwrap()
            .values()
            .map(|f| f["nmethods"].as_u64().unwrap())
            .sum();
        assert_eq!(per_heap, all["nmethods"].as_u64().unwrap());
        let map = std::fs::read_to_string(&svg).unwrap();
        assert!(
            map.starts_with("<svg") && map.contains("<title>HotLoop$W"),
            "{}",
            jdk.label()
        );
        let _ = std::fs::remove_file(&rec);
        // A live profile of the JVM by pid: JFR through the attach mechanism, then the codelist.
        let out = support::hch(&["sparseness", &t.spec, "--duration", "4s", "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            jdk.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let placed = v["sparseness"]["placed"].as_array().unwrap();
        // HotLoop's own methods lead (its W<k>.run workers are mostly inlined into them).
        let class = |p: &serde_json::Value| p["method"]["class"].as_str().unwrap().to_string();
        assert!(
            placed.iter().any(|p| class(p) == "HotLoop"),
            "{}: {v}",
            jdk.label()
        );
    }
}

#[test]
fn directives_file_on_captured_outputs() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hch-codecache/tests/data");
    let dir = hch_testkit::scratch_dir("sparseness-files");
    let strip = |name: &str| {
        let text = std::fs::read_to_string(data.join(name)).unwrap();
        let body: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("$ ") && !l.starts_with("[exit="))
            .collect();
        let p = dir.join(name);
        std::fs::write(&p, body.join("\n")).unwrap();
        p
    };
    let (list, cc) = (
        strip("jdk25_Compiler.codelist.txt"),
        strip("jdk25_Compiler.codecache.txt"),
    );
    let directives = dir.join("hot.json");
    std::fs::write(&directives, r#"[{"match": ["java/lang/Object.hashCode()I", "java.lang.String::hashCode", "*.foo"], "c2": {"Exclude": false}}]"#).unwrap();
    let out = support::hch(&[
        "sparseness",
        "--codelist-file",
        list.to_str().unwrap(),
        "--codecache-file",
        cc.to_str().unwrap(),
        "--jdk",
        "25",
        "--profile",
        directives.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hot_methods"], 2, "the wildcard pattern is left out");
    let names: BTreeSet<&str> = v["sparseness"]["placed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["method"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["hashCode"]));
}
