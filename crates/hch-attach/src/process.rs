//! Reading what `/proc` says about a process, with errors that name the process.

use std::fs::{self, File};
use std::io::{self, Read};

use crate::error::AttachError;
use crate::procfs::{self, Status};

/// The most hch reads of one `/proc` file: a process controls the size of its `environ`,
/// `cmdline` and `maps`, and 64 MiB is far past any JVM's.
const MAX_PROC_FILE: u64 = 64 << 20;

/// Reads `/proc/<pid>/<file>` up to [`MAX_PROC_FILE`]; "missing" means the process is gone.
pub(crate) fn read_proc(pid: u32, file: &str) -> Result<Vec<u8>, AttachError> {
    let path = format!("/proc/{pid}/{file}");
    // /proc files report size 0: start with a page so that small ones take one read.
    let mut bytes = Vec::with_capacity(4096);
    let read = File::open(&path).and_then(|f| f.take(MAX_PROC_FILE).read_to_end(&mut bytes));
    read.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => AttachError::NoSuchProcess { pid },
        _ => AttachError::from_io(pid, format!("reading {path}"), e),
    })?;
    Ok(bytes)
}

/// The `/proc/<pid>/status` of a live process (a zombie counts as gone).
pub(crate) fn read_status(pid: u32) -> Result<Status, AttachError> {
    let text = String::from_utf8_lossy(&read_proc(pid, "status")?).into_owned();
    let invalid = || io::Error::new(io::ErrorKind::InvalidData, "no Uid/Gid lines");
    let status = Status::parse(&text).ok_or_else(|| {
        AttachError::from_io(pid, format!("reading /proc/{pid}/status"), invalid())
    })?;
    if status.is_dead() {
        return Err(AttachError::NoSuchProcess { pid });
    }
    Ok(status)
}

/// The start time of `pid`, which with the pid names one process.
pub(crate) fn read_start_time(pid: u32) -> Result<u64, AttachError> {
    let stat = String::from_utf8_lossy(&read_proc(pid, "stat")?).into_owned();
    procfs::stat_start_time(&stat).ok_or(AttachError::NoSuchProcess { pid })
}

/// Whether `libjvm.so` is mapped into the process.
pub(crate) fn has_libjvm(pid: u32) -> Result<bool, AttachError> {
    let maps = read_proc(pid, "maps")?;
    Ok(procfs::libjvm_path(&String::from_utf8_lossy(&maps)).is_some())
}

/// The name of a uid on this host, or the number.
pub(crate) fn owner_name(uid: u32) -> String {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    procfs::user_name(&passwd, uid).unwrap_or_else(|| uid.to_string())
}

/// The JVM options of a process: its command line and the environment variables the launcher
/// and the JVM take options from.
pub(crate) fn jvm_options(pid: u32) -> Vec<String> {
    let mut opts = procfs::split_nul(&read_proc(pid, "cmdline").unwrap_or_default());
    let environ = read_proc(pid, "environ").unwrap_or_default();
    for var in ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"] {
        let value = procfs::env_var(&environ, var).unwrap_or_default();
        opts.extend(value.split_whitespace().map(str::to_string));
    }
    opts
}

/// Whether a process shares our namespace of a kind (`mnt`, `pid`), by the inode behind
/// `/proc/<pid>/ns/<kind>`; `None` when hch may not look.
pub(crate) fn same_namespace(pid: u32, kind: &str) -> Option<bool> {
    let mine = fs::read_link(format!("/proc/self/ns/{kind}")).ok()?;
    let theirs = fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()?;
    Some(mine == theirs)
}
