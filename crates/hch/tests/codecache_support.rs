//! Shared by the `codecache_*` tests: how they reach a workload JVM and run `hch`.
//! (Also built as its own empty test crate.)
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

use hch_testkit::{Jdk, Jvm, Launch};

/// A workload JVM and the target specs `hch` reaches it by.
#[derive(Debug)]
pub struct Target {
    pub jvm: Jvm,
    /// The pid (the attach mechanism).
    pub spec: String,
    /// `127.0.0.1:PORT` of its JMX agent, when started with one.
    pub jmx: Option<String>,
}

/// A free loopback port (closed again before the JVM binds it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a workload reachable by pid.
pub fn start(jdk: &Jdk, workload: &str, launch: Launch) -> Target {
    let jvm = Jvm::start(jdk, workload, &launch);
    Target {
        spec: jvm.java_pid().to_string(),
        jvm,
        jmx: None,
    }
}

/// Starts a workload reachable by pid and through its JMX agent on a loopback port.
pub fn start_with_jmx(jdk: &Jdk, workload: &str, launch: Launch) -> Target {
    let port = free_port();
    let p = "-Dcom.sun.management.jmxremote";
    let jmx = [
        format!("{p}.port={port}"),
        format!("{p}.rmi.port={port}"),
        format!("{p}.host=127.0.0.1"),
        "-Djava.rmi.server.hostname=127.0.0.1".into(),
        format!("{p}.authenticate=false"),
        format!("{p}.ssl=false"),
    ];
    let mut t = start(jdk, workload, launch.jvm(jmx));
    t.jmx = Some(format!("127.0.0.1:{port}"));
    t
}

/// Runs the hch binary.
pub fn hch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .output()
        .expect("run hch")
}

/// Builds the parkflip agent for this JDK with the machine's gcc; `None` without gcc.
pub fn parkflip(jdk: &Jdk) -> Option<PathBuf> {
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hch-codecache/tests/agents/parkflip.c");
    let out = hch_testkit::scratch_dir("agents").join(format!("libparkflip-jdk{}.so", jdk.feature));
    let inc = jdk.home.join("include");
    let status = Command::new("gcc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&out)
        .arg(format!("-I{}", inc.display()))
        .arg(format!("-I{}", inc.join("linux").display()))
        .arg(&src)
        .status()
        .ok()?;
    status.success().then_some(out)
}
