//! `hch jit` on what real JVMs wrote: one run of `examples/Deopt.java` per JDK found, with a
//! JFR recording, a LogCompilation file, an `-Xlog:jit*` log and PrintCompilation output all at
//! once. The deoptimizations it makes on purpose show up with their reasons; the counts equal
//! the JDK's own `jfr print`; each log parses, and cut at random points still gives its
//! complete part.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hch_jit::{EndKind, Format, Timeline};
use hch_testkit::{require_jdks, Jdk, Rng};
use serde_json::Value;

/// What one run of the workload left behind.
struct Capture {
    jdk: Jdk,
    jfr: PathBuf,
    xml: PathBuf,
    xlog: PathBuf,
    stdout: PathBuf,
}

/// One run per JDK, shared by the tests of this file.
fn captures() -> &'static [Capture] {
    static ALL: OnceLock<Vec<Capture>> = OnceLock::new();
    ALL.get_or_init(|| require_jdks().into_iter().map(capture).collect())
}

fn capture(jdk: Jdk) -> Capture {
    let dir = hch_testkit::scratch_dir("jit-logs").join(format!("jdk{}", jdk.feature));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let classes = hch_testkit::compile(&jdk, &hch_testkit::workload_source("Deopt"));
    // hch jit's own settings: the JIT events and samples (JDK 11 has no `event#setting=` option).
    let jfc = dir.join("jit.jfc");
    let settings = hch_jit::record_options(Duration::from_secs(600), Duration::from_millis(20));
    std::fs::write(&jfc, settings.settings_xml()).unwrap();
    let c = Capture {
        jfr: dir.join("rec.jfr"),
        xml: dir.join("compilation.xml"),
        xlog: dir.join("jit.log"),
        stdout: dir.join("stdout.txt"),
        jdk,
    };
    let mut child = Command::new(c.jdk.tool("java"))
        .arg("-cp")
        .arg(&classes)
        .arg("-XX:+UnlockDiagnosticVMOptions")
        .arg("-XX:+LogCompilation")
        .arg(format!("-XX:LogFile={}", c.xml.display()))
        .arg(format!("-Xlog:jit*=debug:file={}", c.xlog.display()))
        .arg("-XX:+PrintCompilation")
        .arg(format!(
            "-XX:StartFlightRecording:filename={},settings={}",
            c.jfr.display(),
            jfc.display()
        ))
        .args(["Deopt", "800", "exit"])
        .current_dir(&dir)
        .stdout(std::fs::File::create(&c.stdout).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{}: the Deopt workload did not finish", c.jdk.label());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{}: Deopt exited {status}", c.jdk.label());
    c
}

fn hch_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "hch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read(path: &Path) -> (Timeline, Option<hch_jit::Error>) {
    let r = hch_jit::read_file(std::fs::File::open(path).unwrap(), path).unwrap();
    (r.timeline, r.error)
}

fn method<'t>(t: &'t Timeline, prefix: &str) -> &'t hch_jit::Method {
    t.methods
        .iter()
        .find(|m| m.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in the timeline"))
}

/// The deoptimizations the workload makes on purpose are there, with their reasons.
fn assert_planned_deopts(t: &Timeline, jdk: &Jdk, what: &str) {
    let type_check = |r: &str| r.contains("class_check") || r.contains("type_check");
    let area = method(t, "Deopt.totalArea");
    assert!(
        area.deopts.iter().any(|d| type_check(&d.reason)),
        "{} {what}: no type-check trap in totalArea: {:?}",
        jdk.label(),
        reasons(area)
    );
    let branchy = method(t, "Deopt.branchy");
    assert!(
        branchy.deopts.iter().any(|d| d.reason == "unstable_if"),
        "{} {what}: no unstable_if in branchy: {:?}",
        jdk.label(),
        reasons(branchy)
    );
    let chorus = method(t, "Deopt.chorus");
    let broken = chorus
        .versions
        .iter()
        .filter_map(|v| v.end.as_ref())
        .any(|e| e.kind == EndKind::Dependency);
    assert!(
        broken,
        "{} {what}: loading Cat did not end a version of chorus: {:?}",
        jdk.label(),
        chorus
            .versions
            .iter()
            .map(|v| (v.compile_id, v.level, v.end.as_ref().map(|e| e.kind)))
            .collect::<Vec<_>>()
    );
}

/// A method's deoptimization reasons with counts.
fn reasons(m: &hch_jit::Method) -> BTreeMap<String, usize> {
    let mut r = BTreeMap::new();
    for d in &m.deopts {
        *r.entry(d.reason.to_string()).or_default() += 1;
    }
    r
}

#[test]
fn jfr_deopts_have_their_reasons_and_match_the_jdks_jfr_print() {
    for c in captures() {
        if c.jdk.feature < 14 {
            hch_testkit::skip(&c.jdk, "jdk.Deoptimization exists from JDK 14 on");
            continue;
        }
        let (t, e) = read(&c.jfr);
        assert!(e.is_none(), "{}: {e:?}", c.jdk.label());
        assert_planned_deopts(&t, &c.jdk, "JFR");
        // The JDK's own counts, per compile id, reason and action.
        let mut want: BTreeMap<(i64, String, String), usize> = BTreeMap::new();
        for ev in c.jdk.jfr_events(&c.jfr, "jdk.Deoptimization") {
            let v = &ev["values"];
            let key = (
                v["compileId"].as_i64().unwrap(),
                v["reason"].as_str().unwrap().to_string(),
                v["action"].as_str().unwrap().to_string(),
            );
            *want.entry(key).or_default() += 1;
        }
        let json = hch_json(&["jit", c.jfr.to_str().unwrap(), "--json"]);
        let mut got: BTreeMap<(i64, String, String), usize> = BTreeMap::new();
        for m in json["timeline"]["methods"].as_array().unwrap() {
            for d in m["deopts"].as_array().unwrap() {
                let key = (
                    d["compile_id"].as_i64().unwrap(),
                    d["reason"].as_str().unwrap().to_string(),
                    d["action"].as_str().unwrap().to_string(),
                );
                *got.entry(key).or_default() += 1;
            }
        }
        assert_eq!(got, want, "{}", c.jdk.label());
        let summary = c.jdk.jfr_summary(&c.jfr);
        let compiles = summary.get("jdk.Compilation").map_or(0, |s| s.0);
        assert_eq!(
            json["summary"]["compiles"].as_u64(),
            Some(compiles),
            "{}",
            c.jdk.label()
        );
        let traps = summary.get("jdk.Deoptimization").map_or(0, |s| s.0);
        assert_eq!(json["summary"]["traps"].as_u64(), Some(traps));
    }
}

#[test]
fn logcompilation_and_xlog_of_real_jvms_parse() {
    for c in captures() {
        let (x, e) = read(&c.xml);
        assert!(e.is_none(), "{}: {e:?}", c.jdk.label());
        assert_eq!(x.source.format, Some(Format::LogCompilation));
        assert_eq!(x.source.feature, Some(c.jdk.feature));
        assert_planned_deopts(&x, &c.jdk, "LogCompilation");
        // Every runtime trap of the file, and one compile per compile id.
        let text = std::fs::read_to_string(&c.xml).unwrap();
        let traps = text.matches("<uncommon_trap thread=").count();
        let got: usize = x
            .methods
            .iter()
            .flat_map(|m| &m.deopts)
            .filter(|d| !d.frame)
            .count();
        assert_eq!(got, traps, "{}", c.jdk.label());
        let ids = compile_ids(&text, &["<task_queued ", "<nmethod ", "<task "]);
        let versions: usize = x.methods.iter().map(|m| m.versions.len()).sum();
        assert_eq!(versions, ids, "{}", c.jdk.label());

        let (l, e) = read(&c.xlog);
        assert!(e.is_none(), "{}: {e:?}", c.jdk.label());
        assert_eq!(l.source.format, Some(Format::Xlog));
        let compiles = xlog_compile_lines(&std::fs::read_to_string(&c.xlog).unwrap());
        let versions: usize = l.methods.iter().map(|m| m.versions.len()).sum();
        assert_eq!(versions, compiles, "{}", c.jdk.label());

        // PrintCompilation on stdout, mixed with the workload's own lines; compiler threads
        // print without a lock, so two lines can also run into each other: such a line is
        // skipped and reported, the others are read.
        let (p, e) = read(&c.stdout);
        let skipped = match &e {
            None => 0,
            Some(hch_jit::Error::BadRecord { more, .. }) => 1 + *more as usize,
            Some(other) => panic!("{}: {other}", c.jdk.label()),
        };
        assert_eq!(p.source.format, Some(Format::PrintCompilation));
        // A compile line printed into one of the workload's own (six) lines is lost there.
        let versions: usize = p.methods.iter().map(|m| m.versions.len()).sum();
        assert!(
            versions <= compiles && versions + 6 + 2 * skipped >= compiles,
            "{}: {versions} compiles on stdout ({skipped} lines skipped), {compiles} in the log",
            c.jdk.label()
        );
    }
}

#[test]
fn logs_cut_at_random_points_keep_their_complete_part() {
    let mut rng = Rng(0x6a17_2026);
    for c in captures() {
        let xml = std::fs::read(&c.xml).unwrap();
        let xlog = std::fs::read(&c.xlog).unwrap();
        for _ in 0..6 {
            let cut = rng.below(xml.len());
            let prefix = &xml[..cut];
            let r = hch_jit::read_bytes(prefix, Path::new("cut.xml"));
            let Ok(r) = r else {
                continue; // cut before `<hotspot_log`: nothing to read
            };
            let text = String::from_utf8_lossy(prefix);
            let done = complete_tags(&text, "<hotspot_log_done") > 0;
            assert_eq!(
                r.error.is_some(),
                !done,
                "{} cut {cut}: {:?}",
                c.jdk.label(),
                r.error
            );
            let whole_traps = complete_tags(&text, "<uncommon_trap thread=");
            let got: usize = r
                .timeline
                .methods
                .iter()
                .flat_map(|m| &m.deopts)
                .filter(|d| !d.frame)
                .count();
            assert_eq!(got, whole_traps, "{} xml cut at {cut}", c.jdk.label());
            let ids = compile_ids(&text, &["<task_queued ", "<nmethod ", "<task "]);
            let versions: usize = r.timeline.methods.iter().map(|m| m.versions.len()).sum();
            assert_eq!(versions, ids, "{} xml cut at {cut}", c.jdk.label());
        }
        for _ in 0..6 {
            let cut = rng.below(xlog.len());
            let prefix = &xlog[..cut];
            let Ok(r) = hch_jit::read_bytes(prefix, Path::new("cut.log")) else {
                continue; // cut before the first compile line
            };
            let text = String::from_utf8_lossy(prefix);
            let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
            let mid_line = complete.len() < text.len();
            assert_eq!(
                matches!(r.error, Some(hch_jit::Error::Truncated { .. })),
                mid_line,
                "{} xlog cut at {cut}: {:?}",
                c.jdk.label(),
                r.error
            );
            let versions: usize = r.timeline.methods.iter().map(|m| m.versions.len()).sum();
            assert_eq!(
                versions,
                xlog_compile_lines(complete),
                "{} xlog cut at {cut}",
                c.jdk.label()
            );
        }
    }
}

/// Tags starting with `start` whose `>` lies within the text.
fn complete_tags(text: &str, start: &str) -> usize {
    text.match_indices(start)
        .filter(|(i, _)| text[*i..].contains('>'))
        .count()
}

/// Distinct compile ids of the complete tags of these kinds.
fn compile_ids(text: &str, tags: &[&str]) -> usize {
    let mut ids = std::collections::HashSet::new();
    for t in tags {
        for (i, _) in text.match_indices(t) {
            let tag = &text[i..];
            let Some(end) = tag.find('>') else { continue };
            let tag = &tag[..end];
            if let Some(id) = tag
                .split("compile_id='")
                .nth(1)
                .and_then(|r| r.split('\'').next())
            {
                ids.insert(id.to_string());
            }
        }
    }
    ids.len()
}

/// Distinct compile ids of an -Xlog:jit log's `jit,compilation` lines.
fn xlog_compile_lines(text: &str) -> usize {
    let mut ids = std::collections::HashSet::new();
    for line in text.lines().filter(|l| l.contains("[jit,compilation")) {
        let body = line.rsplit(']').next().unwrap_or("");
        if let Some(id) = body.split_whitespace().next() {
            if id.bytes().all(|b| b.is_ascii_digit()) {
                ids.insert(id.to_string());
            }
        }
    }
    ids.len()
}

#[test]
fn the_hot_set_of_analyze_is_overlaid() {
    for c in captures() {
        let jfr = c.jfr.to_str().unwrap();
        let analysis = hch_json(&["analyze", jfr, "--json"]);
        let hot_file = c.jfr.with_extension("hot.json");
        std::fs::write(&hot_file, analysis.to_string()).unwrap();
        let hot_names: Vec<String> = analysis["hot"]["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let m = &b["method"];
                let class = m["class"].as_str().unwrap().replace('/', ".");
                format!(
                    "{class}.{}{}",
                    m["name"].as_str().unwrap(),
                    m["descriptor"].as_str().unwrap()
                )
            })
            .collect();
        assert!(!hot_names.is_empty(), "{}: no hot set", c.jdk.label());
        // From analyze's JSON, and computed from the recording itself: the same overlay.
        for hot in [hot_file.to_str().unwrap(), jfr] {
            let v = hch_json(&["jit", jfr, "--hot", hot, "--json"]);
            let rows = v["hot"].as_array().unwrap();
            let overlaid: Vec<&str> = rows.iter().filter_map(|r| r["method"].as_str()).collect();
            assert!(
                !overlaid.is_empty() && overlaid.iter().all(|m| hot_names.iter().any(|h| h == m)),
                "{} --hot {hot}: {overlaid:?} not within {hot_names:?}",
                c.jdk.label()
            );
            assert!(rows
                .iter()
                .all(|r| r["hot"] == true && r["hot_percent"].is_f64()));
            let deopt = overlaid.iter().any(|m| m.starts_with("Deopt."));
            assert!(
                deopt,
                "{}: no Deopt method among the hot: {overlaid:?}",
                c.jdk.label()
            );
        }
    }
}
