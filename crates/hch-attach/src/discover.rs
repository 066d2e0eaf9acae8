//! Finding the JVMs on this host, also those in containers, without attaching to any: a process
//! is a JVM when `libjvm.so` is in its memory map; its version, vendor and main class come from
//! its hsperfdata file in its own `/tmp`, or else from its command line and JDK.
//!
//! A process's files are reached only inside its root and read under [`FileRules`]: a FIFO,
//! a device or a link planted in a container's `/tmp` is skipped, not read.

use std::fs;
use std::os::fd::AsFd;

use rustix::fs::{Dir, FileType, OFlags};

use crate::hsperf::PerfData;
use crate::process::{jvm_options, read_proc, read_start_time, read_status, same_namespace};
use crate::procfs::{self, Status};
use crate::root::{self, FileRules, TargetRoot};

/// Whether hch can attach to a JVM, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttachState {
    /// The attach listener already runs (a socket is there).
    Listening,
    /// hch can attach; the first attach starts the listener.
    Ready,
    /// Started with `-XX:+DisableAttachMechanism`.
    Disabled,
    /// It does not catch SIGQUIT yet (still starting, or `-Xrs`).
    NotReady,
    /// It belongs to another user and hch is not root.
    OtherUser,
    /// hch may not look into the process (no ptrace access).
    NoAccess,
}

impl AttachState {
    /// Whether an attach can be expected to work.
    pub fn is_attachable(self) -> bool {
        matches!(self, AttachState::Listening | AttachState::Ready)
    }

    /// The state in a few words, with the fix when there is one.
    pub fn describe(self) -> &'static str {
        match self {
            AttachState::Listening => "yes (listener running)",
            AttachState::Ready => "yes",
            AttachState::Disabled => "no: -XX:+DisableAttachMechanism",
            AttachState::NotReady => "no: not handling SIGQUIT yet",
            AttachState::OtherUser => "no: another user's (run as that user or root)",
            AttachState::NoAccess => "no: access denied (root or CAP_SYS_PTRACE)",
        }
    }
}

/// One JVM on this host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JvmProcess {
    /// Its pid on this host (what `hch jcmd` takes).
    pub pid: u32,
    /// Its pid in its own pid namespace (differs in a container).
    pub ns_pid: u32,
    /// Its effective uid.
    pub uid: u32,
    /// That uid's name on this host, or the number.
    pub user: String,
    /// The main class, `-jar` file or module, when known.
    pub main: Option<String>,
    /// `java.version`, e.g. `17.0.15`, when known.
    pub version: Option<String>,
    /// `java.vm.vendor`, when known.
    pub vendor: Option<String>,
    /// The JDK directory as the JVM sees it, when known.
    pub java_home: Option<String>,
    /// Whether it lives in another pid or mount namespace (a container); `None` when hch may
    /// not look.
    pub in_container: Option<bool>,
    /// Whether hch's agent library is loaded (`hch agent status` says whether it runs).
    pub agent: bool,
    /// The container id from `/proc/<pid>/cgroup` (Docker, containerd, CRI-O, Podman), when
    /// there is one.
    pub container_id: Option<String>,
    /// The process's start time (clock ticks after boot): with the pid, it names one process.
    pub start_time: Option<u64>,
    /// Whether hch can attach.
    pub attach: AttachState,
    /// `attach.is_attachable()`, spelled out for JSON readers.
    pub attachable: bool,
}

/// Every JVM on this host, by pid. Processes that vanish while being looked at are skipped.
pub fn list_jvms() -> Vec<JvmProcess> {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let me = std::process::id();
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.retain(|&p| p != me);
    pids.sort_unstable();
    pids.into_iter()
        .filter_map(|pid| probe(pid, &passwd))
        .collect()
}

/// Looks at one process; `None` when it is not a JVM (or is gone).
pub fn probe(pid: u32, passwd: &str) -> Option<JvmProcess> {
    let status = read_status(pid).ok()?;
    let maps = read_proc(pid, "maps");
    let (readable, java_home, agent) = match &maps {
        Ok(m) => {
            let text = String::from_utf8_lossy(m);
            let lib = procfs::libjvm_path(&text)?;
            let home = procfs::java_home_of(lib).map(str::to_string);
            (true, home, procfs::agent_mapped(&text))
        }
        // Another user's process: judge by name; its details stay hidden.
        Err(_) if status.name == "java" => (false, None, false),
        Err(_) => return None,
    };
    let ns_pid = status.ns_pid(pid);
    let root = readable.then(|| TargetRoot::of_process(pid).ok()).flatten();
    let perf = root
        .as_ref()
        .and_then(|r| perf_data(r, ns_pid, status.euid()));
    let text = |key: &str| perf.as_ref().and_then(|p| p.text(key)).map(str::to_string);
    let version = text("java.property.java.version")
        .or_else(|| release_version(root.as_ref()?, java_home.as_deref()?));
    let main = text("sun.rt.javaCommand")
        .and_then(|c| c.split_whitespace().next().map(str::to_string))
        .or_else(|| main_from_cmdline(pid));
    let attach = attach_state(pid, &status, root.as_ref(), text("java.rt.vmArgs"));
    Some(JvmProcess {
        pid,
        ns_pid,
        uid: status.euid(),
        user: procfs::user_name(passwd, status.euid()).unwrap_or_else(|| status.euid().to_string()),
        main,
        version,
        vendor: text("java.property.java.vm.vendor"),
        java_home: java_home.or_else(|| text("java.property.java.home")),
        in_container: in_container(pid),
        agent,
        container_id: read_proc(pid, "cgroup")
            .ok()
            .and_then(|c| procfs::container_id(&String::from_utf8_lossy(&c))),
        start_time: read_start_time(pid).ok(),
        attach,
        attachable: attach.is_attachable(),
    })
}

/// Whether a library whose file name is `name` (e.g. `libhch_agent.so`) is mapped into the
/// process; `None` when its map cannot be read.
pub fn maps_library(pid: u32, name: &str) -> Option<bool> {
    let maps = read_proc(pid, "maps").ok()?;
    let text = String::from_utf8_lossy(&maps);
    Some(text.lines().any(|l| {
        l.split_whitespace()
            .nth(5)
            .is_some_and(|p| p.rsplit('/').next() == Some(name))
    }))
}

/// The process's command line (arguments split at NUL), empty when it cannot be read.
pub fn command_line(pid: u32) -> Vec<String> {
    procfs::split_nul(&read_proc(pid, "cmdline").unwrap_or_default())
}

/// Whether another pid or mount namespace holds the process; `None` when that cannot be seen.
fn in_container(pid: u32) -> Option<bool> {
    match (same_namespace(pid, "pid"), same_namespace(pid, "mnt")) {
        (Some(false), _) | (_, Some(false)) => Some(true),
        (Some(true), Some(true)) => Some(false),
        _ => None,
    }
}

/// The most hch reads of an hsperfdata file (32 KiB by default; `-XX:PerfDataMemorySize`
/// rarely goes past a few hundred KiB).
const MAX_PERF_DATA: u64 = 1 << 20;
/// The most hch reads of a JDK's `release` file (under 2 KiB in every JDK).
const MAX_RELEASE: u64 = 64 << 10;

/// The JVM's hsperfdata file, found under any user's directory in its own `/tmp`: a regular
/// file of the JVM's user with one link, of at most [`MAX_PERF_DATA`] bytes.
fn perf_data(root: &TargetRoot, ns_pid: u32, uid: u32) -> Option<PerfData> {
    let tmp = root.open_dir("/tmp").ok()?;
    let listing = rustix::fs::openat(
        &tmp,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ok()?;
    let rules = FileRules {
        owner: Some(uid),
        max_len: MAX_PERF_DATA,
        single_link: true,
    };
    let dirs = Dir::read_from(&listing).ok()?.filter_map(Result::ok);
    let mut users = dirs.filter(|d| {
        d.file_type() == FileType::Directory && d.file_name().to_bytes().starts_with(b"hsperfdata_")
    });
    users.find_map(|d| {
        let name = d.file_name().to_str().ok()?;
        let dir = root.open_dir(&format!("/tmp/{name}")).ok()?;
        let file = root::open_checked_at(dir.as_fd(), &ns_pid.to_string(), &rules).ok()?;
        PerfData::parse(&root::read_capped(file, MAX_PERF_DATA).ok()?).ok()
    })
}

/// `JAVA_VERSION` from the JDK's `release` file, read inside the JVM's root. The file belongs
/// to whoever installed the JDK, so only its kind, links and size are checked.
fn release_version(root: &TargetRoot, java_home: &str) -> Option<String> {
    let rules = FileRules {
        owner: None,
        max_len: MAX_RELEASE,
        single_link: false,
    };
    let bytes = root.read(&format!("{java_home}/release"), &rules).ok()?;
    procfs::release_version(&String::from_utf8_lossy(&bytes))
}

/// The main class from `/proc/<pid>/cmdline`, skipping the executable.
fn main_from_cmdline(pid: u32) -> Option<String> {
    let args = procfs::split_nul(&read_proc(pid, "cmdline").ok()?);
    procfs::main_of_command_line(args.get(1..)?)
}

/// Judges attachability from what can be seen without attaching.
fn attach_state(
    pid: u32,
    status: &Status,
    root: Option<&TargetRoot>,
    vm_args: Option<String>,
) -> AttachState {
    let our_uid = rustix::process::geteuid().as_raw();
    if our_uid != 0 && status.euid() != our_uid {
        return AttachState::OtherUser;
    }
    let Some(root) = root else {
        return AttachState::NoAccess;
    };
    let mut options = jvm_options(pid);
    options.extend(
        vm_args
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string),
    );
    if procfs::attach_disabled(options.iter().map(String::as_str)) {
        return AttachState::Disabled;
    }
    let socket = format!("/tmp/.java_pid{}", status.ns_pid(pid));
    let is_socket = root
        .open(&socket, OFlags::PATH)
        .and_then(|fd| Ok(rustix::fs::fstat(&fd)?))
        .is_ok_and(|st| {
            FileType::from_raw_mode(st.st_mode) == FileType::Socket && st.st_uid == status.euid()
        });
    if is_socket {
        return AttachState::Listening;
    }
    if !status.catches_sigquit() {
        return AttachState::NotReady;
    }
    AttachState::Ready
}
