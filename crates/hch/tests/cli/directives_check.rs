//! `hch directives check` against real JVMs: on every JDK found, hch's own verdict for each
//! captured directives file (accepted and rejected ones) equals the JVM's, which `--java` asks.

use std::path::PathBuf;
use std::process::Command;

use hch_testkit::require_jdks;

fn matrix_files() -> Vec<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hch-profile/tests/data/directives");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.retain(|p| p.extension().is_some_and(|e| e == "json"));
    v.sort();
    v
}

/// The verdict lines of `hch directives check` output: (hch's, the JVM's).
fn verdicts(out: &str) -> (bool, bool) {
    let hch = out
        .lines()
        .find(|l| l.contains("(hch's rules)"))
        .expect("hch verdict");
    let jvm = out
        .lines()
        .find(|l| l.starts_with("JDK ") && !l.contains("(hch's rules)"))
        .expect("JVM verdict");
    (hch.contains(": accepted"), jvm.contains(": accepted"))
}

#[test]
fn hch_and_the_real_jvm_agree_on_every_captured_file() {
    let files = matrix_files();
    assert!(files.len() >= 17);
    for jdk in require_jdks() {
        let mut disagree = Vec::new();
        for f in &files {
            let o = Command::new(env!("CARGO_BIN_EXE_hch"))
                .args(["directives", "check", "--java"])
                .arg(&jdk.home)
                .arg(f)
                .output()
                .unwrap();
            let out = String::from_utf8_lossy(&o.stdout);
            let (hch, jvm) = verdicts(&out);
            if hch != jvm {
                disagree.push(format!("{}: hch {hch}, JVM {jvm}\n{out}", f.display()));
            }
            let want = if jvm { 0 } else { 6 };
            assert_eq!(
                o.status.code(),
                Some(want),
                "{} {}: {out}",
                jdk.label(),
                f.display()
            );
        }
        assert!(
            disagree.is_empty(),
            "{}:\n{}",
            jdk.label(),
            disagree.join("\n")
        );
    }
}

/// Directives that `hch analyze` generates for lambdas, constructors and nested classes (from
/// async-profiler collapsed stacks) load on every JDK found, in the stock dialect.
#[test]
fn generated_wildcards_for_hidden_classes_load_on_every_jdk() {
    let dir = hch_testkit::scratch_dir("directives-check");
    let input = dir.join("lambdas.collapsed");
    std::fs::write(
        &input,
        "java/lang/Thread.run_[0];HotWork$$Lambda$1.0x00007fd8200363e0.run_[j] 5\n\
         java/lang/Thread.run_[0];a/b/C$Inner.<init>(IJ)V_[j] 3\n\
         java/lang/Thread.run_[0];a/b/Gen/0x0000000800c01234.call_[1] 2\n",
    )
    .unwrap();
    let out = dir.join("lambdas.json");
    let o = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(["analyze", "--flat", "0", "--dialect", "stock", "-o"])
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\"HotWork$$Lambda*.run\"") && text.contains("\"a/b/Gen*.call\""),
        "{text}"
    );
    for jdk in require_jdks() {
        let o = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args(["directives", "check", "--java"])
            .arg(&jdk.home)
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            jdk.label(),
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn an_endless_device_is_refused_by_its_bytes_not_its_size() {
    // /dev/zero reports size 0 and never ends: the cap is on the bytes read.
    let o = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(["directives", "check", "/dev/zero"])
        .env_remove("JAVA_HOME")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(err.contains("/dev/zero: more than"), "{err}");
}
