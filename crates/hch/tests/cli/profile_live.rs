//! `hch profile PID` on real JVMs on every JDK found: it finds the workload's hot methods,
//! leaves no recording and no file behind (also when interrupted), and `--apply` puts the
//! hot set's directives on the JVM.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use hch_testkit::{require_jdks, Jvm, Launch};
use serde_json::Value;

fn hch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .output()
        .unwrap()
}

/// Files a given hch process (by its pid) placed in the target's tmp and left there.
fn hch_files(pid: u32, hch_pid: u32) -> Vec<String> {
    let prefix = format!("hch-{hch_pid}-");
    std::fs::read_dir(format!("/proc/{pid}/root/tmp"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// No recording runs on the JVM, and hch process `hch_pid` left no file in its tmp.
fn assert_nothing_left(jdk: &hch_testkit::Jdk, jvm: &Jvm, hch_pid: u32) {
    let check = jdk.jcmd(jvm.pid, "JFR.check");
    assert!(
        check.contains("No available recordings"),
        "{}: {check}",
        jdk.label()
    );
    let left = hch_files(jvm.pid, hch_pid);
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn hotloop(jdk: &hch_testkit::Jdk) -> Jvm {
    let dns = ["-XX:+UnlockDiagnosticVMOptions", "-XX:+DebugNonSafepoints"];
    let jvm = Jvm::start(jdk, "HotLoop", &Launch::args(["0", "2"]).jvm(dns));
    std::thread::sleep(Duration::from_secs(2)); // let C2 compile the workload
    jvm
}

#[test]
fn profile_finds_hot_methods_and_leaves_nothing_behind() {
    for jdk in require_jdks() {
        let jvm = hotloop(&jdk);
        let pid = jvm.pid.to_string();
        let child = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args([
                "profile",
                &pid,
                "--duration",
                "3s",
                "--json",
                "--dialect",
                "stock",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let hch_pid = child.id();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = v.to_string();
        let workers = text.matches("HotLoop$W").count();
        // A loaded machine (and JDK 17's deoptimization of all code when JFR first starts) leaves
        // few samples in compiled workers: a handful is enough to show they are found.
        assert!(
            workers >= 5,
            "hot set on {} names only {workers} HotLoop$W methods: {text:.2000}",
            jdk.label()
        );
        assert_nothing_left(&jdk, &jvm, hch_pid);
    }
}

#[test]
fn interrupted_profile_stops_the_recording() {
    for jdk in require_jdks() {
        let jvm = hotloop(&jdk);
        let child = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args(["profile", &jvm.pid.to_string(), "--duration", "60s"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the recording runs, then interrupt as Ctrl-C would.
        let mut running = false;
        for _ in 0..100 {
            if jdk.jcmd(jvm.pid, "JFR.check").contains("name=hch-") {
                running = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(running, "no hch recording seen on {}", jdk.label());
        let hch_pid = child.id();
        Command::new("kill")
            .args(["-INT", &hch_pid.to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_nothing_left(&jdk, &jvm, hch_pid);
    }
}

#[test]
fn profile_apply_puts_the_hot_set_on_the_jvm() {
    for jdk in require_jdks() {
        let jvm = hotloop(&jdk);
        let pid = jvm.pid.to_string();
        let dir = hch_testkit::scratch_dir("profile-apply");
        let file = dir.join(format!("hot-jdk{}.json", jdk.feature));
        let f = file.to_str().unwrap();
        // The design's dialect is refused plainly on a stock JVM, before recording starts.
        let start = std::time::Instant::now();
        let refused = hch(&[
            "profile",
            &pid,
            "--duration",
            "20s",
            "--apply",
            "--dialect",
            "hot",
        ]);
        let took = start.elapsed();
        let said = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(6), "{said}");
        assert!(said.contains("--dialect stock"), "{said}");
        assert!(
            took < Duration::from_secs(10),
            "refused only after {took:?}"
        );
        assert_nothing_left(&jdk, &jvm, 0);
        // By default the dialect is the one this JVM takes (stock), and the output says what
        // the directives do here; sizes and tiers come from the JVM's own codelist; the JFR
        // stack depth asked for is put back afterwards.
        let out = hch(&[
            "profile",
            &pid,
            "--duration",
            "2s",
            "--apply",
            "-o",
            f,
            "--stack-depth",
            "128",
        ]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stdout.contains("1 compiler directives added"), "{stdout}");
        assert!(stdout.contains("no code moves"), "{stdout}");
        assert!(
            stdout.contains("real sizes from the JVM's codelist"),
            "{stdout}"
        );
        assert!(stderr.contains("nmethods made not entrant"), "{stderr}");
        let depth = jdk.jcmd(jvm.pid, "JFR.configure");
        assert!(
            depth.contains("Stack depth: 64"),
            "{}: {depth}",
            jdk.label()
        );
        // An empty hot set changes nothing.
        let empty = hch(&["profile", &pid, "--duration", "1s", "--apply", "--top", "0"]);
        assert_eq!(empty.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&empty.stdout).contains("nothing applied"));
        let printed = jdk.jcmd(jvm.pid, "Compiler.directives_print");
        let first = std::fs::read_to_string(Path::new(f)).unwrap();
        let one = first
            .split("\"HotLoop")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a HotLoop pattern");
        let name = one
            .split('.')
            .nth(1)
            .unwrap_or(one)
            .split('(')
            .next()
            .unwrap();
        assert!(
            printed.contains(name),
            "{name} not in directives_print on {}:\n{printed}",
            jdk.label()
        );
        hch(&["directives", "clear", &pid]);
    }
}

#[test]
fn a_biased_jvm_is_warned_about_once() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "HotLoop", &Launch::args(["0", "2"]));
        let out = hch(&["profile", &jvm.pid.to_string(), "--duration", "1s"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.contains("DebugNonSafepoints"))
                .count(),
            1,
            "{}: {stderr}",
            jdk.label()
        );
    }
}

/// On JDK 11 to 22 the first JFR start deoptimizes all compiled code: the first profile of a
/// JVM that never ran JFR warns, a second does not; JDK 23 and later never warn. The not-entrant
/// count before and after shows what it cost.
#[test]
fn the_first_jfr_start_is_announced_where_it_costs_a_storm() {
    for jdk in require_jdks() {
        let jvm = hotloop(&jdk);
        let pid = jvm.pid.to_string();
        let first = hch(&["profile", &pid, "--duration", "1s"]);
        let second = hch(&["profile", &pid, "--duration", "1s"]);
        let (one, two) = (
            String::from_utf8_lossy(&first.stderr),
            String::from_utf8_lossy(&second.stderr),
        );
        assert_eq!(first.status.code(), Some(0), "{one}");
        let storm = jdk.feature < 23;
        assert_eq!(
            one.contains("JFR has never run"),
            storm,
            "{}: {one}",
            jdk.label()
        );
        assert!(!two.contains("JFR has never run"), "{}: {two}", jdk.label());
        assert!(one.contains("nmethods made not entrant"), "{one}");
    }
}
