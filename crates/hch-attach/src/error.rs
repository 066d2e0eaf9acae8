//! Why attaching failed, each with its cause and what to do about it.

use std::io;
use std::time::Duration;

use crate::protocol::{DecodeError, EncodeError};

/// The fix for every "not allowed" case, in one place.
const PERMISSION_FIX: &str = "run hch as the JVM's user or as root, or give it CAP_SYS_PTRACE; \
     in Kubernetes, `kubectl debug -it <pod> --target=<container> --profile=sysadmin` runs it \
     next to the JVM";

/// An attach that did not get as far as an answer from the JVM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// No process has this pid (or it has exited).
    #[error("no process {pid}: it does not exist or has exited (`hch list` shows the JVMs here)")]
    NoSuchProcess {
        /// The pid asked for.
        pid: u32,
    },
    /// The process does not have HotSpot loaded.
    #[error("process {pid} ({name}) is not a HotSpot JVM: it has no libjvm.so mapped (`hch list` shows the JVMs here)")]
    NotAJvm {
        /// The pid.
        pid: u32,
        /// Its command name.
        name: String,
    },
    /// The JVM runs with `-XX:+DisableAttachMechanism`.
    #[error("JVM {pid} runs with -XX:+DisableAttachMechanism and accepts no attach; restart it without that option")]
    AttachDisabled {
        /// The pid.
        pid: u32,
    },
    /// The JVM does not catch SIGQUIT yet: signalling it would kill it.
    #[error("JVM {pid} does not handle SIGQUIT (yet): it is still starting, or runs with -Xrs and no attach listener; signalling it would kill it, so hch did not; try again once it is up")]
    NotReady {
        /// The pid.
        pid: u32,
    },
    /// The JVM belongs to another user and hch is not root.
    #[error("JVM {pid} belongs to {owner} (uid {uid}) but hch runs as uid {our_uid}: run `sudo -u {owner} hch …` or run hch as root")]
    OtherUser {
        /// The pid.
        pid: u32,
        /// The JVM's effective uid.
        uid: u32,
        /// Its user name, or the uid when unknown.
        owner: String,
        /// hch's effective uid.
        our_uid: u32,
    },
    /// The kernel refused an operation on the process or its files.
    #[error("permission denied {doing} (process {pid}): {fix}", fix = PERMISSION_FIX)]
    PermissionDenied {
        /// The pid.
        pid: u32,
        /// What hch was doing, e.g. "reading /proc/42/maps".
        doing: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The attach listener did not come up in time.
    #[error("JVM {pid} did not open its attach socket {socket} within {waited:?}: it may be stuck (a long GC or safepoint), a /tmp cleaner may have removed the socket, or attach may be disabled; retry with a longer --timeout")]
    Timeout {
        /// The pid.
        pid: u32,
        /// How long hch waited.
        waited: Duration,
        /// The socket path waited for (as hch saw it).
        socket: String,
    },
    /// The JVM exited while hch talked to it.
    #[error("JVM {pid} exited {during}")]
    Exited {
        /// The pid.
        pid: u32,
        /// What hch was doing, e.g. "while waiting for its attach listener".
        during: String,
    },
    /// The request cannot be sent as is.
    #[error("cannot send this request to JVM {pid}")]
    Request {
        /// The pid.
        pid: u32,
        /// What is wrong with it.
        #[source]
        source: EncodeError,
    },
    /// The JVM's answer is not an attach reply.
    #[error("JVM {pid} sent no valid reply")]
    Reply {
        /// The pid.
        pid: u32,
        /// What is wrong with it.
        #[source]
        source: DecodeError,
    },
    /// Any other I/O error, with what hch was doing.
    #[error("{doing} (process {pid})")]
    Io {
        /// The pid.
        pid: u32,
        /// What hch was doing.
        doing: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl AttachError {
    /// Classifies an OS error on the process: not allowed, gone, or anything else.
    pub(crate) fn from_io(pid: u32, doing: impl Into<String>, source: io::Error) -> AttachError {
        let doing = doing.into();
        const EPERM: i32 = 1;
        const ESRCH: i32 = 3;
        match source.raw_os_error() {
            _ if source.kind() == io::ErrorKind::PermissionDenied => {
                AttachError::PermissionDenied { pid, doing, source }
            }
            Some(EPERM) => AttachError::PermissionDenied { pid, doing, source },
            Some(ESRCH) => AttachError::NoSuchProcess { pid },
            _ => AttachError::Io { pid, doing, source },
        }
    }
}
