//! Reaching a JVM's attach listener: connect to `<tmp>/.java_pid<nspid>`, and when nothing
//! listens, create `.attach_pid<nspid>` (in the JVM's working directory, else its tmp), send
//! SIGQUIT to the host pid, and wait a bounded time for the socket, as jattach and the JDK do.
//! Runs on hch's thread or on the helper thread of `os`; the caller has checked that the JVM
//! may be signalled.

use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::process::{Pid, Signal};

use crate::error::AttachError;

/// One JVM's listener as seen from the calling thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listener {
    /// Host pid (for signals).
    pub pid: u32,
    /// The JVM's own pid (in file names).
    pub ns_pid: u32,
    /// How long to wait for the socket after SIGQUIT.
    pub timeout: Duration,
}

impl Listener {
    /// The JVM's tmp: plain `/tmp` when the thread is in its mount namespace, else through
    /// `/proc/<pid>/root` (which also works across namespaces, given ptrace access).
    fn tmp(&self, in_its_namespace: bool) -> PathBuf {
        match in_its_namespace {
            true => PathBuf::from("/tmp"),
            false => PathBuf::from(format!("/proc/{}/root/tmp", self.pid)),
        }
    }

    fn socket(&self, in_its_namespace: bool) -> PathBuf {
        self.tmp(in_its_namespace)
            .join(format!(".java_pid{}", self.ns_pid))
    }

    /// A connection if the listener runs; `None` if no socket answers (none yet, or a stale
    /// one left by an earlier JVM with the same pid).
    pub fn connect(&self, in_its_namespace: bool) -> Result<Option<UnixStream>, AttachError> {
        let socket = self.socket(in_its_namespace);
        match UnixStream::connect(&socket) {
            Ok(s) => Ok(Some(s)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(AttachError::from_io(
                self.pid,
                format!("connecting to {}", socket.display()),
                e,
            )),
        }
    }

    /// Starts the listener (trigger file, SIGQUIT) and connects once it is up. `cwd` is the
    /// JVM's working directory, opened beforehand on hch's own thread.
    pub fn start(
        &self,
        in_its_namespace: bool,
        cwd: Option<&OwnedFd>,
    ) -> Result<UnixStream, AttachError> {
        let tmp = self.tmp(in_its_namespace);
        let _trigger = Trigger::create(self, cwd, &tmp)?;
        let pid =
            Pid::from_raw(self.pid as i32).ok_or(AttachError::NoSuchProcess { pid: self.pid })?;
        rustix::process::kill_process(pid, Signal::QUIT)
            .map_err(|e| AttachError::from_io(self.pid, "sending SIGQUIT", e.into()))?;
        self.wait(pid, in_its_namespace)
    }

    /// Polls for the socket, 5 ms at first and backing off to 100 ms, until the timeout.
    fn wait(&self, pid: Pid, in_its_namespace: bool) -> Result<UnixStream, AttachError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            std::thread::sleep(pause);
            if let Some(s) = self.connect(in_its_namespace)? {
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
                let socket = self.socket(in_its_namespace).display().to_string();
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

/// The `.attach_pid<nspid>` file, removed on every way out.
struct Trigger<'a> {
    dir: TriggerDir<'a>,
    name: String,
}

enum TriggerDir<'a> {
    Cwd(&'a OwnedFd),
    Tmp(&'a Path),
}

impl<'a> Trigger<'a> {
    /// In the JVM's working directory, or in its tmp when that fails or the file would not be
    /// ours (some mounts change owners, and the JVM ignores a file of another user).
    fn create(
        l: &Listener,
        cwd: Option<&'a OwnedFd>,
        tmp: &'a Path,
    ) -> Result<Trigger<'a>, AttachError> {
        let name = format!(".attach_pid{}", l.ns_pid);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mode = Mode::from_raw_mode(0o600);
        if let Some(cwd) = cwd {
            if let Ok(fd) = rustix::fs::openat(cwd, &name, flags, mode) {
                let trigger = Trigger {
                    dir: TriggerDir::Cwd(cwd),
                    name: name.clone(),
                };
                let me = rustix::process::geteuid().as_raw();
                if rustix::fs::fstat(&fd).is_ok_and(|st| st.st_uid == me) {
                    return Ok(trigger);
                }
            }
        }
        let path = tmp.join(&name);
        rustix::fs::open(&path, flags, mode).map_err(|e| {
            AttachError::from_io(l.pid, format!("creating {}", path.display()), e.into())
        })?;
        Ok(Trigger {
            dir: TriggerDir::Tmp(tmp),
            name,
        })
    }
}

impl Drop for Trigger<'_> {
    fn drop(&mut self) {
        let _ = match self.dir {
            TriggerDir::Cwd(fd) => {
                rustix::fs::unlinkat(fd, &self.name, AtFlags::empty()).map_err(io::Error::from)
            }
            TriggerDir::Tmp(dir) => fs::remove_file(dir.join(&self.name)),
        };
    }
}
