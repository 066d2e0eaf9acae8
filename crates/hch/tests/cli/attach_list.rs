//! `hch list` and attaching to JVMs in containers, on every JDK found: a JVM in its own mount
//! and pid namespace with a private tmpfs on /tmp (what a container is to the kernel) is listed
//! with its namespace pid and reached by its host pid; as root, also one in a user namespace
//! whose root is uid 100000 on the host (a rootless or userns-remapped container), which only
//! works when hch enters its mount namespace and takes its uid.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hch_testkit::{require_jdks, scratch_dir, Jdk, Jvm, Launch};
use serde_json::Value;

fn hch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .output()
        .expect("run hch")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `hch list --json`, the entry for `pid`.
fn listed(pid: u32) -> Value {
    let out = hch(&["list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = all.as_array().unwrap().iter().find(|j| j["pid"] == pid);
    entry
        .cloned()
        .unwrap_or_else(|| panic!("pid {pid} not listed: {all}"))
}

/// The unshare wrapper for a private /tmp in new mount and pid namespaces.
const PRIVATE_TMP: &str = "mount -t tmpfs tmpfs /tmp && exec \"$0\" \"$@\"";

/// Whether this machine lets us make namespaces (root, util-linux, no seccomp veto).
fn can_unshare(extra: &[&str]) -> bool {
    let mut args = extra.to_vec();
    args.extend(["--mount", "--pid", "--fork", "--mount-proc", "true"]);
    rustix::process::geteuid().is_root()
        && Command::new("unshare")
            .args(&args)
            .status()
            .is_ok_and(|s| s.success())
}

/// `hch jcmd <pid> VM.version` must print what the JDK's jcmd prints for the same JVM.
fn assert_attaches(jdk: &Jdk, pid: u32) {
    let ours = hch(&["jcmd", &pid.to_string(), "VM.version"]);
    assert_eq!(
        ours.status.code(),
        Some(0),
        "{}: {}",
        jdk.label(),
        text(&ours.stderr)
    );
    let version = text(&ours.stdout);
    assert!(
        version.starts_with(&format!("{pid}:\n"))
            && version.contains(&format!("JDK {}", jdk.version)),
        "{version}"
    );
}

#[test]
fn host_jvms_are_listed_with_version_and_main_class() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let j = listed(jvm.pid);
        assert_eq!(j["ns_pid"], jvm.pid);
        assert_eq!(j["version"], jdk.version.as_str());
        assert_eq!(j["main"], "Park");
        assert_eq!(j["in_container"], false);
        assert_eq!(j["attachable"], true);
        assert_eq!(j["attach"], "ready", "nothing attached yet: {j}");
        assert_attaches(&jdk, jvm.pid);
        assert_eq!(listed(jvm.pid)["attach"], "listening");
        let table = text(&hch(&["list"]).stdout);
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&jvm.pid.to_string()));
        assert!(
            row.is_some_and(|r| r.contains("Park") && r.contains(&jdk.version)),
            "{table}"
        );
    }
    let disabled = Jvm::start(
        &require_jdks()[0],
        "Park",
        &Launch::args(["0", "1"]).jvm(["-XX:+DisableAttachMechanism"]),
    );
    let j = listed(disabled.pid);
    assert_eq!(
        (j["attach"].as_str(), j["attachable"].as_bool()),
        (Some("disabled"), Some(false))
    );
}

#[test]
fn a_jvm_with_its_own_pid_namespace_and_private_tmp() {
    if !can_unshare(&[]) {
        eprintln!("SKIP: needs root and unshare (mount and pid namespaces)");
        return;
    }
    for jdk in require_jdks() {
        let launch = Launch {
            wrapper: [
                "unshare",
                "--mount",
                "--pid",
                "--fork",
                "--mount-proc",
                "sh",
                "-c",
                PRIVATE_TMP,
            ]
            .map(String::from)
            .to_vec(),
            ..Launch::args(["0", "1"])
        };
        let jvm = Jvm::start(&jdk, "Park", &launch);
        let pid = jvm.java_pid();
        assert_ne!(pid, jvm.pid, "{}: the JVM runs under unshare", jdk.label());
        assert!(
            !Path::new(&format!("/tmp/hsperfdata_root/{pid}")).exists(),
            "its /tmp is private"
        );
        let j = listed(pid);
        assert_eq!(
            (j["ns_pid"].as_u64(), j["in_container"].as_bool()),
            (Some(1), Some(true)),
            "{j}"
        );
        assert_eq!(
            j["version"],
            jdk.version.as_str(),
            "read from its own /tmp/hsperfdata_root/1"
        );
        assert_eq!(j["main"], "Park");
        assert_attaches(&jdk, pid);
        // The JDK's own jcmd agrees (it reaches the container through /proc/<pid>/root too).
        let theirs = Command::new(jdk.tool("jcmd"))
            .args([&pid.to_string(), "VM.version"])
            .output()
            .unwrap();
        assert_eq!(
            text(&hch(&["jcmd", &pid.to_string(), "VM.version"]).stdout),
            text(&theirs.stdout)
        );
    }
}

#[test]
fn a_jvm_in_a_user_namespace_owned_by_another_uid() {
    if !can_unshare(&["--user", "--map-root-user"]) {
        eprintln!("SKIP: needs root and unshare (user, mount and pid namespaces)");
        return;
    }
    for jdk in require_jdks() {
        let flag =
            scratch_dir("userns").join(format!("mapped-{}-{}", std::process::id(), jdk.feature));
        let _ = std::fs::remove_file(&flag);
        // In a new user namespace: wait until the test has mapped its uids, become its root
        // (host uid 100000), then a private /tmp and pid namespace as above.
        let script = format!(
            "while [ ! -e \"$0\" ]; do sleep 0.02; done; exec setpriv --reuid=0 --regid=0 --clear-groups \
             unshare --mount --pid --fork --mount-proc sh -c '{PRIVATE_TMP}' \"$@\""
        );
        let launch = Launch {
            wrapper: vec![
                "unshare".into(),
                "--user".into(),
                "--keep-caps".into(),
                "sh".into(),
                "-c".into(),
                script,
                flag.display().to_string(),
            ],
            ..Launch::args(["0", "1"])
        };
        let mapper = std::thread::spawn({
            let flag = flag.clone();
            move || map_uids_when_waiting(&flag)
        });
        let jvm = Jvm::start(&jdk, "Park", &launch);
        mapper.join().unwrap();
        let pid = jvm.java_pid();
        let j = listed(pid);
        assert_eq!(
            (j["uid"].as_u64(), j["ns_pid"].as_u64()),
            (Some(100000), Some(1)),
            "{j}"
        );
        assert_eq!(j["attach"], "ready", "{j}");
        // Host root is nobody in there: without taking uid 100000 the JVM would ignore us.
        assert_attaches(&jdk, pid);
        let info = hch(&["info", &pid.to_string(), "--json"]);
        assert_eq!(info.status.code(), Some(0), "{}", text(&info.stderr));
        let _ = std::fs::remove_file(&flag);
    }
}

/// Finds the shell waiting for `flag` in its new user namespace, maps ns uid/gid 0..65536 to
/// host 100000.., then creates the flag.
fn map_uids_when_waiting(flag: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let marker = flag.display().to_string();
    loop {
        assert!(
            Instant::now() < deadline,
            "the user-namespace shell never appeared"
        );
        let waiting = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let in_new_ns = std::fs::read_link(format!("/proc/{pid}/ns/user")).ok()
                    != std::fs::read_link("/proc/self/ns/user").ok();
                in_new_ns
                    && String::from_utf8_lossy(&cmdline).contains(&marker)
                    && cmdline.starts_with(b"sh\0")
            });
        if let Some(pid) = waiting {
            std::fs::write(format!("/proc/{pid}/uid_map"), "0 100000 65536\n").unwrap();
            std::fs::write(format!("/proc/{pid}/gid_map"), "0 100000 65536\n").unwrap();
            std::fs::write(flag, b"").unwrap();
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
