//! Finding the JVMs on this host, also those in containers, without attaching to any: a process
//! is a JVM when `libjvm.so` is in its memory map; its version, vendor and main class come from
//! its hsperfdata file under `/proc/<pid>/root/tmp`, or else from its command line and JDK.

use std::fs;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;

use crate::hsperf::PerfData;
use crate::process::{jvm_options, read_status, same_namespace};
use crate::procfs::{self, Status};

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
    let maps = fs::read(format!("/proc/{pid}/maps"));
    let (readable, java_home) = match &maps {
        Ok(m) => {
            let text = String::from_utf8_lossy(m);
            let lib = procfs::libjvm_path(&text)?;
            (true, procfs::java_home_of(lib).map(str::to_string))
        }
        // Another user's process: judge by name; its details stay hidden.
        Err(_) if status.name == "java" => (false, None),
        Err(_) => return None,
    };
    let ns_pid = status.ns_pid(pid);
    let perf = perf_data(pid, ns_pid);
    let text = |key: &str| perf.as_ref().and_then(|p| p.text(key)).map(str::to_string);
    let version =
        text("java.property.java.version").or_else(|| release_version(pid, java_home.as_deref()));
    let main = text("sun.rt.javaCommand")
        .and_then(|c| c.split_whitespace().next().map(str::to_string))
        .or_else(|| main_from_cmdline(pid));
    let attach = attach_state(pid, &status, readable, text("java.rt.vmArgs"));
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
        attach,
        attachable: attach.is_attachable(),
    })
}

/// Whether another pid or mount namespace holds the process; `None` when that cannot be seen.
fn in_container(pid: u32) -> Option<bool> {
    match (same_namespace(pid, "pid"), same_namespace(pid, "mnt")) {
        (Some(false), _) | (_, Some(false)) => Some(true),
        (Some(true), Some(true)) => Some(false),
        _ => None,
    }
}

/// The JVM's hsperfdata file, found under any user's directory in its own `/tmp`.
fn perf_data(pid: u32, ns_pid: u32) -> Option<PerfData> {
    let tmp = format!("/proc/{pid}/root/tmp");
    let dirs = fs::read_dir(tmp).ok()?.filter_map(Result::ok);
    let mut users = dirs.filter(|d| d.file_name().to_string_lossy().starts_with("hsperfdata_"));
    users.find_map(|dir| PerfData::parse(&read_capped(&dir.path().join(ns_pid.to_string()))?).ok())
}

/// A file's first MiB: hsperfdata files are 32 KiB by default, and a container's `/tmp` is
/// not to be trusted with more.
fn read_capped(path: &std::path::Path) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// `JAVA_VERSION` from the JDK's `release` file, read through the JVM's root.
fn release_version(pid: u32, java_home: Option<&str>) -> Option<String> {
    let release = fs::read_to_string(format!("/proc/{pid}/root{}/release", java_home?)).ok()?;
    procfs::release_version(&release)
}

/// The main class from `/proc/<pid>/cmdline`, skipping the executable.
fn main_from_cmdline(pid: u32) -> Option<String> {
    let args = procfs::split_nul(&fs::read(format!("/proc/{pid}/cmdline")).ok()?);
    procfs::main_of_command_line(args.get(1..)?)
}

/// Judges attachability from what can be seen without attaching.
fn attach_state(pid: u32, status: &Status, readable: bool, vm_args: Option<String>) -> AttachState {
    let our_uid = rustix::process::geteuid().as_raw();
    if our_uid != 0 && status.euid() != our_uid {
        return AttachState::OtherUser;
    }
    if !readable {
        return AttachState::NoAccess;
    }
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
    let socket = format!("/proc/{pid}/root/tmp/.java_pid{}", status.ns_pid(pid));
    if fs::metadata(socket).is_ok_and(|m| m.file_type().is_socket()) {
        return AttachState::Listening;
    }
    if !status.catches_sigquit() {
        return AttachState::NotReady;
    }
    AttachState::Ready
}
