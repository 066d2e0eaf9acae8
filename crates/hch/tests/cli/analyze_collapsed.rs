//! `hch analyze` on collapsed stacks (async-profiler `-a -o collapsed` lines): the flat text, the
//! hot set and the directives, and bad input exiting 5 with the line number.

use std::process::Command;

fn analyze(name: &str, args: &[&str], input: &str) -> std::process::Output {
    let dir = hch_testkit::scratch_dir("analyze-collapsed");
    let path = dir.join(format!("{name}-{}.collapsed", std::process::id()));
    std::fs::write(&path, input).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hch"))
        .arg("analyze")
        .args(args)
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    o
}

const INPUT: &str = "\
java/lang/Thread.run_[0];App.main_[j];App.work_[i];App.leaf_[i] 6
java/lang/Thread.run_[0];App.main_[j] 2
java/lang/Thread.run_[0];App.other_[1] 3
java/lang/Thread.run_[0];App.slow_[0] 1
start_thread;finish_task_switch_[k] 1
";

#[test]
fn flat_text_and_hot_set_from_annotated_collapsed_stacks() {
    let o = analyze("flat", &["-a", "--flat", "3"], INPUT);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let head = "--- Execution profile ---\nTotal samples       : 13\n\n       total  percent  samples  top\n  ----------  -------  -------  ---\n           6   46.15%        6  App.leaf_[i]\n           3   23.08%        3  App.other_[1]\n           2   15.38%        2  App.main_[j]\n";
    assert!(out.starts_with(head), "{out}");
    assert!(out.contains("Hot set: 2 code blobs cover 100.0% of 11 samples in compiled code (13 samples in all, 2 with an interpreted or native top)"), "{out}");
}

#[test]
fn collapsed_round_trip_and_stock_directives() {
    let dir = hch_testkit::scratch_dir("analyze-collapsed");
    let out_file = dir.join("stock.json");
    let o = analyze(
        "round",
        &[
            "--collapsed",
            "-a",
            "--dialect",
            "stock",
            "-o",
            out_file.to_str().unwrap(),
        ],
        INPUT,
    );
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap(), INPUT);
    let d = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(d, "[\n  {\n    match: [\n      \"App.main\",\n      \"App.other\"\n    ],\n    c2: { Enable: true }\n  }\n]\n");
}

#[test]
fn a_bad_line_exits_5_naming_the_line() {
    let o = analyze("bad", &[], "a;b 1\na;b one\n");
    assert_eq!(o.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2"));
}

#[test]
fn several_inputs_merge_and_limits_cut_the_hot_set() {
    let dir = hch_testkit::scratch_dir("analyze-collapsed");
    let (a, b) = (dir.join("merge-a.collapsed"), dir.join("merge-b.collapsed"));
    std::fs::write(&a, INPUT).unwrap();
    std::fs::write(&b, "java/lang/Thread.run_[0];App.other_[1] 7\n").unwrap();
    let run = |extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_hch"))
            .arg("analyze")
            .args(["--json"])
            .args(extra)
            .arg(&a)
            .arg(&b)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let all = run(&[]);
    assert_eq!(all["flat"]["total_samples"], 20);
    assert_eq!(all["hot"]["blobs"][0]["method"]["name"], "other");
    assert_eq!(all["hot"]["blobs"][0]["samples"], 10);
    let cut = run(&["--coverage", "50"]);
    assert_eq!(cut["hot"]["blobs"].as_array().unwrap().len(), 1);
    assert_eq!(cut["hot"]["cutoff"], "Coverage");
    let cut = run(&["--budget", "4K"]);
    assert_eq!(cut["hot"]["cutoff"], "Budget");
    let cut = run(&["--min-samples", "9"]);
    assert_eq!(cut["hot"]["cutoff"], "MinSamples");
}

#[test]
fn binary_garbage_and_a_broken_jfr_header_exit_5() {
    let dir = hch_testkit::scratch_dir("analyze-collapsed");
    for (name, bytes) in [
        ("garbage.bin", &b"\x00\x01\x02binary"[..]),
        ("broken.jfr", &b"FLR\x00\x00\x02\x00\x01garbage"[..]),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_hch"))
            .arg("analyze")
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(5),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains(name));
    }
}

/// async-profiler's flat text as input: hch's own flat text of an async-profiler recording,
/// read back, prints the same rows byte for byte (the flat view only needs leaf frames).
#[test]
fn flat_text_reads_back_into_the_same_flat_text() {
    use std::io::Read;
    let gz = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hch-jfr/tests/data/grafana/async-profiler.jfr.gz");
    let mut jfr = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(gz).unwrap())
        .read_to_end(&mut jfr)
        .unwrap();
    let dir = hch_testkit::scratch_dir("analyze-flat");
    let rec = dir.join(format!("ap-{}.jfr", std::process::id()));
    std::fs::write(&rec, jfr).unwrap();
    let flat = |input: &std::path::Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args(["analyze", "-a", "--flat", "100000"])
            .arg(input)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        text.split("\nHot set:").next().unwrap().to_string()
    };
    let first = flat(&rec);
    let text = dir.join(format!("ap-{}.flat.txt", std::process::id()));
    std::fs::write(&text, &first).unwrap();
    let second = flat(&text);
    assert!(first.lines().count() > 10, "{first}");
    assert_eq!(second, first);
    let _ = std::fs::remove_file(&rec);
    let _ = std::fs::remove_file(&text);
}
