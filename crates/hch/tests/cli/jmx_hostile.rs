//! `hch` against hostile JMX servers (plain TcpListener threads, no JVM): `--timeout` is the
//! deadline of each exchange however slowly the server sends, huge announced lengths are
//! refused at once, and the risks of a login are said in one warning line each.

use hch_testkit::hostile;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn hch(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .env_remove("HCH_JMX_PASSWORD")
        .output()
        .unwrap();
    (o, t.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// `hch jcmd --timeout 2s` on the server at `port`: exit 3 within 4 s, naming the endpoint,
// what was going on and the deadline.
fn assert_deadline(port: u16, doing: &str) {
    let spec = format!("127.0.0.1:{port}");
    let (o, took) = hch(&["jcmd", "--timeout", "2s", &spec, "VM.version"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(took < Duration::from_secs(4), "{took:?}: {err}");
    for part in [spec.as_str(), doing, "within the 2s deadline", "--timeout"] {
        assert!(err.contains(part), "{part:?} missing in: {err}");
    }
}

#[test]
fn a_trickled_handshake_fails_at_the_deadline() {
    assert_deadline(hostile::trickling_handshake(), "the JRMP handshake");
}

#[test]
fn a_trickled_reply_fails_at_the_deadline() {
    assert_deadline(
        hostile::trickling_reply(),
        "the call Registry.lookup(jmxrmi)",
    );
}

/// `--timeout` applies to every command that takes a TARGET, e.g. `hch info`.
#[test]
fn the_deadline_applies_to_other_commands() {
    let spec = format!("127.0.0.1:{}", hostile::trickling_handshake());
    let (o, took) = hch(&["info", "--timeout", "1s", &spec]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("within the 1s deadline"), "{err}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn huge_announced_lengths_are_refused_at_once() {
    for (port, what) in [
        (
            hostile::huge_host_name(),
            "announces 65535 bytes of host name",
        ),
        (
            hostile::huge_string(),
            "announces 1099511627776 bytes of string",
        ),
    ] {
        let spec = format!("127.0.0.1:{port}");
        let (o, took) = hch(&["jcmd", "--timeout", "10s", &spec, "VM.version"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains(what) && err.contains(&spec), "{err}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}

// The `hch: warning:` lines of a run against a closed port (the warnings come first).
fn warnings(args: &[&str]) -> Vec<String> {
    let port = hch_testkit::free_port().to_string();
    let spec = format!("127.0.0.1:{port}");
    let mut all = vec!["jcmd"];
    all.extend(args);
    all.extend([spec.as_str(), "VM.version"]);
    let (o, _) = hch(&all);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    stderr(&o)
        .lines()
        .filter(|l| l.starts_with("hch: warning: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn risky_logins_are_warned_about_once_each() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = hch_testkit::scratch_dir("jmx-hostile-warnings");
    let pw = dir.join("pw");
    std::fs::write(&pw, "secret\n").unwrap();
    let pw_arg = pw.to_str().unwrap();

    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let w = warnings(&["--user", "u", "--password-file", pw_arg]);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(
        w[0].contains("(mode 644)") && w[0].contains("chmod 600"),
        "{w:#?}"
    );
    assert!(
        w[1].contains("plain JRMP") && w[1].contains("--tls-ca"),
        "{w:#?}"
    );
    assert!(!w.concat().contains("secret"));

    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    let w = warnings(&["--user", "u", "--password-file", pw_arg]);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].contains("plain JRMP"), "{w:#?}");

    let w = warnings(&["--user", "u", "--password-file", pw_arg, "--tls-insecure"]);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].contains("--tls-insecure accepts any certificate"),
        "{w:#?}"
    );

    assert!(warnings(&[]).is_empty());
    // A PID target reads no password file and warns about nothing remote.
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (o, _) = hch(&[
        "jcmd",
        "--user",
        "u",
        "--password-file",
        pw_arg,
        "4194304",
        "VM.version",
    ]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}
