//! `hch jcmd HOST:PORT ...` against real JVMs on 127.0.0.1, on every JDK found: the same text
//! as local jcmd, and the documented exit codes.

use std::process::{Command, Output};

use hch_testkit::jmx::{start, Agent};
use hch_testkit::{require_jdks, scratch_dir};

fn hch(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hch"));
    c.args(args).env_remove("HCH_JMX_PASSWORD");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

// stdout without its `TARGET:` header line, as local jcmd prints `PID:` first.
fn body(o: &Output) -> String {
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    text.split_once('\n')
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn jcmd_over_jmx_matches_local_jcmd_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-cli-{}", jdk.feature));
        let j = start(&jdk, &Agent::default(), &dir);
        let spec = format!("127.0.0.1:{}", j.port);

        let o = hch(&["jcmd", &spec, "VM.version"], &[]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.stdout.starts_with(format!("{spec}:\n").as_bytes()));
        assert_eq!(
            body(&o),
            jdk.jcmd(j.jvm.pid, "VM.version"),
            "{}",
            jdk.label()
        );

        let o = hch(&["jcmd", &spec, "No.such_command"], &[]);
        assert_eq!(
            o.status.code(),
            Some(4),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );

        // Nothing listens on the port any more: unreachable is exit 3.
        let closed = hch_testkit::jmx::free_port().to_string();
        let o = hch(&["jcmd", &format!("127.0.0.1:{closed}"), "VM.version"], &[]);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Logins through the flattened remote options (`hch directives print` takes them).
#[test]
fn directives_print_over_jmx_with_a_login_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-cli-auth-{}", jdk.feature));
        let j = start(&jdk, &Agent::with_roles(), &dir);
        let spec = format!("127.0.0.1:{}", j.port);
        let pw = dir.join("pw");
        std::fs::write(&pw, "ctlpass\n").unwrap();
        let err = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();

        let o = hch(
            &[
                "directives",
                "print",
                "--user",
                "ctl",
                "--password-file",
                pw.to_str().unwrap(),
                &spec,
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("Directive:"));
        let o = hch(
            &["directives", "print", "--user", "ctl", &spec],
            &[("HCH_JMX_PASSWORD", "ctlpass")],
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));

        let o = hch(
            &["directives", "print", "--user", "ctl", &spec],
            &[("HCH_JMX_PASSWORD", "wrong")],
        );
        assert_eq!(o.status.code(), Some(3), "{}", err(&o));
        assert!(
            err(&o).contains("Invalid username or password"),
            "{}",
            err(&o)
        );
        let o = hch(&["directives", "print", &spec], &[]);
        assert_eq!(o.status.code(), Some(3), "{}", err(&o));
        assert!(err(&o).contains("Credentials required"), "{}", err(&o));
        let o = hch(
            &["directives", "print", "--user", "mon", &spec],
            &[("HCH_JMX_PASSWORD", "monpass")],
        );
        assert_eq!(o.status.code(), Some(3), "{}", err(&o));
        assert!(err(&o).contains("readwrite"), "{}", err(&o));
    }
}

/// Ctrl-C during `hch profile HOST:PORT`: exit 130 and no recording left on the target
/// (checked with the JDK's own jcmd JFR.check).
#[test]
fn ctrl_c_during_a_remote_profile_leaves_nothing_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-cli-int-{}", jdk.feature));
        let j = start(&jdk, &Agent::default(), &dir);
        let spec = format!("127.0.0.1:{}", j.port);
        let mut child = Command::new(env!("CARGO_BIN_EXE_hch"))
            .args(["profile", "--duration", "60s", &spec])
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Interrupt once the recording runs on the target, as the JDK's jcmd sees it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while jdk
            .jcmd(j.jvm.pid, "JFR.check")
            .contains("No available recordings")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{}: no recording started",
                jdk.label()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let ok = Command::new("kill")
            .arg("-INT")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{}", jdk.label());
        let check = jdk.jcmd(j.jvm.pid, "JFR.check");
        assert!(
            check.contains("No available recordings"),
            "{}: {check}",
            jdk.label()
        );
    }
}
