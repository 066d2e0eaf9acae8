//! Shared by the `codecache_*` tests: how they reach a workload JVM and run `hch`.
//! (Also built as its own empty test crate.)
#![allow(dead_code)]

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
    let port = hch_testkit::free_port();
    let mut t = start(
        jdk,
        workload,
        launch.jvm(hch_testkit::jmx_agent_options(port)),
    );
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

/// Builds the parkflip agent for this JDK with the machine's gcc; `None` without gcc or JVMTI
/// headers. A runtime without `include/` (the jlinked JDK 11 and 21) borrows another JDK's:
/// the agent asks for JVMTI 1.2, which every JDK since 7 serves.
pub fn parkflip(jdk: &Jdk) -> Option<PathBuf> {
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hch-codecache/tests/agents/parkflip.c");
    let out = hch_testkit::scratch_dir("agents").join(format!("libparkflip-jdk{}.so", jdk.feature));
    let has_jvmti = |inc: &PathBuf| inc.join("jvmti.h").is_file();
    let inc = std::iter::once(jdk.clone())
        .chain(hch_testkit::jdks())
        .map(|j| j.home.join("include"))
        .find(has_jvmti)?;
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
