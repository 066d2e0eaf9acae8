//! `hch codecache` on saved outputs: captured JDK 17 and 25 text and a damaged file.

use std::path::PathBuf;

use crate::codecache_support as support;

/// A captured output without the capture script's `$ jcmd` and `[exit=0]` lines.
fn saved(name: &str) -> PathBuf {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hch-codecache/tests/data");
    let text = std::fs::read_to_string(data.join(name)).unwrap();
    let body: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("$ ") && !l.starts_with("[exit="))
        .collect();
    let p = hch_testkit::scratch_dir("codecache-files").join(name);
    std::fs::write(&p, body.join("\n")).unwrap();
    p
}

#[test]
fn captured_outputs_are_healthy_and_damaged_ones_exit_5() {
    for v in ["17", "25"] {
        let (cc, list) = (
            saved(&format!("jdk{v}_Compiler.codecache.txt")),
            saved(&format!("jdk{v}_Compiler.codelist.txt")),
        );
        let out = support::hch(&[
            "codecache",
            "--codecache-file",
            cc.to_str().unwrap(),
            "--codelist-file",
            list.to_str().unwrap(),
            "--jdk",
            v,
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains("verdicts: none"), "{text}");
    }
    let damaged = hch_testkit::scratch_dir("codecache-files").join("damaged.txt");
    std::fs::write(
        &damaged,
        "CodeCache: size=4096Kb used=10Kb max_used=10Kb free=4086Kb\n bounds [0x10, 0x2]\n",
    )
    .unwrap();
    let out = support::hch(&["codecache", "--codecache-file", damaged.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("line 2"), "{err}");
    let out = support::hch(&["codecache"]);
    assert_eq!(out.status.code(), Some(2));
}
