//! Workload JVMs with the out-of-the-box JMX agent on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Jdk, Jvm, Launch};

pub use crate::free_port;

/// How the agent is configured.
#[derive(Debug, Clone, Default)]
pub struct Agent {
    /// Password and access files: `(user, password, access)` entries.
    pub users: Vec<(&'static str, &'static str, &'static str)>,
    /// A PKCS12 keystore for TLS on the connector.
    pub keystore: Option<PathBuf>,
    /// TLS on the registry too (same port) rather than a plain registry on its own port.
    pub registry_tls: bool,
}

impl Agent {
    /// Password authentication with a read-write user `ctl` (password `ctlpass`) and a
    /// read-only user `mon` (password `monpass`).
    pub fn with_roles() -> Agent {
        Agent {
            users: vec![
                ("ctl", "ctlpass", "readwrite"),
                ("mon", "monpass", "readonly"),
            ],
            ..Agent::default()
        }
    }
}

/// A JVM with a JMX agent and the port its registry listens on.
#[derive(Debug)]
pub struct JmxJvm {
    /// The JVM, killed on drop.
    pub jvm: Jvm,
    /// Its JMX agent's port on 127.0.0.1.
    pub port: u16,
}

/// Starts `examples/Park.java` with the agent on 127.0.0.1.
pub fn start(jdk: &Jdk, agent: &Agent, scratch: &Path) -> JmxJvm {
    start_workload(jdk, agent, scratch, "Park", &Launch::args(["0", "1"]))
}

/// Starts a workload (its own options and arguments in `launch`) with the agent on 127.0.0.1.
pub fn start_workload(
    jdk: &Jdk,
    agent: &Agent,
    scratch: &Path,
    name: &str,
    launch: &Launch,
) -> JmxJvm {
    let port = free_port();
    // A plain registry and a TLS connector need different ports (different socket factories).
    let rmi_port = if agent.keystore.is_some() && !agent.registry_tls {
        free_port()
    } else {
        port
    };
    let p = "-Dcom.sun.management.jmxremote";
    let mut opts = vec![
        format!("{p}.port={port}"),
        format!("{p}.rmi.port={rmi_port}"),
        format!("{p}.host=127.0.0.1"),
        "-Djava.rmi.server.hostname=127.0.0.1".to_string(),
        format!("{p}.local.only=false"),
        "-XX:+UseSerialGC".into(),
        "-Xmx64m".into(),
        "-XX:TieredStopAtLevel=1".into(),
    ];
    opts.extend(auth_options(agent, scratch));
    opts.extend(tls_options(agent));
    opts.extend(launch.jvm_args.iter().cloned());
    let launch = Launch {
        jvm_args: opts,
        ..launch.clone()
    };
    let jvm = Jvm::start(jdk, name, &launch);
    JmxJvm { jvm, port }
}

fn auth_options(agent: &Agent, scratch: &Path) -> Vec<String> {
    let p = "-Dcom.sun.management.jmxremote";
    if agent.users.is_empty() {
        return vec![format!("{p}.authenticate=false")];
    }
    let pw: String = agent
        .users
        .iter()
        .map(|(u, pw, _)| format!("{u} {pw}\n"))
        .collect();
    let ac: String = agent
        .users
        .iter()
        .map(|(u, _, a)| format!("{u} {a}\n"))
        .collect();
    let (pw_file, ac_file) = (
        scratch.join("jmxremote.password"),
        scratch.join("jmxremote.access"),
    );
    write_private(&pw_file, &pw);
    write_private(&ac_file, &ac);
    vec![
        format!("{p}.authenticate=true"),
        format!("{p}.password.file={}", pw_file.display()),
        format!("{p}.access.file={}", ac_file.display()),
    ]
}

// The agent refuses a password file others can read.
fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn tls_options(agent: &Agent) -> Vec<String> {
    let p = "-Dcom.sun.management.jmxremote";
    let Some(ks) = &agent.keystore else {
        return vec![format!("{p}.ssl=false")];
    };
    vec![
        format!("{p}.ssl=true"),
        format!("{p}.registry.ssl={}", agent.registry_tls),
        format!("-Djavax.net.ssl.keyStore={}", ks.display()),
        "-Djavax.net.ssl.keyStorePassword=changeit".into(),
        "-Djavax.net.ssl.keyStoreType=PKCS12".into(),
    ]
}

/// A throwaway self-signed EC certificate for 127.0.0.1 made by the JDK's keytool: the PKCS12
/// keystore and the PEM certificate to trust.
pub fn make_certificate(jdk: &Jdk, dir: &Path) -> (PathBuf, PathBuf) {
    make_certificate_with(jdk, dir, EC_KEY)
}

/// keytool's options for the EC key of [`make_certificate`].
pub const EC_KEY: &[&str] = &["-keyalg", "EC", "-groupname", "secp256r1"];

/// [`make_certificate`] with other key options, e.g. `-keyalg RSA`.
pub fn make_certificate_with(jdk: &Jdk, dir: &Path, key: &[&str]) -> (PathBuf, PathBuf) {
    let (ks, pem) = (dir.join("server.p12"), dir.join("server.pem"));
    let _ = std::fs::remove_file(&ks);
    let _ = std::fs::remove_file(&pem);
    let ok = Command::new(jdk.tool("keytool"))
        .args(["-genkeypair", "-alias", "jmx"])
        .args(key)
        .args(["-validity", "2"])
        .args([
            "-dname",
            "CN=127.0.0.1",
            "-ext",
            "SAN=ip:127.0.0.1,dns:localhost",
            "-storetype",
            "PKCS12",
        ])
        .args([
            "-storepass",
            "changeit",
            "-keypass",
            "changeit",
            "-keystore",
        ])
        .arg(&ks)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "keytool -genkeypair failed on {}", jdk.label());
    let ok = Command::new(jdk.tool("keytool"))
        .args([
            "-exportcert",
            "-rfc",
            "-alias",
            "jmx",
            "-storepass",
            "changeit",
            "-keystore",
        ])
        .arg(&ks)
        .arg("-file")
        .arg(&pem)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "keytool -exportcert failed on {}", jdk.label());
    (ks, pem)
}
