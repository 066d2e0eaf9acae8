//! Test harness for hch: finds every JDK on the machine, compiles the workload programs kept in
//! `examples/`, launches them as real JVMs and kills them when the guard drops.
//!
//! # Design constraints
//! - No mock JVMs: every feature that talks to a JVM is tested against a real one.
//! - Tests run on every JDK found (`JAVA_HOME`, `/usr/lib/jvm/*`, `/opt/hch-jdks/*`, `PATH`); a
//!   test that needs a feature one JDK lacks skips that JDK only, and says so on stderr.
//! - A JDK without `javac` (the jlinked runtimes `scripts/install_test_jdks.sh` puts under
//!   `/opt/hch-jdks`) still counts: its workloads are compiled by a newer JDK's javac with
//!   `--release N`.
//! - A JVM never outlives its test: [`Jvm`] kills and reaps it on drop, also on panic.

#![deny(missing_docs)]

pub mod browser;
pub mod hostile;
pub mod jmx;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One JDK installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jdk {
    /// The JDK's home directory (canonical).
    pub home: PathBuf,
    /// The feature release, e.g. 17 or 25.
    pub feature: u32,
    /// The `release` file's JAVA_VERSION, e.g. `17.0.15`.
    pub version: String,
}

impl Jdk {
    /// Path of a tool in the JDK's `bin`, e.g. `java`, `jcmd`, `jfr`.
    pub fn tool(&self, name: &str) -> PathBuf {
        self.home.join("bin").join(name)
    }

    /// Whether the JDK has a tool (a JRE or headless package may lack some).
    pub fn has_tool(&self, name: &str) -> bool {
        self.tool(name).is_file()
    }

    /// What this JDK's own `jcmd PID COMMAND` prints, without its `PID:` header line: the
    /// oracle for diagnostic commands. Panics when jcmd cannot run.
    pub fn jcmd(&self, pid: u32, command: &str) -> String {
        let out = Command::new(self.tool("jcmd"))
            .arg(pid.to_string())
            .args(command.split(' '))
            .output()
            .unwrap_or_else(|e| panic!("jcmd {pid} {command} on {}: {e}", self.label()));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default()
    }

    /// This JDK's own `jfr summary FILE`, the oracle for recordings: event type -> (count,
    /// bytes), zero counts dropped. Panics when jfr cannot run or fails.
    pub fn jfr_summary(&self, path: &Path) -> BTreeMap<String, (u64, u64)> {
        let out = Command::new(self.tool("jfr"))
            .arg("summary")
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("jfr summary on {}: {e}", self.label()));
        assert!(
            out.status.success(),
            "jfr summary {} on {}: {}",
            path.display(),
            self.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut map = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let [name, count, bytes] = line.split_whitespace().collect::<Vec<_>>()[..] {
                if let (Ok(c), Ok(b)) = (count.parse::<u64>(), bytes.parse::<u64>()) {
                    if c > 0 {
                        map.insert(name.to_string(), (c, b));
                    }
                }
            }
        }
        map
    }

    /// This JDK's own `jfr print --json --events EVENT FILE` with whole stacks (`jfr print`
    /// keeps 5 frames by default, and a host blob can lie deeper under inlined frames): the
    /// events, each with its `values`. Panics when jfr cannot run or fails.
    pub fn jfr_events(&self, path: &Path, event: &str) -> Vec<serde_json::Value> {
        let out = Command::new(self.tool("jfr"))
            .args([
                "print",
                "--json",
                "--stack-depth",
                "4096",
                "--events",
                event,
            ])
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("jfr print on {}: {e}", self.label()));
        assert!(
            out.status.success(),
            "jfr print {} on {}: {}",
            path.display(),
            self.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("jfr print --json gives JSON");
        match v["recording"]["events"].take() {
            serde_json::Value::Array(events) => events,
            _ => Vec::new(),
        }
    }

    /// A short label for messages: `jdk17 (/usr/lib/jvm/...)`.
    pub fn label(&self) -> String {
        format!("jdk{} ({})", self.feature, self.home.display())
    }

    /// Reads a JDK home; `None` when it is not a usable JDK with `java` and a `release` file.
    /// A runtime without `javac` counts: [`compile`] borrows another JDK's javac for it.
    pub fn probe(home: &Path) -> Option<Jdk> {
        let home = home.canonicalize().ok()?;
        if !home.join("bin/java").is_file() {
            return None;
        }
        let release = std::fs::read_to_string(home.join("release")).ok()?;
        let version = release
            .lines()
            .find_map(|l| l.strip_prefix("JAVA_VERSION="))?
            .trim_matches('"')
            .to_string();
        let feature = parse_feature(&version)?;
        Some(Jdk {
            home,
            feature,
            version,
        })
    }
}

/// The feature release of a version string: `1.8.0_392` is 8, `17.0.15` is 17, `25` is 25.
pub fn parse_feature(version: &str) -> Option<u32> {
    let mut parts = version.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// Where `scripts/install_test_jdks.sh` (run by `.ci/run`) puts the JDK 11 and 21 runtimes,
/// unless `HCH_JDKS_DIR` (read by both) says otherwise.
pub const EXTRA_JDKS_DIR: &str = "/opt/hch-jdks";

/// Every JDK on this machine, one per feature release, newest last.
///
/// Looks at `JAVA_HOME`, `/usr/lib/jvm/*`, `/opt/hch-jdks/*` and the `java` on `PATH`; for one
/// feature release the first found wins. `HCH_TEST_JDKS` (a colon-separated list of homes)
/// replaces the search, for running tests on one JDK.
pub fn jdks() -> Vec<Jdk> {
    match std::env::var("HCH_TEST_JDKS") {
        Ok(list) => one_per_feature(list.split(':').filter(|s| !s.is_empty()).map(PathBuf::from)),
        Err(_) => one_per_feature(default_homes()),
    }
}

/// The JDKs with `javac`, oldest first, from the full search and `HCH_TEST_JDKS`: the compilers
/// [`compile`] can borrow for a runtime without one.
fn compilers() -> Vec<Jdk> {
    let mut v: Vec<Jdk> = one_per_feature(default_homes())
        .into_iter()
        .chain(jdks())
        .filter(|j| j.has_tool("javac"))
        .collect();
    v.sort_by_key(|j| j.feature);
    v.dedup_by_key(|j| j.feature);
    v
}

/// The first usable JDK of each feature release among `homes`, oldest first.
fn one_per_feature(homes: impl IntoIterator<Item = PathBuf>) -> Vec<Jdk> {
    let mut by_feature: BTreeMap<u32, Jdk> = BTreeMap::new();
    for h in homes {
        if let Some(jdk) = Jdk::probe(&h) {
            by_feature.entry(jdk.feature).or_insert(jdk);
        }
    }
    by_feature.into_values().collect()
}

/// `JAVA_HOME`, `/usr/lib/jvm/*`, `/opt/hch-jdks/*` and the home of the `java` on `PATH`.
fn default_homes() -> Vec<PathBuf> {
    let mut homes: Vec<PathBuf> = Vec::new();
    if let Some(h) = std::env::var_os("JAVA_HOME") {
        homes.push(h.into());
    }
    let extra = std::env::var_os("HCH_JDKS_DIR").unwrap_or_else(|| EXTRA_JDKS_DIR.into());
    for dir in [PathBuf::from("/usr/lib/jvm"), PathBuf::from(extra)] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            v.sort();
            homes.extend(v);
        }
    }
    if let Some(java) = which("java") {
        if let Ok(real) = java.canonicalize() {
            if let Some(home) = real.parent().and_then(Path::parent) {
                homes.push(home.to_path_buf());
            }
        }
    }
    homes
}

/// Every JDK, or a panic saying how to get one: a test machine without a JDK is misconfigured.
pub fn require_jdks() -> Vec<Jdk> {
    let v = jdks();
    assert!(
        !v.is_empty(),
        "no JDK found (JAVA_HOME, /usr/lib/jvm/*, /opt/hch-jdks/*, PATH): \
         apt-get install -y openjdk-17-jdk-headless; scripts/install_test_jdks.sh for JDK 11 and 21"
    );
    v
}

/// Says on stderr that a test skips one JDK, and why.
pub fn skip(jdk: &Jdk, why: &str) {
    eprintln!("SKIP on {}: {why}", jdk.label());
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// The repository root (where `examples/` lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// A workload program kept in the repository: `examples/<name>.java`.
pub fn workload_source(name: &str) -> PathBuf {
    repo_root().join("examples").join(format!("{name}.java"))
}

/// A scratch directory under `target/` for this test binary, created on demand.
pub fn scratch_dir(name: &str) -> PathBuf {
    let d = repo_root().join("target/hch-test").join(name);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// The agent library (`libhch_agent.so`) of this build: the copy cargo keeps in `deps/`, next
/// to the test binary, which every build of a package that depends on `hch-agent` refreshes
/// (the one uplifted beside `hch` is refreshed only by builds of `hch-agent` itself).
pub fn agent_library() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary's directory");
    for dir in [deps.to_path_buf(), deps.join("deps")] {
        let p = dir.join("libhch_agent.so");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "libhch_agent.so not found next to {}: build with `cargo build`",
        exe.display()
    )
}

/// A free TCP port on 127.0.0.1 (the listener is closed again before a JVM binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// JVM options for the out-of-the-box JMX agent on 127.0.0.1:`port` (registry and connector
/// on the one port), without authentication or TLS.
pub fn jmx_agent_options(port: u16) -> Vec<String> {
    let p = "-Dcom.sun.management.jmxremote";
    vec![
        format!("{p}.port={port}"),
        format!("{p}.rmi.port={port}"),
        format!("{p}.host=127.0.0.1"),
        "-Djava.rmi.server.hostname=127.0.0.1".into(),
        format!("{p}.authenticate=false"),
        format!("{p}.ssl=false"),
    ]
}

/// Where compiled workloads go: under `target/`, except for a checkout under /tmp, whose classes
/// a JVM with a private /tmp (the container tests) could not see: then under /var/tmp.
fn classes_dir() -> PathBuf {
    let root = repo_root();
    if !root.starts_with("/tmp") {
        return scratch_dir("classes");
    }
    let name: String = root
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let d = PathBuf::from("/var/tmp/hch-test-classes").join(name);
    std::fs::create_dir_all(&d).expect("create /var/tmp classes dir");
    d
}

/// The javac that compiles for `jdk` and the `--release` it needs: the JDK's own javac (no
/// `--release`), else that of the oldest JDK of a feature release N or newer with
/// `--release N` (javac supports no newer release than its own, and newer javacs drop the
/// oldest releases first), else the newest javac there is with its own release (older class
/// files run on newer JVMs). `None` when no JDK on the machine has javac.
pub fn javac_for(jdk: &Jdk) -> Option<(PathBuf, Option<u32>)> {
    if jdk.has_tool("javac") {
        return Some((jdk.tool("javac"), None));
    }
    let compilers = compilers();
    let c = compilers
        .iter()
        .find(|c| c.feature >= jdk.feature)
        .or(compilers.last())?;
    Some((c.tool("javac"), Some(c.feature.min(jdk.feature))))
}

/// Compiles `examples/<name>.java` (or any source path) once per JDK feature release and
/// returns the class directory: with the JDK's javac, or for a runtime without one with a newer
/// JDK's javac and `--release N`. Compiling beats single-file launch: a test's JVM is ready
/// sooner (and a runtime without `jdk.compiler` cannot launch source files at all).
pub fn compile(jdk: &Jdk, source: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let stem = source.file_stem().unwrap().to_string_lossy().to_string();
    // One directory per version of the source: a directory in use is never replaced under a
    // running JVM (a fresh checkout makes every source newer than the classes).
    let meta = std::fs::metadata(source).expect("the workload's source");
    let stamp = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let version = format!("{stem}-jdk{}-{stamp:x}-{}", jdk.feature, meta.len());
    let out = classes_dir().join(version);
    if out.join(".ok").exists() {
        return out;
    }
    // Compile into a private dir, then rename: other tests, threads and processes may race us.
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = classes_dir().join(format!(
        ".{stem}-jdk{}-{}-{n}",
        jdk.feature,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let (javac, release) = javac_for(jdk)
        .unwrap_or_else(|| panic!("{} has no javac, and no other JDK has one", jdk.label()));
    let mut cmd = Command::new(&javac);
    if let Some(n) = release {
        cmd.arg("--release").arg(n.to_string());
    }
    let status = cmd
        .args(["-nowarn", "-d"])
        .arg(&tmp)
        .arg(source)
        .status()
        .expect("run javac");
    assert!(
        status.success(),
        "{} {} failed for {}",
        javac.display(),
        source.display(),
        jdk.label()
    );
    std::fs::write(tmp.join(".ok"), b"").unwrap();
    if std::fs::rename(&tmp, &out).is_err() {
        let _ = std::fs::remove_dir_all(&tmp); // another compile won; its classes are the same
    }
    out
}

/// A running JVM that is killed and reaped when dropped.
#[derive(Debug)]
pub struct Jvm {
    child: Child,
    /// Its own working directory, removed with it.
    cwd: PathBuf,
    /// The JVM's pid.
    pub pid: u32,
    /// The JDK it runs on.
    pub jdk: Jdk,
    lines: mpsc::Receiver<String>,
}

/// How to launch a workload.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// JVM options before the main class, e.g. `-XX:+UnlockDiagnosticVMOptions`.
    pub jvm_args: Vec<String>,
    /// Program arguments after the main class.
    pub args: Vec<String>,
    /// A command prefix such as `unshare --mount --pid --fork` (the container case).
    pub wrapper: Vec<String>,
    /// Where the JVM's stderr goes (inherited when `None`).
    pub stderr: Option<PathBuf>,
}

impl Launch {
    /// Program arguments only.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(args: I) -> Self {
        Launch {
            args: args.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    /// Adds JVM options.
    pub fn jvm<I: IntoIterator<Item = S>, S: Into<String>>(mut self, opts: I) -> Self {
        self.jvm_args.extend(opts.into_iter().map(Into::into));
        self
    }
}

impl Jvm {
    /// Compiles and starts `examples/<name>.java` on `jdk` and waits for its `READY <pid>` line.
    /// The pid in that line is the JVM's own view, the namespace pid under a wrapper.
    pub fn start(jdk: &Jdk, name: &str, launch: &Launch) -> Jvm {
        let classes = compile(jdk, &workload_source(name));
        let mut cmd = if launch.wrapper.is_empty() {
            Command::new(jdk.tool("java"))
        } else {
            let mut c = Command::new(&launch.wrapper[0]);
            c.args(&launch.wrapper[1..]).arg(jdk.tool("java"));
            c
        };
        cmd.arg("-cp")
            .arg(&classes)
            .args(&launch.jvm_args)
            .arg(name)
            .args(&launch.args);
        // A working directory of its own: JVMs in different pid namespaces share namespace
        // pids (1), and in a shared directory one handshake's `.attach_pid1` could trigger or
        // be removed by another's.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cwd = scratch_dir("jvm-cwd").join(format!("{}-{n}", std::process::id()));
        std::fs::create_dir_all(&cwd).expect("create the JVM's working directory");
        cmd.current_dir(&cwd);
        let stderr = match &launch.stderr {
            Some(p) => Stdio::from(std::fs::File::create(p).expect("create the JVM's stderr file")),
            None => Stdio::inherit(),
        };
        cmd.stdout(Stdio::piped())
            .stderr(stderr)
            .stdin(Stdio::null());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} on {}: {e}", jdk.label()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let pid = child.id();
        let mut jvm = Jvm {
            child,
            cwd,
            pid,
            jdk: jdk.clone(),
            lines: rx,
        };
        jvm.wait_line("READY", Duration::from_secs(60));
        jvm
    }

    /// The pid of the JVM process itself: under a wrapper (`unshare --fork`) it is a child of the
    /// spawned process, found through /proc.
    pub fn java_pid(&self) -> u32 {
        find_java_descendant(self.pid).unwrap_or(self.pid)
    }

    /// Waits for a stdout line starting with `prefix`; panics after `timeout` or if the JVM exits.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(e) => panic!(
                    "JVM {} on {}: no '{prefix}' line: {e}",
                    self.pid,
                    self.jdk.label()
                ),
            }
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until the JVM has written `path` (a recording JFR writes when its `duration`
    /// ends): the file is not empty and its size held for half a second. Panics after a minute
    /// or when the JVM dies first.
    pub fn wait_for_file(&mut self, path: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = 0;
        while Instant::now() < deadline {
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if len > 0 && len == last {
                return;
            }
            last = len;
            assert!(self.alive(), "{}: the JVM died", self.jdk.label());
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!(
            "{}: nothing written to {}",
            self.jdk.label(),
            path.display()
        );
    }

    /// Kills the JVM now (also done on drop).
    /// SIGTERM first, so the JVM runs its shutdown (JFR removes its repository under /tmp),
    /// then SIGKILL after 3 s.
    pub fn kill(&mut self) {
        if let Some(p) = find_java_descendant(self.pid) {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(p.to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline
                && Path::new(&format!("/proc/{p}/exe")).exists()
                && self.alive()
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = Command::new("kill").arg("-9").arg(p.to_string()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.cwd);
    }
}

/// The first descendant of `pid` whose executable is named `java` (or `pid` itself).
fn find_java_descendant(pid: u32) -> Option<u32> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    if exe
        .as_ref()
        .and_then(|e| e.file_name())
        .is_some_and(|n| n == "java")
    {
        return Some(pid);
    }
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .find_map(find_java_descendant)
}

/// A small deterministic generator (xorshift64*) for the mutation tests, so a failure
/// reproduces from its seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_versions() {
        assert_eq!(parse_feature("1.8.0_392"), Some(8));
        assert_eq!(parse_feature("17.0.15"), Some(17));
        assert_eq!(parse_feature("25"), Some(25));
        assert_eq!(parse_feature("27-ea"), Some(27));
        assert_eq!(parse_feature("x"), None);
    }

    /// Workloads are compiled for each JDK's own feature release (class file major version
    /// N + 44), also with a borrowed javac.
    #[test]
    fn workloads_compile_for_every_jdk() {
        for jdk in require_jdks() {
            let (javac, release) = javac_for(&jdk).expect("a javac");
            let dir = compile(&jdk, &workload_source("Park"));
            let class = std::fs::read(dir.join("Park.class")).expect("Park.class");
            let major = u32::from(u16::from_be_bytes([class[6], class[7]]));
            let want = release.unwrap_or(jdk.feature);
            assert_eq!(major, want + 44, "{} ({})", jdk.label(), javac.display());
            if release.is_some_and(|r| r < jdk.feature) {
                eprintln!(
                    "{}: no javac of release {} or newer",
                    jdk.label(),
                    jdk.feature
                );
            }
        }
    }

    /// The harness itself, on every JDK found: a JVM starts, answers, and dies with its guard.
    #[test]
    fn starts_and_kills_a_jvm_on_every_jdk() {
        for jdk in require_jdks() {
            let pid;
            {
                let mut jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
                pid = jvm.pid;
                assert!(jvm.alive(), "{} died", jdk.label());
                assert!(Path::new(&format!("/proc/{pid}")).exists());
            }
            // Reaped by the guard: the pid is gone (or reused by something that is not it).
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&cmdline).contains("Park"),
                "JVM {pid} survived"
            );
        }
    }
}
