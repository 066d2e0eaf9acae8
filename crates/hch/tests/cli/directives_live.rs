//! `hch directives add|replace|remove|clear|print` and `hch apply` on real JVMs, on every JDK
//! found: stock-dialect files go onto the stack, a `hot` file is refused before it is sent
//! (exit 6), and the stack is left empty.

use std::path::Path;
use std::process::{Command, Output};

use hch_profile::{Dialect, Directives};
use hch_testkit::{require_jdks, scratch_dir, Jvm, Launch};

fn hch(args: &[&str], file: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hch"));
    c.args(args);
    if let Some(f) = file {
        c.arg(f);
    }
    c.output().unwrap()
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn file(dir: &Path, name: &str, dialect: Dialect) -> std::path::PathBuf {
    let patterns = vec![
        "HotLoop$W1.run(J)J".to_string(),
        "HotLoop$W2.run(J)J".to_string(),
    ];
    let d = Directives {
        dialect,
        patterns,
        notes: Vec::new(),
    };
    let p = dir.join(name);
    std::fs::write(&p, d.to_json()).unwrap();
    p
}

#[test]
fn add_replace_print_clear_and_refuse_hot_on_every_jdk() {
    let dir = scratch_dir("directives-live");
    let stock = file(&dir, "stock.json", Dialect::Stock);
    let hot = file(&dir, "hot.json", Dialect::Hot);
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "HotLoop", &Launch::args(["0", "1"]));
        let pid = jvm.pid.to_string();
        let label = jdk.label();

        let o = hch(&["directives", "add", &pid], Some(&stock));
        assert!(o.status.success(), "{label}: {}", out(&o));
        assert!(
            out(&o).contains("1 compiler directives added"),
            "{label}: {}",
            out(&o)
        );
        let o = hch(&["directives", "print", &pid], None);
        assert!(
            out(&o).contains("HotLoop$W1.run(J)J"),
            "{label}: {}",
            out(&o)
        );

        let o = hch(&["directives", "replace", &pid], Some(&stock));
        assert!(
            out(&o).contains("1 before, 1 after"),
            "{label}: {}",
            out(&o)
        );

        let o = hch(&["apply", &pid], Some(&hot));
        assert_eq!(o.status.code(), Some(6), "{label}: {}", out(&o));
        assert!(
            out(&o).contains("--dialect stock") && out(&o).contains("not sent"),
            "{label}: {}",
            out(&o)
        );

        let o = hch(&["directives", "clear", &pid], None);
        assert!(
            out(&o).contains("1 before, 0 after"),
            "{label}: {}",
            out(&o)
        );
        let o = hch(&["directives", "remove", &pid], None);
        assert!(o.status.success(), "{label}: {}", out(&o));
        let o = hch(&["directives", "add", &pid], None);
        assert_eq!(o.status.code(), Some(2), "{label}: {}", out(&o));
        drop(jvm);
    }
}

/// Over JMX (HOST:PORT): print and clear work; a file cannot be sent, so `add` says to copy it
/// and pass `--remote-path`, which then works (the JVM runs on this host here).
#[test]
fn host_port_targets_on_every_jdk() {
    let dir = scratch_dir("directives-live");
    let stock = file(&dir, "stock-remote.json", Dialect::Stock);
    for jdk in require_jdks() {
        let port = hch_testkit::free_port();
        let opts = hch_testkit::jmx_agent_options(port);
        let jvm = Jvm::start(&jdk, "HotLoop", &Launch::args(["0", "1"]).jvm(opts));
        let target = format!("127.0.0.1:{port}");
        let label = jdk.label();

        let o = hch(&["directives", "add", &target], Some(&stock));
        assert_ne!(o.status.code(), Some(0), "{label}: {}", out(&o));
        assert!(out(&o).contains("--remote-path"), "{label}: {}", out(&o));

        let remote_path = stock.to_str().unwrap();
        let o = hch(
            &["directives", "add", &target, "--remote-path", remote_path],
            Some(&stock),
        );
        assert!(
            o.status.success() && out(&o).contains("1 compiler directives added"),
            "{label}: {}",
            out(&o)
        );
        let o = hch(&["directives", "print", &target], None);
        assert!(
            out(&o).contains("HotLoop$W1.run(J)J"),
            "{label}: {}",
            out(&o)
        );
        // A replace whose file the JVM cannot read leaves the stack as it was.
        let missing = dir.join("not-on-the-jvm-host.json");
        let o = hch(
            &[
                "directives",
                "replace",
                &target,
                "--remote-path",
                missing.to_str().unwrap(),
            ],
            Some(&stock),
        );
        assert_eq!(o.status.code(), Some(4), "{label}: {}", out(&o));
        assert!(
            out(&o).contains("stack is unchanged (1 directives)"),
            "{label}: {}",
            out(&o)
        );
        assert_eq!(
            hch_target::directives::count_in_print(&jdk.jcmd(jvm.pid, "Compiler.directives_print")),
            1,
            "{label}: the stack is as it was"
        );
        let o = hch(&["directives", "clear", &target], None);
        assert!(
            out(&o).contains("1 before, 0 after"),
            "{label}: {}",
            out(&o)
        );
        drop(jvm);
    }
}
