//! The Linux driver: a JVM found by pid, its attach listener started on demand, one request per
//! connection. Like jattach: the namespace pid from `NStgid`, the target's `/tmp` inside its
//! root, `.attach_pid<nspid>` there, SIGQUIT to the host pid, a bounded wait for
//! `.java_pid<nspid>`, and, when hch is root and the JVM is another user's, its uid/gid on a
//! helper thread (see `os`). Every path is resolved inside the JVM's root (see `root`).

use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::error::AttachError;
use crate::handshake::Listener;
use crate::os;
use crate::process::{self, read_start_time, read_status};
use crate::procfs;
use crate::protocol::{self, Capabilities, EncodeError, Reply};
use crate::root::TargetRoot;

/// How patient to be.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long to wait for the JVM's attach listener to come up after SIGQUIT (the JDK's
    /// default is 10 s, jattach's about 6 s).
    pub timeout: Duration,
    /// The longest a whole reply may take once connected, however the JVM trickles it (a
    /// heap dump can take minutes; a hostile socket must not hold hch forever).
    pub reply_timeout: Duration,
}

/// The default reply deadline: long enough for a `Thread.print` of a busy JVM or a class
/// histogram, short enough that a silent peer does not hold hch.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(300);

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
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
    root: TargetRoot,
    tmp: OwnedFd,
    /// The uid and gid to connect as (a helper thread), when hch is root and the JVM is not.
    creds: Option<(u32, u32)>,
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
        let root = TargetRoot::of_process(pid)
            .map_err(|e| AttachError::from_io(pid, format!("opening /proc/{pid}/root"), e))?;
        if read_start_time(pid)? != start_time {
            return Err(AttachError::NoSuchProcess { pid }); // the pid was reused meanwhile
        }
        let tmp = root
            .open_dir("/tmp")
            .map_err(|e| AttachError::from_io(pid, "opening the JVM's /tmp", e))?;
        let creds = (our_uid == 0 && (uid, gid) != (0, 0)).then_some((uid, gid));
        let (ns_pid, options, caps) = (status.ns_pid(pid), options.clone(), None);
        Ok(Vm {
            pid,
            ns_pid,
            uid,
            gid,
            start_time,
            root,
            tmp,
            creds,
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

    /// The JVM's root directory: every path of the JVM resolves inside it.
    pub fn root(&self) -> &TargetRoot {
        &self.root
    }

    /// The JVM's `/tmp`, opened inside its root when the JVM was opened.
    pub fn tmp_dir(&self) -> &OwnedFd {
        &self.tmp
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
        let deadline = Instant::now() + self.options.reply_timeout;
        stream
            .set_write_timeout(Some(self.options.reply_timeout))
            .map_err(|e| io_err("configuring the socket", e))?;
        send_all(&stream, request).map_err(|e| io_err("sending the request", e))?;
        let bytes = read_reply(&stream, deadline).map_err(|e| io_err("reading the reply", e))?;
        Reply::decode(bytes).map_err(|source| AttachError::Reply { pid, source })
    }

    /// A connection to the attach listener, started first if need be.
    fn connect(&self) -> Result<UnixStream, AttachError> {
        let listener = Listener {
            pid: self.pid,
            ns_pid: self.ns_pid,
            uid: self.uid,
            tmp: &self.tmp,
            timeout: self.options.timeout,
        };
        if let Some(s) = self.as_target(|| listener.connect())? {
            return Ok(s);
        }
        self.check_before_signal()?;
        self.as_target(|| listener.start())
    }

    /// Runs `work` as the JVM's user when hch is root (see `os`), else right here.
    pub fn as_target<T: Send>(
        &self,
        work: impl FnOnce() -> Result<T, AttachError> + Send,
    ) -> Result<T, AttachError> {
        let Some(creds) = self.creds else {
            return work();
        };
        os::run_as(creds, work).map_err(|e| {
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

/// The largest answer accepted (a `Thread.print` of many thousand threads is tens of MB).
const MAX_REPLY: u64 = 1 << 30;

/// Reads until the JVM closes or the deadline passes, however slowly the bytes come. A reset
/// after some bytes keeps them (the JVM may close with our request unread, e.g. protocol 2 sent
/// to JDK 17).
fn read_reply(mut stream: &UnixStream, deadline: Instant) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the JVM did not finish its reply in time ({} bytes so far); give a longer --timeout for slow commands",
                    bytes.len()
                ),
            ));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok(bytes),
            Ok(n) if (bytes.len() + n) as u64 > MAX_REPLY => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                    "the reply is larger than {MAX_REPLY} bytes; is this socket really a JVM's?"
                ),
                ))
            }
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !bytes.is_empty() => {
                return Ok(bytes)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
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
