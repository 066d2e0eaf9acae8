//! End to end against real JVMs on 127.0.0.1, on every JDK found: the agent with no auth,
//! with passwords and roles, with TLS; diagnostic commands and a streamed JFR recording.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hch_jmx::jfr::{self, Recording, Settings};
use hch_jmx::{Client, ConnectOptions, Error};
use hch_testkit::jmx::{start, Agent};
use hch_testkit::{require_jdks, scratch_dir};

fn connect(port: u16, opts: &ConnectOptions) -> Result<Client, Error> {
    Client::connect("127.0.0.1", port, opts)
}

/// No auth: attributes, jcmd text equal to local jcmd's, errors, a recording that `jfr`
/// accepts, and nothing left behind (JFR.check).
#[test]
fn no_auth_session_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-noauth-{}", jdk.feature));
        let j = start(&jdk, &Agent::default(), &dir);
        let mut c = connect(j.port, &ConnectOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", jdk.label()));

        let (g, v) = c.get_attribute("java.lang:type=Runtime", "Pid").unwrap();
        assert_eq!(g.long(v), Some(i64::from(j.jvm.pid)), "{}", jdk.label());
        let (g, v) = c
            .get_attribute("java.lang:type=Runtime", "SpecVersion")
            .unwrap();
        assert_eq!(g.str(v), Some(jdk.feature.to_string().as_str()));

        let remote = c.diagnostic_command("vmVersion", &[]).unwrap();
        assert_eq!(remote, jdk.jcmd(j.jvm.pid, "VM.version"), "{}", jdk.label());

        // Code heap pools: each one the codecache text names, with the same size.
        let text = c.diagnostic_command("compilerCodecache", &[]).unwrap();
        let pools = c.code_heap_usage().unwrap();
        assert!(!pools.is_empty(), "{}", jdk.label());
        for (name, u) in &pools {
            assert!(u.used > 0 && u.used <= u.committed, "{name}: {u:?}");
            let line = text
                .lines()
                .find(|l| l.starts_with(name.as_str()))
                .unwrap_or_else(|| panic!("{name} not in {text}"));
            let max_kb = u.max.unwrap() / 1024;
            assert!(
                line.contains(&format!("size={max_kb}Kb")),
                "{name}: max {max_kb} Kb vs {line}"
            );
        }

        let e = c.diagnostic_command("noSuchCommand", &[]).unwrap_err();
        assert!(
            matches!(&e, Error::Remote(r) if r.has("javax.management.ReflectionException")),
            "{e}"
        );
        // The connection is still usable after a remote exception.
        c.heartbeat().unwrap();
        c.ping().unwrap();

        // A predefined configuration, then custom .jfc text: the summary (the JDK's `jfr`, the
        // oracle) shows the events each one enables.
        let summary =
            record_and_summarize(&jdk, &mut c, Settings::Predefined("profile".into()), &dir);
        // Emitted at every chunk's start and end (the parked workload may give no CPU sample).
        assert!(count(&summary, "jdk.JVMInformation") > 0, "{summary:?}");
        let summary = record_and_summarize(&jdk, &mut c, Settings::Jfc(PARK_ONLY_JFC.into()), &dir);
        assert!(count(&summary, "jdk.ThreadPark") > 0, "{summary:?}");
        assert_eq!(count(&summary, "jdk.JVMInformation"), 0, "{summary:?}");
        let check = c.diagnostic_command("jfrCheck", &[]).unwrap();
        assert!(
            check.contains("No available recordings"),
            "left behind: {check}"
        );
        c.close();
    }
}

/// Only parks, every one of them.
const PARK_ONLY_JFC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0" label="park-only" description="hch test">
  <event name="jdk.ThreadPark">
    <setting name="enabled">true</setting>
    <setting name="stackTrace">true</setting>
    <setting name="threshold">0 ms</setting>
  </event>
</configuration>
"#;

// Records for a second, checks the bytes are a JFR file and returns what `jfr summary` says.
fn record_and_summarize(
    jdk: &hch_testkit::Jdk,
    c: &mut Client,
    settings: Settings,
    dir: &std::path::Path,
) -> Summary {
    let rec = Recording {
        settings,
        duration: Duration::from_millis(1000),
    };
    let data = jfr::record(c, &rec, &AtomicBool::new(false)).unwrap();
    assert!(data.starts_with(b"FLR\0"), "{}", jdk.label());
    let file = dir.join("streamed.jfr");
    std::fs::write(&file, &data).unwrap();
    let summary = jdk.jfr_summary(&file);
    std::fs::remove_file(&file).unwrap();
    summary
}

// The event count `jfr summary` gives for one event type.
fn count(summary: &Summary, event: &str) -> u64 {
    summary.get(event).map_or(0, |(n, _)| *n)
}

/// What `jfr summary` says: event type -> (count, bytes).
type Summary = std::collections::BTreeMap<String, (u64, u64)>;

/// A cancelled recording is closed on the target.
#[test]
fn cancelled_recording_is_closed_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-cancel-{}", jdk.feature));
        let j = start(&jdk, &Agent::default(), &dir);
        let mut c = connect(j.port, &ConnectOptions::default()).unwrap();
        let rec = Recording {
            settings: Settings::Predefined("default".into()),
            duration: Duration::from_secs(60),
        };
        let cancel = AtomicBool::new(false);
        let e = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(700));
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            jfr::record(&mut c, &rec, &cancel).unwrap_err()
        });
        assert!(matches!(e, Error::Cancelled), "{e}");
        let check = c.diagnostic_command("jfrCheck", &[]).unwrap();
        assert!(
            check.contains("No available recordings"),
            "left behind: {check}"
        );
        c.close();
    }
}

/// Password auth: the right password works, a wrong one and none are refused clearly, and a
/// read-only role may read attributes but not run diagnostic commands.
#[test]
fn password_auth_and_roles_on_every_jdk() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("jmx-auth-{}", jdk.feature));
        let j = start(&jdk, &Agent::with_roles(), &dir);
        let login = |u: &str, p: &str| ConnectOptions {
            credentials: Some((u.into(), p.into())),
            ..ConnectOptions::default()
        };

        let mut c = connect(j.port, &login("ctl", "ctlpass")).unwrap();
        assert!(c
            .diagnostic_command("vmVersion", &[])
            .unwrap()
            .contains("JDK"));
        c.close();

        let e = connect(j.port, &login("ctl", "wrong")).unwrap_err();
        assert!(
            matches!(&e, Error::Auth { message, .. } if message.contains("Invalid username or password")),
            "{e}"
        );
        let e = connect(j.port, &ConnectOptions::default()).unwrap_err();
        assert!(
            matches!(&e, Error::Auth { message, .. } if message.contains("Credentials required")),
            "{e}"
        );
        assert!(e.to_string().contains("--user"), "{e}");

        let mut c = connect(j.port, &login("mon", "monpass")).unwrap();
        let (g, v) = c.get_attribute("java.lang:type=Runtime", "Pid").unwrap();
        assert_eq!(g.long(v), Some(i64::from(j.jvm.pid)));
        let e = c.diagnostic_command("compilerCodecache", &[]).unwrap_err();
        assert!(matches!(&e, Error::AccessDenied { .. }), "{e}");
        assert!(e.to_string().contains("readwrite"), "{e}");
        c.close();
    }
}

/// TLS with a throwaway certificate: on the connector only (plain registry), and on the
/// registry too; the certificate is checked; plain against TLS and the reverse are refused
/// with the fix.
#[test]
fn tls_on_every_jdk() {
    for jdk in require_jdks() {
        if !jdk.has_tool("keytool") {
            hch_testkit::skip(&jdk, "no keytool to make a certificate");
            continue;
        }
        let dir = scratch_dir(&format!("jmx-tls-{}", jdk.feature));
        let (mut ks, mut pem) = hch_testkit::jmx::make_certificate(&jdk, &dir);
        let trusted = |pem: &std::path::Path| ConnectOptions {
            tls: true,
            tls_ca: Some(pem.to_path_buf()),
            ..ConnectOptions::default()
        };
        let mut other = other_cert(&jdk, &dir, hch_testkit::jmx::EC_KEY);
        if ecdsa_with_null_parameter(&pem) {
            // JDK 11's keytool: an EC certificate TLS libraries reject; hch says why and what
            // to do, and the rest runs with RSA keys.
            let j = start(
                &jdk,
                &Agent {
                    keystore: Some(ks.clone()),
                    ..Agent::default()
                },
                &dir,
            );
            let e = connect(j.port, &trusted(&pem)).unwrap_err();
            assert!(
                matches!(&e, Error::Tls { reason, .. } if reason.contains("NULL parameter") && reason.contains("-keyalg RSA")),
                "{}: {e}",
                jdk.label()
            );
            (ks, pem) = hch_testkit::jmx::make_certificate_with(&jdk, &dir, &["-keyalg", "RSA"]);
            other = other_cert(&jdk, &dir, &["-keyalg", "RSA"]);
        }
        let wrong_ca = ConnectOptions {
            tls: true,
            tls_ca: Some(other),
            ..ConnectOptions::default()
        };
        let trusted = trusted(&pem);
        for registry_tls in [false, true] {
            let j = start(
                &jdk,
                &Agent {
                    keystore: Some(ks.clone()),
                    registry_tls,
                    ..Agent::default()
                },
                &dir,
            );
            let mut c = connect(j.port, &trusted)
                .unwrap_or_else(|e| panic!("{} registry_tls={registry_tls}: {e}", jdk.label()));
            assert!(c
                .diagnostic_command("vmVersion", &[])
                .unwrap()
                .contains("JDK"));
            c.close();

            let e = connect(j.port, &ConnectOptions::default()).unwrap_err();
            assert!(
                e.to_string().contains("--tls"),
                "plain client, registry_tls={registry_tls}: {e}"
            );

            let e = connect(j.port, &wrong_ca).unwrap_err();
            assert!(
                matches!(e, Error::Tls { .. }),
                "untrusted certificate accepted: {e}"
            );
            // The switch for tests: any certificate.
            let insecure = ConnectOptions {
                tls_insecure: true,
                ..ConnectOptions::default()
            };
            connect(j.port, &insecure).unwrap().close();
        }
        let j = start(&jdk, &Agent::default(), &dir);
        let e = connect(j.port, &trusted).unwrap_err();
        assert!(
            matches!(&e, Error::Tls { reason, .. } if reason.contains("plain")),
            "TLS client, plain JVM: {e}"
        );
    }
}

// A second certificate that did not sign the server's.
fn other_cert(jdk: &hch_testkit::Jdk, dir: &std::path::Path, key: &[&str]) -> std::path::PathBuf {
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    hch_testkit::jmx::make_certificate_with(jdk, &other, key).1
}

// Whether the PEM certificate is signed with ecdsa-with-SHA256 under an AlgorithmIdentifier
// with a NULL parameter (as JDK 11's keytool writes it).
fn ecdsa_with_null_parameter(pem: &std::path::Path) -> bool {
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::from_pem_file(pem).expect("a PEM certificate");
    let id = [6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2, 5, 0];
    der.windows(id.len()).any(|w| w == id)
}
