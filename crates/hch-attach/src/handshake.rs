//! Reaching a JVM's attach listener: connect to `/tmp/.java_pid<nspid>`, and when nothing
//! listens, create `/tmp/.attach_pid<nspid>`, send SIGQUIT to the host pid, and wait a bounded
//! time for the socket, as jattach and the JDK do.
//!
//! Both names are looked up in a handle on the JVM's `/tmp` opened inside its root (see
//! `root`): a container's symlinks cannot lead hch to another JVM's socket or make it create a
//! file elsewhere. The socket must be the JVM's own (owner, mode, not a symlink), as the JDK's
//! client checks. The trigger is new (`O_EXCL`) and removed only while its name still names
//! the file hch created. The JDK also looks for the trigger in the JVM's working directory;
//! hch uses `/tmp` only, because a working directory cannot be checked to lie inside the
//! JVM's root.
//!
//! Runs on hch's thread or on the helper thread of `os`; the caller has checked that the JVM
//! may be signalled.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::error::AttachError;
use crate::root::{self, FileId};

/// One JVM's listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listener<'a> {
    /// Host pid (for signals).
    pub pid: u32,
    /// The JVM's own pid (in file names).
    pub ns_pid: u32,
    /// The JVM's effective uid, as this host sees it: the socket's owner.
    pub uid: u32,
    /// The JVM's `/tmp`, opened inside its root.
    pub tmp: &'a OwnedFd,
    /// How long to wait for the socket after SIGQUIT.
    pub timeout: Duration,
}

impl Listener<'_> {
    fn socket_name(&self) -> String {
        format!(".java_pid{}", self.ns_pid)
    }

    /// A connection if the listener runs; `None` if no socket answers (none yet, or a stale
    /// one left by an earlier JVM with the same pid).
    pub fn connect(&self) -> Result<Option<UnixStream>, AttachError> {
        let name = self.socket_name();
        root::connect_socket_at(self.tmp.as_fd(), &name, self.uid)
            .map_err(|e| AttachError::from_io(self.pid, format!("connecting to /tmp/{name}"), e))
    }

    /// Starts the listener (trigger file, SIGQUIT) and connects once it is up.
    pub fn start(&self) -> Result<UnixStream, AttachError> {
        let _trigger = Trigger::create(self)?;
        let pid =
            Pid::from_raw(self.pid as i32).ok_or(AttachError::NoSuchProcess { pid: self.pid })?;
        rustix::process::kill_process(pid, Signal::QUIT)
            .map_err(|e| AttachError::from_io(self.pid, "sending SIGQUIT", e.into()))?;
        self.wait(pid)
    }

    /// Polls for the socket, 5 ms at first and backing off to 100 ms, until the timeout.
    fn wait(&self, pid: Pid) -> Result<UnixStream, AttachError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            std::thread::sleep(pause);
            if let Some(s) = self.connect()? {
                return Ok(s);
            }
            if rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH) {
                let during = "while starting its attach listener".to_string();
                return Err(AttachError::Exited {
                    pid: self.pid,
                    during,
                });
            }
            if start.elapsed() >= self.timeout {
                let socket = format!("/tmp/{}", self.socket_name());
                return Err(AttachError::Timeout {
                    pid: self.pid,
                    waited: start.elapsed(),
                    socket,
                });
            }
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}

/// The `.attach_pid<nspid>` file hch created, removed on every way out; `None` inside when the
/// name existed already (someone else's trigger: left alone).
struct Trigger<'a> {
    dir: &'a OwnedFd,
    name: String,
    id: Option<FileId>,
}

impl<'a> Trigger<'a> {
    /// Creates the trigger in the JVM's `/tmp`, as the calling thread's user.
    fn create(l: &Listener<'a>) -> Result<Trigger<'a>, AttachError> {
        let name = format!(".attach_pid{}", l.ns_pid);
        let id = match root::create_new(l.tmp.as_fd(), &name, 0o600) {
            Ok((_fd, id)) => Some(id),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => None,
            Err(e) => {
                return Err(AttachError::from_io(
                    l.pid,
                    format!("creating /tmp/{name}"),
                    e,
                ))
            }
        };
        Ok(Trigger {
            dir: l.tmp,
            name,
            id,
        })
    }
}

impl Drop for Trigger<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let _ = root::remove_if_same(self.dir.as_fd(), &self.name, id);
        }
    }
}
