//! The Linux driver: a JVM found by pid, its attach listener started on demand, one request per
//! connection. Matches jattach: the namespace pid from `NStgid`, the target's `/tmp` through
//! `/proc/<pid>/root/tmp`, `.attach_pid<nspid>` in its working directory and then its `/tmp`,
//! SIGQUIT to the host pid, a bounded wait for `.java_pid<nspid>`, and, when hch is root and the
//! JVM is another user's, its uid/gid and mount namespace (when it differs) on a helper thread
//! (see `os`).

use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use rustix::fs::{Mode, OFlags};

use crate::error::AttachError;
use crate::handshake::Listener;
use crate::os::{self, Isolation};
use crate::process::{self, read_start_time, read_status};
use crate::procfs;
use crate::protocol::{self, Capabilities, EncodeError, Reply};

/// How patient to be.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long to wait for the JVM's attach listener to come up after SIGQUIT (the JDK's
    /// default is 10 s, jattach's about 6 s).
    pub timeout: Duration,
    /// How long to wait for a reply once connected; `None` waits as long as the command runs
    /// (a heap dump can take minutes), as `jcmd` does.
    pub reply_timeout: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            reply_timeout: None,
        }
    }
}

/// A local HotSpot JVM, checked and ready to take requests. Each request opens its own
/// connection (the JVM closes it after one reply); the listener stays up once started.
#[derive(Debug)]
pub struct Vm {
    pid: u32,
    ns_pid: u32,
    uid: u32,
    gid: u32,
    start_time: u64,
    iso: Isolation,
    options: Options,
    caps: Option<Capabilities>,
}

impl Vm {
    /// Looks the process up and decides how to reach it, without touching it yet. Whether it
    /// is a JVM that may be signalled is checked only when its listener has to be started.
    pub fn open(pid: u32, options: &Options) -> Result<Vm, AttachError> {
        let status = read_status(pid)?;
        let start_time = read_start_time(pid)?;
        let our_uid = rustix::process::geteuid().as_raw();
        let (uid, gid) = (status.euid(), status.egid());
        if our_uid != 0 && uid != our_uid {
            let owner = process::owner_name(uid);
            return Err(AttachError::OtherUser {
                pid,
                uid,
                owner,
                our_uid,
            });
        }
        let iso = isolation_for(pid, our_uid, (uid, gid))?;
        let (ns_pid, options, caps) = (status.ns_pid(pid), options.clone(), None);
        Ok(Vm {
            pid,
            ns_pid,
            uid,
            gid,
            start_time,
            iso,
            options,
            caps,
        })
    }

    /// The pid on this host.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The pid the JVM sees for itself (differs in a container).
    pub fn ns_pid(&self) -> u32 {
        self.ns_pid
    }

    /// The JVM's effective uid and gid (as this host sees them).
    pub fn owner(&self) -> (u32, u32) {
        (self.uid, self.gid)
    }

    /// The JVM's `/tmp` as hch reaches it: `/proc/<pid>/root/tmp`.
    pub fn tmp_dir(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/tmp", self.pid))
    }

    /// Whether the JVM still runs: the pid exists, is not a zombie, and is the same process.
    pub fn is_alive(&self) -> bool {
        read_status(self.pid).is_ok() && read_start_time(self.pid).ok() == Some(self.start_time)
    }

    /// Runs a diagnostic command line, as `jcmd <pid> <line>` does. Protocol 1 carries up to
    /// 1024 bytes; a longer line goes over protocol 2 when the JVM has it (JDK 24+).
    pub fn jcmd(&mut self, line: &str) -> Result<Reply, AttachError> {
        self.execute("jcmd", &[line])
    }

    /// Runs one attach operation (`jcmd`, `properties`, `threaddump`…) with its arguments.
    pub fn execute(&mut self, command: &str, args: &[&str]) -> Result<Reply, AttachError> {
        let request = match protocol::encode_v1(command, args) {
            Err(EncodeError::ArgTooLong { .. }) if self.capabilities()?.v2 => {
                protocol::encode_v2(command, &[], args)
            }
            other => other,
        };
        let request = request.map_err(|source| AttachError::Request {
            pid: self.pid,
            source,
        })?;
        self.round_trip(&request)
    }

    /// What the JVM says about protocol versions (asked once, on first need).
    pub fn capabilities(&mut self) -> Result<Capabilities, AttachError> {
        if let Some(c) = self.caps {
            return Ok(c);
        }
        let (command, args) = Capabilities::PROBE;
        let request = protocol::encode_v1(command, args).expect("the probe encodes");
        let caps = Capabilities::from_reply(&self.round_trip(&request)?);
        self.caps = Some(caps);
        Ok(caps)
    }

    /// Connects (starting the listener if needed), sends one request, reads the whole reply.
    fn round_trip(&self, request: &[u8]) -> Result<Reply, AttachError> {
        let stream = self.connect()?;
        let pid = self.pid;
        let io_err = |doing: &str, e| AttachError::from_io(pid, doing, e);
        stream
            .set_read_timeout(self.options.reply_timeout)
            .map_err(|e| io_err("configuring the socket", e))?;
        send_all(&stream, request).map_err(|e| io_err("sending the request", e))?;
        let bytes = read_reply(&stream).map_err(|e| io_err("reading the reply", e))?;
        Reply::decode(bytes).map_err(|source| AttachError::Reply { pid, source })
    }

    /// A connection to the attach listener, started first if need be.
    fn connect(&self) -> Result<UnixStream, AttachError> {
        let listener = Listener {
            pid: self.pid,
            ns_pid: self.ns_pid,
            timeout: self.options.timeout,
        };
        if let Some(s) = self.as_target(|in_ns| listener.connect(in_ns))? {
            return Ok(s);
        }
        self.check_before_signal()?;
        let cwd = open_dir(&format!("/proc/{}/cwd", self.pid));
        self.as_target(|in_ns| listener.start(in_ns, cwd.as_ref()))
    }

    /// Runs `work` as the JVM's user in its mount namespace when hch is root (see `os`), else
    /// right here. `work` learns whether it runs in the JVM's mount namespace.
    fn as_target<T: Send>(
        &self,
        work: impl FnOnce(bool) -> Result<T, AttachError> + Send,
    ) -> Result<T, AttachError> {
        if !self.iso.is_needed() {
            return work(false);
        }
        os::run_as_target(&self.iso, work).map_err(|e| {
            let doing = format!("taking uid {} and gid {} of the JVM", self.uid, self.gid);
            AttachError::from_io(self.pid, doing, e)
        })?
    }

    /// Before SIGQUIT, which kills any process that does not catch it: the process must have
    /// HotSpot loaded, allow attach, and catch the signal already.
    fn check_before_signal(&self) -> Result<(), AttachError> {
        let status = read_status(self.pid)?;
        if !process::has_libjvm(self.pid)? {
            return Err(AttachError::NotAJvm {
                pid: self.pid,
                name: status.name,
            });
        }
        let options = process::jvm_options(self.pid);
        if procfs::attach_disabled(options.iter().map(String::as_str)) {
            return Err(AttachError::AttachDisabled { pid: self.pid });
        }
        if !status.catches_sigquit() {
            return Err(AttachError::NotReady { pid: self.pid });
        }
        Ok(())
    }
}

/// What to change to act as the target. Only root needs (and can) change anything, and only for
/// a JVM of another user: root reaches any JVM's files through `/proc/<pid>/root`, and JVMs
/// accept root as a peer, but a JVM in a user namespace sees the host's root as nobody. Acting
/// as that JVM's user, `/proc/<pid>/root` may be closed to hch (the JVM is not dumpable when
/// its binary belongs to an unmapped user), so hch also enters its mount namespace when that
/// differs, as jattach does.
fn isolation_for(pid: u32, our_uid: u32, (uid, gid): (u32, u32)) -> Result<Isolation, AttachError> {
    if our_uid != 0 || (uid, gid) == (0, 0) {
        return Ok(Isolation {
            mnt: None,
            creds: None,
        });
    }
    let mnt = if process::same_namespace(pid, "mnt") != Some(false) {
        None
    } else {
        let path = format!("/proc/{pid}/ns/mnt");
        let fd = std::fs::File::open(&path)
            .map_err(|e| AttachError::from_io(pid, format!("opening {path}"), e))?;
        Some(OwnedFd::from(fd))
    };
    Ok(Isolation {
        mnt,
        creds: Some((uid, gid)),
    })
}

/// Opens a directory as a handle only (no read permission needed), or `None`.
fn open_dir(path: &str) -> Option<OwnedFd> {
    rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// The largest answer accepted (a `Thread.print` of many thousand threads is tens of MB).
const MAX_REPLY: u64 = 1 << 30;

/// Reads until the JVM closes. A reset after some bytes keeps them (the JVM may close with our
/// request unread, e.g. protocol 2 sent to JDK 17); a read timeout becomes `TimedOut`.
fn read_reply(stream: &UnixStream) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    match stream.take(MAX_REPLY + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 > MAX_REPLY => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the reply is larger than {MAX_REPLY} bytes; is this socket really a JVM's?"),
        )),
        Ok(_) => Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !bytes.is_empty() => Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the JVM did not answer within the reply timeout",
        )),
        Err(e) => Err(e),
    }
}

/// Writes the whole request without raising SIGPIPE if the JVM hung up.
fn send_all(stream: &UnixStream, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = rustix::net::send(stream.as_fd(), buf, rustix::net::SendFlags::NOSIGNAL)?;
        buf = &buf[n..];
    }
    Ok(())
}
