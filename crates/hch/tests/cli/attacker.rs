//! hch as root against a hostile container. A fake JVM (`attacker/fakejvm.c`, built static)
//! runs in a chroot as an unprivileged uid: its binary is called `java` and writes a marker
//! when run, its `/tmp` may be an absolute symlink, it swaps the recording hch reads back for
//! a FIFO, a device, a sparse giant or a symlink, its hsperfdata is a FIFO, its JDK `release`
//! links to `/dev/zero`, and its attach socket may be a symlink to a host JVM's socket.
//!
//! Each test checks: nothing of the target's executed, nothing created or changed outside the
//! target's root, a bounded time (hch runs with a deadline) and bounded memory (hch runs
//! under a 1 GiB address space limit), and an error that names the cause.
//!
//! These tests need root (chroot, other uids, device nodes) and gcc with a static libc; where
//! either is missing they say so on stderr and pass.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The unprivileged uid and gid the fake JVM runs as.
const UID: u32 = 4242;
/// The longest any hch run here may take before the test calls it a hang.
const DEADLINE: Duration = Duration::from_secs(40);
/// hch's address space limit: reading a multi-GiB file into memory would fail under it.
const ADDRESS_SPACE: &str = "1073741824";

/// Why these tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not root (chroot, other uids and device nodes need it)".into());
    }
    for tool in ["gcc", "chroot", "prlimit"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

/// Skips the test with a printed reason when it cannot run here.
macro_rules! require_root {
    () => {
        if let Some(why) = missing() {
            eprintln!("skipping: {why}");
            return;
        }
    };
}

/// A chroot for one fake JVM, and a host directory beside it that must stay untouched.
struct Scene {
    base: tempfile::TempDir,
}

impl Scene {
    /// Builds the chroot: the fake `java`, a `libjvm.so` to map, `/tmp`, a real recording.
    fn new(tmp_symlink: bool) -> Scene {
        let base = tempfile::Builder::new()
            .prefix("hch-attack-")
            .tempdir_in("/var/tmp")
            .unwrap();
        let s = Scene { base };
        std::fs::set_permissions(s.base.path(), PermissionsExt::from_mode(0o755)).unwrap();
        for d in ["root/usr/bin", "root/lib/server", "host"] {
            std::fs::create_dir_all(s.base.path().join(d)).unwrap();
        }
        chmod(&s.root(), 0o755);
        chmod(&s.host(), 0o1777);
        std::fs::write(s.root().join("lib/server/libjvm.so"), vec![0u8; 4096]).unwrap();
        std::fs::write(s.root().join("rec.jfr"), recording()).unwrap();
        chmod(&s.root().join("rec.jfr"), 0o644);
        let tmp = s.root().join("tmp");
        if tmp_symlink {
            // The container's /tmp names the host directory's path: resolved in the host's
            // root it would be that host directory; in the container's, its own copy.
            let inside = s.root().join(s.host().strip_prefix("/").unwrap());
            std::fs::create_dir_all(&inside).unwrap();
            chmod(&inside, 0o1777);
            symlink(s.host(), &tmp).unwrap();
        } else {
            std::fs::create_dir(&tmp).unwrap();
            chmod(&tmp, 0o1777);
        }
        s.build_fake();
        s
    }

    fn root(&self) -> PathBuf {
        self.base.path().join("root")
    }

    /// A host directory, world-writable, that nothing may touch.
    fn host(&self) -> PathBuf {
        self.base.path().join("host")
    }

    /// Where the fake writes if it is ever executed outside its chroot.
    fn marker(&self) -> PathBuf {
        self.host().join("fake-java-was-executed")
    }

    /// The container's tmp as the container sees it, reached from the host for checks.
    fn container_tmp(&self) -> PathBuf {
        let tmp = self.root().join("tmp");
        match std::fs::read_link(&tmp) {
            Ok(to) => self.root().join(to.strip_prefix("/").unwrap()),
            Err(_) => tmp,
        }
    }

    /// Compiles the fake JVM into the chroot as `/usr/bin/java`.
    fn build_fake(&self) {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attacker/fakejvm.c");
        let out = self.root().join("usr/bin/java");
        let o = Command::new("gcc")
            .args(["-static", "-O1", "-o"])
            .arg(&out)
            .arg(format!("-DMARKER=\"{}\"", self.marker().display()))
            .arg(&src)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "gcc -static: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Starts the fake JVM in the chroot as uid 4242.
    fn start(&self, mode: &str, arg: &str) -> Fake {
        self.start_as(UID, mode, arg)
    }

    /// Starts the fake JVM in the chroot as `uid` (0: a container that runs as root).
    fn start_as(&self, uid: u32, mode: &str, arg: &str) -> Fake {
        let mut child = Command::new("chroot")
            .arg(format!("--userspec={uid}:{uid}"))
            .arg(self.root())
            .args(["/usr/bin/java", mode, arg])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("READY"),
            "the fake JVM did not start: {line:?}"
        );
        let pid = child.id();
        Fake { child, pid }
    }

    /// Everything in the host directory: it must stay empty.
    fn host_entries(&self) -> Vec<String> {
        names(&self.host())
    }

    /// The files hch left in the container's tmp.
    fn hch_leftovers(&self) -> Vec<String> {
        names(&self.container_tmp())
            .into_iter()
            .filter(|n| n.starts_with("hch-") || n.starts_with(".attach_pid"))
            .collect()
    }
}

/// A fake JVM process, killed on drop.
struct Fake {
    child: Child,
    pid: u32,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, PermissionsExt::from_mode(mode)).unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A real JDK recording (public test data), decompressed.
fn recording() -> Vec<u8> {
    let gz = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../hch-jfr/tests/data/grafana/FastSlow_2024_01_16_180855.jfr.gz");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(gz).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Runs hch under the address space limit, killed if it outlives the deadline.
fn hch(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new("prlimit")
        .arg(format!("--as={ADDRESS_SPACE}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), start.elapsed());
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "hch {args:?} hung for {DEADLINE:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// hch ended by itself (no abort, no signal), with `code`.
fn assert_exit(o: &Output, ok: bool) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(o.status.signal(), None, "hch died of a signal: {}", text(o));
    assert_eq!(o.status.success(), ok, "{}", text(o));
}

fn directives_file(scene: &Scene) -> PathBuf {
    let f = scene.base.path().join("d.json");
    std::fs::write(&f, "[{ match: \"Foo.bar\", c2: { Exclude: false } }]\n").unwrap();
    f
}

#[test]
fn the_targets_java_is_never_executed() {
    require_root!();
    let scene = Scene::new(false);
    let fake = scene.start("normal", "");
    let pid = fake.pid.to_string();
    let file = directives_file(&scene);
    let file = file.to_str().unwrap();
    for args in [
        vec!["directives", "add", &pid, file],
        vec!["directives", "replace", &pid, file],
        vec![
            "profile",
            &pid,
            "--duration",
            "1s",
            "--apply",
            "--dialect",
            "stock",
        ],
    ] {
        let (o, _) = hch(&args);
        assert_exit(&o, true);
        assert!(
            !scene.marker().exists(),
            "hch {args:?} ran the target's java"
        );
    }
    assert_eq!(scene.host_entries(), Vec::<String>::new());
    assert_eq!(scene.hch_leftovers(), Vec::<String>::new());
}

#[test]
fn a_tmp_symlink_resolves_inside_the_container() {
    require_root!();
    let scene = Scene::new(true);
    let fake = scene.start("normal", "");
    let (o, _) = hch(&["profile", &fake.pid.to_string(), "--duration", "1s"]);
    assert_exit(&o, true);
    assert!(text(&o).contains("samples"), "{}", text(&o));
    assert_eq!(
        scene.host_entries(),
        Vec::<String>::new(),
        "hch wrote on the host"
    );
    assert_eq!(scene.hch_leftovers(), Vec::<String>::new());
}

#[test]
fn a_swapped_recording_is_refused_in_bounded_time_and_memory() {
    require_root!();
    let cases = [
        ("fifo", "", "FIFO"),
        ("device", "/tmp/zero", "character device"),
        ("sparse", "", "sparse"),
        ("symlink", "/etc/shadow", "symlink"),
    ];
    for (mode, arg, cause) in cases {
        let scene = Scene::new(false);
        if mode == "device" {
            let node = scene.root().join("tmp/zero");
            let dev = rustix::fs::makedev(1, 5);
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &node,
                rustix::fs::FileType::CharacterDevice,
                rustix::fs::Mode::from_raw_mode(0o666),
                dev,
            )
            .unwrap();
            std::os::unix::fs::chown(&node, Some(UID), Some(UID)).unwrap();
        }
        let fake = scene.start(mode, arg);
        let (o, took) = hch(&["profile", &fake.pid.to_string(), "--duration", "1s"]);
        assert_exit(&o, false);
        assert!(text(&o).contains(cause), "{mode}: {}", text(&o));
        assert!(took < Duration::from_secs(20), "{mode}: took {took:?}");
        // Only the attacker's swapped node may remain, never hch's settings file.
        let left: Vec<String> = scene
            .hch_leftovers()
            .into_iter()
            .filter(|n| !n.ends_with("recording.jfr"))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "{mode}");
        assert_eq!(scene.host_entries(), Vec::<String>::new(), "{mode}");
    }
}

#[test]
fn list_survives_a_fifo_hsperfdata_and_a_release_linked_to_dev_zero() {
    require_root!();
    let scene = Scene::new(false);
    let fake = scene.start("normal", "");
    let perf = scene.root().join("tmp/hsperfdata_attacker");
    std::fs::create_dir(&perf).unwrap();
    std::os::unix::fs::chown(&perf, Some(UID), Some(UID)).unwrap();
    let fifo = perf.join(fake.pid.to_string());
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    std::os::unix::fs::chown(&fifo, Some(UID), Some(UID)).unwrap();
    // hch takes the JDK home from the maps line, a host path: plant `release` both there
    // (inside the chroot) and at the chroot's top.
    let home = scene.root().join(scene.root().strip_prefix("/").unwrap());
    std::fs::create_dir_all(&home).unwrap();
    symlink("/dev/zero", home.join("release")).unwrap();
    symlink("/dev/zero", scene.root().join("release")).unwrap();
    let (o, took) = hch(&["list", "--json"]);
    assert_exit(&o, true);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let me = list
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["pid"] == fake.pid)
        .unwrap_or_else(|| panic!("the fake JVM is not listed: {list}"));
    assert_eq!(me["version"], serde_json::Value::Null, "{me}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_socket_symlink_to_a_host_jvm_is_refused() {
    require_root!();
    let Some(jdk) = hch_testkit::require_jdks().into_iter().next() else {
        return;
    };
    let host_jvm = hch_testkit::Jvm::start(&jdk, "Park", &hch_testkit::Launch::args(["0"]));
    let host_pid = host_jvm.pid.to_string();
    let (o, _) = hch(&["jcmd", &host_pid, "VM.version"]);
    assert_exit(&o, true);
    let real = String::from_utf8_lossy(&o.stdout).into_owned();
    let scene = Scene::new(false);
    let socket = format!("/tmp/.java_pid{}", host_jvm.pid);
    // As root in its container, the fake gets hch to connect as root: the host JVM would accept.
    let fake = scene.start_as(0, "socket-symlink", &socket);
    let (o, _) = hch(&[
        "jcmd",
        "--timeout",
        "3s",
        &fake.pid.to_string(),
        "VM.version",
    ]);
    assert_exit(&o, false);
    let said = text(&o);
    assert!(said.contains("symlink"), "{said}");
    let version_line = real.lines().nth(1).unwrap_or("JDK");
    assert!(
        !said.contains(version_line),
        "hch reached the host JVM: {said}"
    );
}
