//! The generated workload runs on every JDK found and prints score lines that `score` reads.

use hch_lab::demo::{generate, DemoKind};
use hch_lab::score::{parse_line, ScoreSpec};
use std::process::Command;

#[test]
fn demo_runs_and_scores_on_every_jdk() {
    let demo = generate(DemoKind::Small, 200, 42).unwrap();
    let dir = hch_testkit::scratch_dir("lab-demo-200");
    demo.write_to(&dir).unwrap();
    let jdks = hch_testkit::jdks();
    if jdks.is_empty() {
        eprintln!("SKIP: no JDK found");
    }
    for jdk in jdks {
        let out = Command::new(jdk.tool("java"))
            .args(&demo.jvm_flags)
            .arg("-cp")
            .arg(&dir)
            .args([&demo.main_class, "2"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stdout}\n{stderr}", jdk.label());
        let scores: Vec<_> = stdout
            .lines()
            .filter_map(|l| parse_line(&ScoreSpec::Auto, l))
            .collect();
        assert!(
            !scores.is_empty(),
            "{}: no score line in\n{stdout}",
            jdk.label()
        );
        for s in &scores {
            assert!(
                s.value > 0.0 && s.higher_is_better,
                "{}: {s:?}",
                jdk.label()
            );
            assert_eq!(s.unit.as_deref(), Some("Mcalls/s"));
        }
        let score_lines = stdout.lines().filter(|l| l.starts_with("score ")).count();
        assert_eq!(score_lines, scores.len(), "{}: {stdout}", jdk.label());
        let sink = stdout.lines().last().and_then(|l| l.strip_prefix("sink "));
        assert!(
            sink.is_some_and(|v| v.parse::<i32>().is_ok()),
            "{}: {stdout}",
            jdk.label()
        );
        eprintln!("{}: {}", jdk.label(), stdout.replace('\n', " | "));
    }
}
