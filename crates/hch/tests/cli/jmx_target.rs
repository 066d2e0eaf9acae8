//! The `host:port` target (hch_target::remote) against real JVMs on 127.0.0.1, on every JDK
//! found: jcmd text equal to local jcmd's, clear refusals, and a streamed recording that the
//! JDK's `jfr` accepts with nothing left running on the target.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hch_target::remote::{self, RemoteOptions, RemoteRecording, RemoteSettings};
use hch_target::TargetError;
use hch_testkit::jmx::{start, Agent};
use hch_testkit::{require_jdks, scratch_dir};

#[test]
fn jcmd_and_recording_over_jmx_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-target-{}", jdk.feature));
        let j = start(&jdk, &Agent::default(), &dir);
        let spec = format!("127.0.0.1:{}", j.port);
        let mut jmx = remote::JmxTarget::connect(&spec, &RemoteOptions::default()).unwrap();
        assert!(jmx
            .code_heap_usage()
            .unwrap()
            .iter()
            .all(|(_, u)| u.used > 0));
        drop(jmx);
        let mut t = remote::open(&spec, &RemoteOptions::default()).unwrap();
        assert_eq!(t.describe(), format!("jmx {spec}"));

        // Same text as local jcmd (the oracle), for a stable command.
        let local = jdk.jcmd(j.jvm.pid, "VM.version");
        assert_eq!(t.jcmd("VM.version").unwrap(), local, "{}", jdk.label());
        // The agent JVMs run C1 only: from JDK 16 on that means one unsegmented `CodeCache`;
        // JDK 11 keeps the segmented cache and names its heaps.
        let heading = if jdk.feature >= 16 {
            "CodeCache"
        } else {
            "CodeHeap 'non-nmethods'"
        };
        let text = t.jcmd("Compiler.codecache").unwrap();
        assert!(text.contains(heading), "{}: {text}", jdk.label());

        let e = t.jcmd("No.such_command").unwrap_err();
        assert!(
            matches!(&e, TargetError::CommandFailed { output, .. } if output.contains("no such diagnostic command")),
            "{e}"
        );
        let e = t.put_file("d.json", b"[]").unwrap_err();
        assert!(
            matches!(&e, TargetError::Unsupported { hint, .. } if hint.contains("--remote-path")),
            "{e}"
        );

        let rec = RemoteRecording {
            settings: RemoteSettings::Predefined("profile".into()),
            duration: Duration::from_secs(1),
        };
        let data = remote::record_remote(
            &spec,
            &RemoteOptions::default(),
            &rec,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(data.starts_with(b"FLR\0"));
        let file = dir.join("remote.jfr");
        std::fs::write(&file, &data).unwrap();
        assert!(!jdk.jfr_summary(&file).is_empty(), "{}", jdk.label());
        std::fs::remove_file(&file).unwrap();
        assert!(t
            .jcmd("JFR.check")
            .unwrap()
            .contains("No available recordings"));
    }
}

#[test]
fn logins_and_roles_over_jmx_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-target-auth-{}", jdk.feature));
        let j = start(&jdk, &Agent::with_roles(), &dir);
        let spec = format!("127.0.0.1:{}", j.port);
        let login = |u: &str, p: &str| RemoteOptions {
            user: Some(u.into()),
            password: Some(p.into()),
            ..Default::default()
        };

        let mut t = remote::open(&spec, &login("ctl", "ctlpass")).unwrap();
        assert!(t.jcmd("VM.version").unwrap().contains("JDK"));

        let e = remote::open(&spec, &login("ctl", "nope")).unwrap_err();
        assert!(
            matches!(&e, TargetError::Unreachable { reason, .. } if reason.contains("Invalid username or password")),
            "{e}"
        );
        let e = remote::open(
            &spec,
            &RemoteOptions {
                user: Some("ctl".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("HCH_JMX_PASSWORD"), "{e}");

        let mut t = remote::open(&spec, &login("mon", "monpass")).unwrap();
        let e = t.jcmd("Compiler.codecache").unwrap_err();
        assert!(
            matches!(&e, TargetError::Unreachable { reason, .. } if reason.contains("readwrite")),
            "{e}"
        );
    }
}

/// The keep-alive: a connector that drops connections idle for 2 s (examples/JmxIdle.java)
/// still answers after 5 s of silence, because the heartbeat thread called in between; without
/// it the same call fails.
#[test]
fn heartbeat_keeps_an_idle_connection_on_every_jdk() {
    for jdk in require_jdks() {
        let port = hch_testkit::jmx::free_port();
        let _jvm = hch_testkit::Jvm::start(
            &jdk,
            "JmxIdle",
            &hch_testkit::Launch::args([port.to_string(), "2000".into()]),
        );
        let spec = format!("127.0.0.1:{port}");
        let kept = RemoteOptions {
            heartbeat: Some(Duration::from_millis(500)),
            ..Default::default()
        };
        let dropped = RemoteOptions {
            heartbeat: Some(Duration::from_secs(3600)),
            ..Default::default()
        };
        let mut with = remote::open(&spec, &kept).unwrap();
        let mut without = remote::open(&spec, &dropped).unwrap();
        std::thread::sleep(Duration::from_secs(5));
        assert!(
            with.jcmd("VM.version").unwrap().contains("JDK"),
            "{}",
            jdk.label()
        );
        let e = without.jcmd("VM.version").unwrap_err();
        assert!(
            matches!(&e, TargetError::Unreachable { reason, .. } if reason.contains("dropped the JMX connection")),
            "{}: {e}",
            jdk.label()
        );
    }
}
