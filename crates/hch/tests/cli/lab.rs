//! `hch compact` and `hch lab` against real JVMs: the generated demo (many small, uniformly
//! hot methods) started with the WhiteBox flags. Compaction lowers the distinct 4 KiB pages
//! of the hot set as hch's own sparseness measures them on the live codelist, and the hot
//! methods are compiled afterwards; without the flags hch refuses and changes nothing; the lab
//! finds the compact layout faster than the sparse one (a loose bound: the figures live in
//! docs/BENCHMARKS.md); a workload that ends early or prints no score is a clear error; a
//! Ctrl-C leaves no JVM and no file behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hch_testkit::{agent_library, jdks, scratch_dir, skip, Jdk};

fn hch(args: &[&str], java_home: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hch"));
    c.args(args).env("HCH_AGENT_LIB", agent_library());
    if let Some(h) = java_home {
        c.env("JAVA_HOME", h);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// JDK 17 and later (the matrix: 17 and 25; 21 when present).
fn lab_jdks() -> Vec<Jdk> {
    let all = jdks();
    assert!(!all.is_empty(), "no JDK found");
    all.into_iter()
        .filter(|j| {
            let keep = j.feature >= 17;
            if !keep {
                skip(j, "the lab and compaction are tested on JDK 17 and later");
            }
            keep
        })
        .collect()
}

/// The demo's classes, written once per test.
fn demo(methods: usize, test: &str) -> (PathBuf, Vec<String>) {
    let d = hch_lab::demo::generate(hch_lab::demo::DemoKind::Small, methods, 7).unwrap();
    let dir = scratch_dir("lab").join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    d.write_to(&dir).unwrap();
    (dir, d.jvm_flags)
}

/// A JVM killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_demo(jdk: &Jdk, dir: &Path, flags: &[String], whitebox: bool) -> Guard {
    start_demo_with(jdk, dir, flags, whitebox, &[])
}

/// The demo with more JVM options (`extra`: the agent, a JMX port).
fn start_demo_with(
    jdk: &Jdk,
    dir: &Path,
    flags: &[String],
    whitebox: bool,
    extra: &[String],
) -> Guard {
    let mut c = Command::new(jdk.tool("java"));
    if whitebox {
        c.args([
            "-XX:+UnlockDiagnosticVMOptions",
            "-XX:+WhiteBoxAPI",
            "-XX:+DebugNonSafepoints",
        ]);
    }
    c.args(extra)
        .args(flags)
        .arg("-cp")
        .arg(dir)
        .args(["hchdemo.Main", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let g = Guard(c.spawn().unwrap());
    // Warm: the hot methods are compiled by C2 within a few seconds.
    std::thread::sleep(Duration::from_secs(6));
    g
}

fn pages(v: &serde_json::Value, when: &str) -> u64 {
    v[when]["pages"].as_u64().unwrap()
}

/// `hch compact TARGET` twice, as JSON: sparse first, so that there is something to win
/// back, then compact (with `more` options); checks that the first spread the hot set and
/// the second packed it into fewer than half the pages. The compact document and a label.
fn sparse_then_compact(jdk: &Jdk, target: &str, more: &[&str]) -> (serde_json::Value, String) {
    let sparse = json(&hch(
        &[
            "compact",
            target,
            "--duration",
            "4s",
            "--layout",
            "sparse",
            "--json",
        ],
        None,
    ));
    let mut args = vec!["compact", target, "--duration", "4s", "--json"];
    args.extend_from_slice(more);
    let c = json(&hch(&args, None));
    let label = format!("{}: sparse {sparse}\ncompact {c}", jdk.label());
    assert!(
        pages(&sparse, "after") > pages(&sparse, "before"),
        "{label}"
    );
    assert!(pages(&c, "after") * 2 < pages(&c, "before"), "{label}");
    (c, label)
}

#[test]
fn compact_lowers_the_pages_of_the_hot_set_and_keeps_it_compiled() {
    for jdk in lab_jdks() {
        let (dir, flags) = demo(600, "compact");
        let jvm = start_demo(&jdk, &dir, &flags, true);
        let pid = jvm.0.id().to_string();
        let svg = scratch_dir("lab").join(format!(
            "compact-{}-{}.svg",
            jdk.feature,
            std::process::id()
        ));
        let (c, label) = sparse_then_compact(&jdk, &pid, &["--svg", svg.to_str().unwrap()]);
        // Every moved method is compiled afterwards, where the codelist shows it.
        assert_eq!(c["agent"]["moved"], c["agent"]["compiled"], "{label}");
        assert_eq!(
            c["agent"]["fallback"].as_array().unwrap().len(),
            0,
            "{label}"
        );
        // Each moved method has code in the codelist afterwards. (The count of hot nmethods
        // may fall: a method with an OSR copy as well gets its standard copy back only.)
        let count = |when: &str| c[when]["nmethods"].as_u64().unwrap();
        assert!(
            count("after") >= c["agent"]["moved"].as_u64().unwrap(),
            "{label}"
        );
        assert!(count("after") + 3 >= count("before"), "{label}");
        let map = std::fs::read_to_string(&svg).unwrap();
        assert!(
            map.contains("before") && map.contains("after hch compact") && map.contains("<title>"),
            "{label}"
        );
        // The JVM runs on.
        assert!(jvm_alive(&pid), "{label}");
    }
}

#[test]
fn compact_over_jmx_goes_through_the_running_agents_mbean() {
    for jdk in lab_jdks() {
        let (dir, flags) = demo(400, "compact-jmx");
        let port = hch_testkit::free_port();
        let mut extra = hch_testkit::jmx_agent_options(port);
        // The agent runs, but its own cycle never comes: only hch compact moves code.
        extra.push(format!(
            "-agentpath:{}=delay=1h,interval=1h",
            agent_library().display()
        ));
        let jvm = start_demo_with(&jdk, &dir, &flags, true, &extra);
        let at = format!("127.0.0.1:{port}");
        let (c, label) = sparse_then_compact(&jdk, &at, &[]);
        assert_eq!(c["target"], at.as_str(), "{label}");
        assert_eq!(c["agent"]["moved"], c["agent"]["compiled"], "{label}");
        assert!(jvm_alive(&jvm.0.id().to_string()), "{label}");
    }
    // A remote JVM without the agent is refused before anything is recorded, and says how.
    let jdk = lab_jdks().remove(0);
    let (dir, flags) = demo(20, "compact-jmx-noagent");
    let port = hch_testkit::free_port();
    let _jvm = start_demo_with(
        &jdk,
        &dir,
        &flags,
        true,
        &hch_testkit::jmx_agent_options(port),
    );
    let t0 = Instant::now();
    let o = hch(
        &["compact", &format!("127.0.0.1:{port}"), "--duration", "20s"],
        None,
    );
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("no hch agent MBean") && t.contains("-agentpath"),
        "{t}"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "refused before profiling: {t}"
    );
}

fn jvm_alive(pid: &str) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn compact_refuses_a_jvm_without_whitebox_and_changes_nothing() {
    let flags = hch(&["compact", "--print-flags"], None);
    assert_eq!(
        String::from_utf8_lossy(&flags.stdout).trim(),
        "-XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI"
    );
    for jdk in lab_jdks() {
        let (dir, demo_flags) = demo(50, "refuse");
        let jvm = start_demo(&jdk, &dir, &demo_flags, false);
        let pid = jvm.0.id().to_string();
        let t0 = Instant::now();
        let o = hch(&["compact", &pid, "--duration", "20s"], None);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(6), "{t}");
        assert!(
            t.contains("-XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI")
                && t.contains("nothing was changed"),
            "{t}"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "refused before profiling: {t}"
        );
        // No agent was loaded: the JVM has no relayout answer and no hch property.
        let props = jdk.jcmd(jvm.0.id(), "VM.system_properties");
        assert!(!props.contains("hch.agent"), "{props}");
    }
}

#[test]
fn lab_finds_compact_faster_than_sparse_on_the_small_demo() {
    for jdk in lab_jdks()
        .into_iter()
        .filter(|j| j.feature == 17 || j.feature >= 25)
    {
        let dir = scratch_dir("lab");
        let (chart, maps) = (
            dir.join(format!("chart-{}-{}.svg", jdk.feature, std::process::id())),
            dir.join(format!("maps-{}-{}.svg", jdk.feature, std::process::id())),
        );
        // Other tests' JVMs share the machine's two cores: a run the noise spoiled gets one
        // more try before the bound fails.
        let mut attempt = 0;
        let (v, label) = loop {
            attempt += 1;
            let o = hch(
                &[
                    "lab",
                    "--demo",
                    "small:1500",
                    "--warmup",
                    "5s",
                    "--profile",
                    "4s",
                    "--phase",
                    "4s",
                    "--settle",
                    "2s",
                    "--rounds",
                    "2",
                    "--json",
                    "--svg",
                    chart.to_str().unwrap(),
                    "--maps",
                    maps.to_str().unwrap(),
                ],
                Some(&jdk.home),
            );
            let v = json(&o);
            let label = format!("{}: {}", jdk.label(), text(&o));
            let ratio = v["summary"]["ratios"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["layout"] == "sparse")
                .unwrap_or_else(|| panic!("{label}"))["estimate"]
                .as_f64()
                .unwrap();
            if ratio < 0.9 {
                break (v, label);
            }
            eprintln!(
                "{}: attempt {attempt}: sparse/compact {ratio:.2}",
                jdk.label()
            );
            assert!(
                attempt < 2,
                "sparse should run slower than compact: {ratio}\n{label}"
            );
        };
        let phases = v["phases"].as_array().unwrap();
        let fig = |layout: &str| {
            phases.iter().find(|p| p["layout"] == layout).unwrap()["figures"]["pages"]
                .as_u64()
                .unwrap()
        };
        assert!(fig("sparse") > 2 * fig("compact"), "{label}");
        let chart = std::fs::read_to_string(&chart).unwrap();
        assert!(
            chart.contains("sparse") && chart.contains("compact"),
            "{chart}"
        );
        let maps = std::fs::read_to_string(&maps).unwrap();
        assert!(
            maps.contains("natural") && maps.contains("sparse (built by hch"),
            "maps"
        );
    }
}

#[test]
fn a_workload_that_ends_early_or_prints_no_score_is_a_clear_error() {
    let jdk = lab_jdks().remove(0);
    let (dir, flags) = demo(100, "errors");
    let mut cmd = vec![jdk.tool("java").to_string_lossy().into_owned()];
    cmd.extend(flags.iter().cloned());
    cmd.extend([
        "-cp".into(),
        dir.to_string_lossy().into_owned(),
        "hchdemo.Main".into(),
        "2".into(),
    ]);
    let mut args = vec!["lab", "--warmup", "6s", "--"];
    args.extend(cmd.iter().map(String::as_str));
    let o = hch(&args, None);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("the workload exited")
            && t.contains("during the warm-up")
            && t.contains("| score"),
        "{t}"
    );

    let o = hch(
        &[
            "lab",
            "--demo",
            "small:100",
            "--warmup",
            "2s",
            "--profile",
            "2s",
            "--phase",
            "2s",
            "--settle",
            "1s",
            "--rounds",
            "1",
            "--score",
            "no such line ([0-9]+)",
        ],
        Some(&jdk.home),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("printed no score"), "{t}");
    let o = hch(&["lab", "--score", "no group", "--demo", "small:10"], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// Processes whose command line holds `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                out.push(cmd);
            }
        }
    }
    out
}

#[test]
fn ctrl_c_leaves_no_jvm_and_no_file_behind() {
    let jdk = lab_jdks().remove(0);
    let tmp = scratch_dir("lab").join(format!("ctrl-c-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args([
            "lab",
            "--demo",
            "small:300",
            "--warmup",
            "3s",
            "--profile",
            "3s",
            "--phase",
            "30s",
            "--rounds",
            "3",
        ])
        .env("HCH_AGENT_LIB", agent_library())
        .env("JAVA_HOME", &jdk.home)
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let hch_pid = child.id();
    // In the middle of the natural phase, or of a re-layout.
    std::thread::sleep(Duration::from_secs(12));
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(hch_pid as i32).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(40),
        "hch ended within the cancel wait"
    );
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(130), "{t}");
    let left: Vec<String> = processes_with(&tmp.to_string_lossy())
        .into_iter()
        .filter(|c| c.contains("hchdemo.Main"))
        .collect();
    assert!(left.is_empty(), "JVMs left: {left:?}");
    let files: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(files.is_empty(), "files left in TMPDIR: {files:?}");
    let relayout_files: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("hch-relayout-"))
        .collect();
    assert!(relayout_files.is_empty(), "{relayout_files:?}");
}

#[test]
fn the_agents_cycle_compacts_the_hot_set_with_compact_whitebox() {
    let jdk = lab_jdks().remove(0);
    let (dir, flags) = demo(400, "agent-compact");
    let log = scratch_dir("lab").join(format!("agent-compact-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let agent = format!(
        "-agentpath:{}=delay=4s,duration=3s,interval=1h,dialect=stock,compact=whitebox,log={}",
        agent_library().display(),
        log.display()
    );
    let mut c = Command::new(jdk.tool("java"));
    c.args([
        "-XX:+UnlockDiagnosticVMOptions",
        "-XX:+WhiteBoxAPI",
        "-XX:+DebugNonSafepoints",
        &agent,
    ])
    .args(&flags)
    .arg("-cp")
    .arg(&dir)
    .args(["hchdemo.Main", "120"])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let _jvm = Guard(c.spawn().unwrap());
    let t0 = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("cycle 1:") || t0.elapsed() > Duration::from_secs(90) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        text.contains("cycle 1:") && text.contains("compacted "),
        "{}: {text}",
        jdk.label()
    );
}
