//! The agent in real JVMs started with `-agentpath`, on every JDK found: a cycle puts the hot
//! methods' directives on the stack, a changed workload gets them replaced and a stable one is
//! left alone, bad options leave the JVM running, and a SIGTERM during a recording ends the
//! JVM promptly with nothing left behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hch_testkit::{agent_library, require_jdks, scratch_dir, Jdk, Jvm, Launch};

/// JVM options that load the agent with `options`, plus exact samples.
fn with_agent(options: &str) -> Vec<String> {
    vec![
        "-XX:+UnlockDiagnosticVMOptions".into(),
        "-XX:+DebugNonSafepoints".into(),
        format!("-agentpath:{}={options}", agent_library().display()),
    ]
}

/// A fresh log file for one test and JDK.
fn log_file(test: &str, jdk: &Jdk) -> PathBuf {
    let p = scratch_dir("agent").join(format!("{test}-{}-{}.log", jdk.feature, std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// Waits until the log has a line containing `needle` and returns the log; panics after
/// `timeout` with the log so far.
fn wait_log(log: &Path, needle: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in {} after {timeout:?}:\n{text}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `matching:` lines of the agent's directive: the top of the stack.
fn top_directive(jdk: &Jdk, pid: u32) -> String {
    let print = jdk.jcmd(pid, "Compiler.directives_print");
    let top = print.split("Directive:").nth(1).unwrap_or_default();
    top.lines()
        .find(|l| l.trim_start().starts_with("matching:"))
        .unwrap_or_default()
        .to_string()
}

/// Directives on the stack, not counting the default.
fn stack_size(jdk: &Jdk, pid: u32) -> usize {
    let print = jdk.jcmd(pid, "Compiler.directives_print");
    print
        .lines()
        .filter(|l| l.starts_with("Directive:") && !l.contains("(default)"))
        .count()
}

#[test]
fn agentpath_applies_the_hot_methods_directives_after_one_cycle() {
    for jdk in require_jdks() {
        let log = log_file("agentpath", &jdk);
        let opts = format!(
            "delay=1s,duration=3s,interval=1h,dialect=stock,log={}",
            log.display()
        );
        let launch = Launch::args(["0", "2"]).jvm(with_agent(&opts));
        let jvm = Jvm::start(&jdk, "HotLoop", &launch);
        let text = wait_log(&log, "cycle 1:", Duration::from_secs(60));
        assert!(
            text.contains("(loaded at start-up)") && text.contains("JVMTI capabilities held: none"),
            "{text}"
        );
        assert!(text.contains("applied "), "{text}");
        let top = top_directive(&jdk, jvm.pid);
        assert!(
            top.contains("HotLoop$W"),
            "{}: the top directive is not the hot set's: {top}",
            jdk.label()
        );
        assert_eq!(stack_size(&jdk, jvm.pid), 1);
    }
}

#[test]
fn a_changed_workload_gets_its_directives_replaced_a_stable_one_is_left_alone() {
    for jdk in require_jdks() {
        let log = log_file("phases", &jdk);
        let opts = format!(
            "delay=1s,duration=2s,interval=5s,dialect=stock,log={}",
            log.display()
        );
        let launch = Launch::args(["30", "2"]).jvm(with_agent(&opts));
        let mut jvm = Jvm::start(&jdk, "PhaseShift", &launch);
        let text = wait_log(&log, "cycle 2:", Duration::from_secs(60));
        assert!(
            text.contains("left alone ("),
            "{}: phase A twice:\n{text}",
            jdk.label()
        );
        let top = top_directive(&jdk, jvm.pid);
        assert!(
            top.contains("PhaseShift$A") && !top.contains("PhaseShift$B"),
            "{top}"
        );
        jvm.wait_line("PHASE B", Duration::from_secs(60));
        // A cycle that straddles the switch may apply a mixed set, which then covers phase B
        // well enough to be left alone: replaced means phase B's methods are in force.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let top = top_directive(&jdk, jvm.pid);
            if top.contains("PhaseShift$B") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: never replaced:\n{}",
                jdk.label(),
                std::fs::read_to_string(&log).unwrap()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        assert_eq!(
            stack_size(&jdk, jvm.pid),
            1,
            "the agent replaced its own directive"
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("replaced "), "{text}");
    }
}

#[test]
fn bad_options_leave_the_jvm_running_without_the_agent() {
    let missing = scratch_dir("agent").join("no-such-dir").join("a.log");
    let cases = [
        ("colour=red", "option `colour`: unknown key"),
        ("delay=soon", "option `delay`: `soon` is not a duration"),
        ("budget=0", "option `budget`: 0 leaves no room"),
        (&*format!("log={}", missing.display()), "does not exist"),
    ];
    for jdk in require_jdks() {
        for (opts, said) in &cases {
            let err = scratch_dir("agent").join(format!(
                "bad-{}-{}.err",
                jdk.feature,
                std::process::id()
            ));
            let launch = Launch {
                stderr: Some(err.clone()),
                ..Launch::args(["0", "1"]).jvm(with_agent(opts))
            };
            let mut jvm = Jvm::start(&jdk, "Park", &launch);
            std::thread::sleep(Duration::from_millis(300));
            assert!(jvm.alive(), "{}: {opts} ended the JVM", jdk.label());
            let text = std::fs::read_to_string(&err).unwrap();
            assert!(
                text.contains("hch-agent: disabled, the JVM runs on without it")
                    && text.contains(said),
                "{opts}: {text}"
            );
            assert_eq!(text.lines().count(), 1, "one line: {text}");
        }
        // A log named among bad options gets the line as well.
        let log = log_file("bad", &jdk);
        let launch =
            Launch::args(["0", "1"]).jvm(with_agent(&format!("log={},top=many", log.display())));
        let mut jvm = Jvm::start(&jdk, "Park", &launch);
        assert!(jvm.alive());
        let text = wait_log(
            &log,
            "option `top`: `many` is not a whole number",
            Duration::from_secs(30),
        );
        assert!(
            text.contains("disabled, the JVM runs on without it"),
            "{text}"
        );
    }
}

/// Paths in /tmp named after `pid` by the agent (its directories) or by JFR (its repository).
fn leftovers(pid: u32) -> Vec<String> {
    let agent = format!("hch-agent-{pid}-");
    let jfr = format!("_{pid}");
    std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&agent) || (n.starts_with("20") && n.ends_with(&jfr)))
        .collect()
}

#[test]
fn sigterm_during_a_recording_ends_the_jvm_promptly_and_leaves_nothing() {
    for jdk in require_jdks() {
        let log = log_file("sigterm", &jdk);
        let opts = format!(
            "delay=1s,duration=60s,interval=1h,dialect=stock,log={}",
            log.display()
        );
        let launch = Launch::args(["0", "2"]).jvm(with_agent(&opts));
        let mut jvm = Jvm::start(&jdk, "HotLoop", &launch);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !leftovers(jvm.pid)
            .iter()
            .any(|n| n.starts_with("hch-agent"))
        {
            assert!(
                Instant::now() < deadline,
                "{}: no recording started",
                jdk.label()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(2));
        let t0 = Instant::now();
        Command::new("kill")
            .args(["-TERM", &jvm.pid.to_string()])
            .status()
            .unwrap();
        while jvm.alive() {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "{}: the JVM did not exit",
                jdk.label()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let took = t0.elapsed();
        eprintln!("{}: exited {took:?} after SIGTERM", jdk.label());
        // Without the agent HotLoop takes about 0.3 s; JFR's own shutdown adds some.
        assert!(took < Duration::from_secs(3), "{}: {took:?}", jdk.label());
        assert_eq!(leftovers(jvm.pid), Vec::<String>::new(), "{}", jdk.label());
        let text = std::fs::read_to_string(&log).unwrap();
        let line = text
            .lines()
            .find(|l| {
                l.contains(
                    "the JVM exits: agent stopped, its recording cut short and its files removed",
                )
            })
            .unwrap_or_else(|| panic!("{text}"));
        let ms: u64 = line
            .rsplit('(')
            .next()
            .unwrap()
            .trim_end_matches(" ms)")
            .parse()
            .unwrap();
        // The callback waits 20 ms at most; on a loaded test machine the scheduler adds its
        // own delays to what the log measures.
        eprintln!("{}: the VMDeath callback took {ms} ms", jdk.label());
        assert!(ms <= 300, "the VMDeath callback held the exit {ms} ms");
    }
}

#[test]
fn a_directive_added_above_the_agents_is_kept_and_the_stack_does_not_grow() {
    for jdk in require_jdks() {
        let log = log_file("buried", &jdk);
        let opts = format!(
            "delay=1s,duration=2s,interval=4s,dialect=stock,log={}",
            log.display()
        );
        let launch = Launch::args(["25", "2"]).jvm(with_agent(&opts));
        let mut jvm = Jvm::start(&jdk, "PhaseShift", &launch);
        // The first directive applied, during phase A.
        wait_log(&log, "applied ", Duration::from_secs(60));
        assert!(top_directive(&jdk, jvm.pid).contains("PhaseShift$A"));
        // Someone else's directive goes on top of the agent's.
        let theirs = scratch_dir("agent").join(format!(
            "theirs-{}-{}.json",
            jdk.feature,
            std::process::id()
        ));
        std::fs::write(
            &theirs,
            "[{ match: \"java/util/HashMap.*\", c2: { Enable: true } }]\n",
        )
        .unwrap();
        let added = jdk.jcmd(
            jvm.pid,
            &format!("Compiler.directives_add {}", theirs.display()),
        );
        assert!(added.contains("1 compiler directives added"), "{added}");
        jvm.wait_line("PHASE B", Duration::from_secs(60));
        // The note is logged before the cycle's own line: wait for the latter, then check both.
        let text = wait_log(
            &log,
            "not applied: its directive is buried under another",
            Duration::from_secs(60),
        );
        assert!(text.contains("no longer on top of the stack"), "{text}");
        assert_eq!(
            stack_size(&jdk, jvm.pid),
            2,
            "{}: the agent added nothing",
            jdk.label()
        );
        assert!(top_directive(&jdk, jvm.pid).contains("java/util/HashMap.*"));
    }
}

#[test]
fn at_start_up_on_jdk_22_and_earlier_the_first_recording_deoptimizes_only_dependents() {
    for jdk in require_jdks() {
        if jdk.feature > 22 {
            hch_testkit::skip(&jdk, "JDK 23+ records every dependency anyway");
            continue;
        }
        let log = log_file("deopt", &jdk);
        let xlog =
            scratch_dir("agent").join(format!("deopt-{}-{}.xlog", jdk.feature, std::process::id()));
        let opts = format!(
            "delay=3s,duration=2s,interval=1h,dialect=stock,log={}",
            log.display()
        );
        let mut jvm_opts = with_agent(&opts);
        jvm_opts.push(format!(
            "-Xlog:redefine+class+nmethod=debug:file={}",
            xlog.display()
        ));
        let launch = Launch::args(["0", "2"]).jvm(jvm_opts);
        let _jvm = Jvm::start(&jdk, "HotLoop", &launch);
        wait_log(&log, "cycle 1:", Duration::from_secs(60));
        let text = std::fs::read_to_string(&xlog).unwrap();
        // JFR's first start retransforms its event classes; without the agent's empty
        // AddCapabilities at OnLoad this says "Marked all nmethods for deopt".
        // JDK 17 and 21 say "Marked N dependent nmethods for deopt"; JDK 11 lists each "evol
        // dependency" it found instead.
        assert!(
            text.contains("dependent nmethods for deopt") || text.contains("evol dependency"),
            "{}: {text}",
            jdk.label()
        );
        assert!(
            !text.contains("Marked all nmethods"),
            "{}: {text}",
            jdk.label()
        );
    }
}
