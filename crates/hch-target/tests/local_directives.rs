//! `directives` and `info` on real JVMs by pid, on every JDK found. The oracle is the JVM's own
//! directive stack as the JDK's `jcmd Compiler.directives_print` shows it, and `jcmd VM.flags`.

use hch_target::apply::{self, ApplyError, ApplyMode, HotPlacement, Placement, Plan};
use hch_target::directives::{self, DirectivesOutcome};
use hch_target::info::JvmInfo;
use hch_target::{LocalTarget, Target};
use hch_testkit::{require_jdks, Jdk, Jvm, Launch};

/// Two directives, in the lenient syntax HotSpot accepts on every JDK (no `//` comments).
const GOOD: &str = r#"[
  { match: ["Park::main", "java/lang/Thread.run"], c2: { BackgroundCompilation: false } },
  { match: "java/util/HashMap.*", BlockLayoutByFrequency: true }
]"#;
/// One directive.
const ONE: &str = r#"[{ match: "Park::*", c1: { Exclude: false } }]"#;
/// A missing `}`: every JDK refuses it (JDK 22+ without saying why).
const MALFORMED: &str = "[\n  {\n    match: \"Park::main\",\n    c2: { Exclude: true\n  }\n]\n";

fn oracle_count(jdk: &Jdk, pid: u32) -> usize {
    directives::count_in_print(&jdk.jcmd(pid, "Compiler.directives_print"))
}

/// Checks and applies `text` as `hch directives add|replace` does.
fn put(t: &mut LocalTarget, text: &str, mode: ApplyMode) -> Result<DirectivesOutcome, ApplyError> {
    let info = JvmInfo::gather(t)?;
    let plan = Plan {
        text,
        mode,
        placement: Placement::Placed,
    };
    let pre = apply::preflight(t, &info, HotPlacement::of(&info), &plan)?;
    apply::apply(t, &plan, &pre)
}

fn leftovers(pid: u32) -> usize {
    let prefix = format!("hch-{}-", std::process::id());
    std::fs::read_dir(format!("/proc/{pid}/root/tmp"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix))
        .count()
}

#[test]
fn add_print_remove_replace_clear_round_trip() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let (pid, l) = (jvm.pid, jdk.label());
        let mut t = LocalTarget::open(pid, &hch_attach::Options::default()).unwrap();
        assert_eq!(oracle_count(&jdk, pid), 0, "{l}");

        let added = put(&mut t, GOOD, ApplyMode::Add).unwrap();
        assert_eq!(
            (added.count_added, added.stack_before, added.stack_after),
            (2, 0, 2),
            "{l}"
        );
        assert_eq!(added.response.trim(), "2 compiler directives added", "{l}");
        assert!(added.note.contains("from now on"));
        assert_eq!(oracle_count(&jdk, pid), 2, "{l}");
        let printed = directives::print(&mut t).unwrap();
        assert_eq!(printed, jdk.jcmd(pid, "Compiler.directives_print"), "{l}");
        assert!(printed.contains("java/util/HashMap.*"), "{l}: {printed}");

        let removed = directives::remove(&mut t).unwrap();
        assert_eq!((removed.stack_before, removed.stack_after), (2, 1), "{l}");
        assert_eq!(oracle_count(&jdk, pid), 1, "{l}");

        let replaced = put(&mut t, ONE, ApplyMode::Replace).unwrap();
        assert_eq!(
            (
                replaced.count_added,
                replaced.stack_before,
                replaced.stack_after
            ),
            (1, 1, 1),
            "{l}"
        );
        assert!(directives::print(&mut t).unwrap().contains("Park.*"), "{l}");

        let cleared = directives::clear(&mut t).unwrap();
        assert_eq!((cleared.stack_before, cleared.stack_after), (1, 0), "{l}");
        assert_eq!(oracle_count(&jdk, pid), 0, "{l}");
        assert_eq!(leftovers(pid), 0, "{l}: the directives files are removed");
    }
}

#[test]
fn a_malformed_file_is_refused_by_the_jvm_and_changes_nothing() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let (pid, l) = (jvm.pid, jdk.label());
        let mut t = LocalTarget::open(pid, &hch_attach::Options::default()).unwrap();
        put(&mut t, ONE, ApplyMode::Add).unwrap();
        // hch's own rules refuse it before the JVM sees it.
        let err = put(&mut t, MALFORMED, ApplyMode::Add).unwrap_err();
        assert!(matches!(err, ApplyError::Rejected { .. }), "{l}: {err}");
        assert_eq!(oracle_count(&jdk, pid), 1, "{l}: the stack is as before");
        // The JVM's own parser, reached past hch's check, refuses it too and changes nothing.
        let path = t.put_file("malformed.json", MALFORMED.as_bytes()).unwrap();
        let answer = t.jcmd(&format!("Compiler.directives_add {path}"));
        t.remove_file(&path).unwrap();
        let output = match answer {
            Ok(text) => text,
            Err(hch_target::TargetError::CommandFailed { output, .. }) => output,
            Err(e) => panic!("{l}: {e}"),
        };
        assert!(
            output.contains("Parsing of compiler directives failed"),
            "{l}: {output}"
        );
        assert_eq!(oracle_count(&jdk, pid), 1, "{l}: the stack is as before");
        // A replace with a refused file never empties the stack.
        let err = put(&mut t, MALFORMED, ApplyMode::Replace).unwrap_err();
        assert!(matches!(err, ApplyError::Rejected { .. }), "{l}: {err}");
        assert_eq!(
            oracle_count(&jdk, pid),
            1,
            "{l}: replace left the stack as it was"
        );
        assert_eq!(leftovers(pid), 0, "{l}");
    }
}

#[test]
fn info_agrees_with_the_jvm_flags() {
    for jdk in require_jdks() {
        let plain = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let exact = Jvm::start(
            &jdk,
            "Park",
            &Launch::args(["0", "1"]).jvm([
                "-XX:+UnlockDiagnosticVMOptions",
                "-XX:+DebugNonSafepoints",
                "-XX:ReservedCodeCacheSize=64m",
            ]),
        );
        for (jvm, dns) in [(&plain, false), (&exact, true)] {
            let mut t = LocalTarget::open(jvm.pid, &hch_attach::Options::default()).unwrap();
            let info = JvmInfo::gather(&mut t).unwrap();
            let l = jdk.label();
            assert_eq!(
                (info.feature, info.version.as_str()),
                (jdk.feature, jdk.version.as_str()),
                "{l}"
            );
            assert_eq!(info.debug_non_safepoints, dns, "{l}");
            assert!(info.jfr_available, "{l}");
            assert!(
                info.hot_code_heap.is_none(),
                "{l}: no JDK here has HotCodeHeap"
            );
            assert!(info.directives_effect.contains("from now on"), "{l}");
            // The oracle: the flag values as the JDK's jcmd prints them.
            let flags = jdk.jcmd(jvm.pid, "VM.flags -all");
            let value = |name: &str| -> String {
                let line = flags
                    .lines()
                    .find(|l| l.split_whitespace().nth(1) == Some(name))
                    .unwrap();
                line.split('=')
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_string()
            };
            let size = |name: &str| value(name).parse::<u64>().unwrap();
            assert_eq!(
                info.code_cache.reserved,
                size("ReservedCodeCacheSize"),
                "{l}"
            );
            // Below 240 MB reserved the JVM turns the segmented code cache off by itself.
            let segmented = value("SegmentedCodeCache") == "true";
            assert_eq!(info.code_cache.segmented, segmented, "{l}");
            assert_eq!(segmented, !dns, "{l}: the test's JVMs differ in this");
            let heap = |name: &str| segmented.then(|| size(name));
            assert_eq!(
                info.code_cache.non_profiled,
                heap("NonProfiledCodeHeapSize"),
                "{l}"
            );
            assert_eq!(
                info.code_cache.profiled,
                heap("ProfiledCodeHeapSize"),
                "{l}"
            );
            assert_eq!(
                info.code_cache.non_nmethods,
                heap("NonNMethodCodeHeapSize"),
                "{l}"
            );
            assert_eq!(t.describe(), format!("pid {}", jvm.pid));
        }
    }
}
