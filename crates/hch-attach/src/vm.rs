//! The Linux driver: a JVM found by pid, its attach listener started on demand, one request per
//! connection. Matches jattach: the namespace pid from `NStgid`, the target's `/tmp` through
//! `/proc/<pid>/root/tmp`, `.attach_pid<nspid>` in its working directory and then its `/tmp`,
//! SIGQUIT to the host pid, a bounded wait for `.java_pid<nspid>`, and, when hch is root, the
//! target's mount namespace (when it differs) and uid/gid on a helper thread (see `os`).

use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, Signal};

use crate::error::AttachError;
use crate::os::{self, Isolation};
use crate::procfs::{self, Status};
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

/// Reads a file of `/proc/<pid>`, mapping "missing" to "no such process".
fn read_proc(pid: u32, file: &str) -> Result<Vec<u8>, AttachError> {
    let path = format!("/proc/{pid}/{file}");
    fs::read(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => AttachError::NoSuchProcess { pid },
        _ => AttachError::from_io(pid, format!("reading {path}"), e),
    })
}

/// The `/proc/<pid>/status` of a live process.
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
fn read_start_time(pid: u32) -> Result<u64, AttachError> {
    let stat = String::from_utf8_lossy(&read_proc(pid, "stat")?).into_owned();
    procfs::stat_start_time(&stat).ok_or(AttachError::NoSuchProcess { pid })
}

/// The name of a uid on this host, or the number.
pub(crate) fn owner_name(uid: u32) -> String {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    procfs::user_name(&passwd, uid).unwrap_or_else(|| uid.to_string())
}

/// The JVM options of a process: its command line and the environment variables the launcher
/// and the JVM read options from.
pub(crate) fn jvm_options(pid: u32) -> Vec<String> {
    let mut opts = procfs::split_nul(&fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default());
    let environ = fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    for var in ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"] {
        let value = procfs::env_var(&environ, var).unwrap_or_default();
        opts.extend(value.split_whitespace().map(str::to_string));
    }
    opts
}

/// Whether two processes share a namespace (by the inode behind `/proc/<pid>/ns/<kind>`).
pub(crate) fn same_namespace(pid: u32, kind: &str) -> bool {
    let mine = fs::read_link(format!("/proc/self/ns/{kind}"));
    let theirs = fs::read_link(format!("/proc/{pid}/ns/{kind}"));
    matches!((mine, theirs), (Ok(a), Ok(b)) if a == b)
}

impl Vm {
    /// Checks that `pid` is a HotSpot JVM hch may attach to, without touching it yet.
    pub fn open(pid: u32, options: &Options) -> Result<Vm, AttachError> {
        let status = read_status(pid)?;
        let start_time = read_start_time(pid)?;
        let our_uid = rustix::process::geteuid().as_raw();
        let (uid, gid) = (status.euid(), status.egid());
        let other_user = || AttachError::OtherUser {
            pid,
            uid,
            owner: owner_name(uid),
            our_uid,
        };
        let maps = match read_proc(pid, "maps") {
            Err(AttachError::PermissionDenied { .. }) if our_uid != 0 && uid != our_uid => {
                return Err(other_user())
            }
            other => other?,
        };
        if procfs::libjvm_path(&String::from_utf8_lossy(&maps)).is_none() {
            return Err(AttachError::NotAJvm {
                pid,
                name: status.name,
            });
        }
        if our_uid != 0 && uid != our_uid {
            return Err(other_user());
        }
        if procfs::attach_disabled(jvm_options(pid).iter().map(String::as_str)) {
            return Err(AttachError::AttachDisabled { pid });
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
        let mut bytes = Vec::new();
        match (&stream).read_to_end(&mut bytes) {
            Ok(_) => {}
            // The JVM may close with our request unread (e.g. protocol 2 to JDK 17): keep
            // whatever it said before the reset.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !bytes.is_empty() => {}
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                let during = format!(
                    "to answer within {:?}",
                    self.options.reply_timeout.unwrap_or_default()
                );
                let source = io::Error::new(io::ErrorKind::TimedOut, during);
                return Err(io_err("waiting for the reply", source));
            }
            Err(e) => return Err(io_err("reading the reply", e)),
        }
        Reply::decode(bytes).map_err(|source| AttachError::Reply { pid, source })
    }

    /// A connection to the attach listener, as the target's user when hch is root.
    fn connect(&self) -> Result<UnixStream, AttachError> {
        let status = read_status(self.pid)?;
        let plan = Plan {
            pid: self.pid,
            ns_pid: self.ns_pid,
            cwd: open_dir(&format!("/proc/{}/cwd", self.pid)),
            catches_sigquit: status.catches_sigquit(),
            timeout: self.options.timeout,
        };
        if !self.iso.is_needed() {
            return plan.handshake(false);
        }
        os::run_as_target(&self.iso, |entered| plan.handshake(entered)).map_err(|e| {
            let doing = format!("taking uid {} and gid {} of the JVM", self.uid, self.gid);
            AttachError::from_io(self.pid, doing, e)
        })?
    }
}

/// What to change to act as the target: its mount namespace when it differs, its ids when they
/// differ from root's. Only root can (and needs to) do either.
fn isolation_for(pid: u32, our_uid: u32, (uid, gid): (u32, u32)) -> Result<Isolation, AttachError> {
    if our_uid != 0 {
        return Ok(Isolation {
            mnt: None,
            creds: None,
        });
    }
    let mnt = if same_namespace(pid, "mnt") {
        None
    } else {
        let path = format!("/proc/{pid}/ns/mnt");
        let fd = fs::File::open(&path)
            .map_err(|e| AttachError::from_io(pid, format!("opening {path}"), e))?;
        Some(OwnedFd::from(fd))
    };
    let creds = ((uid, gid) != (0, 0)).then_some((uid, gid));
    Ok(Isolation { mnt, creds })
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

/// Writes the whole request without raising SIGPIPE if the JVM hung up.
fn send_all(stream: &UnixStream, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = rustix::net::send(stream.as_fd(), buf, rustix::net::SendFlags::NOSIGNAL)?;
        buf = &buf[n..];
    }
    Ok(())
}

/// The handshake's inputs, gathered on hch's own thread (where `/proc` is the host's).
struct Plan {
    pid: u32,
    ns_pid: u32,
    cwd: Option<OwnedFd>,
    catches_sigquit: bool,
    timeout: Duration,
}

/// Where the trigger file went, so that it is removed on every way out.
struct Trigger<'a> {
    dir: TriggerDir<'a>,
    name: String,
}

enum TriggerDir<'a> {
    Cwd(&'a OwnedFd),
    Tmp(&'a Path),
}

impl Drop for Trigger<'_> {
    fn drop(&mut self) {
        let _ = match self.dir {
            TriggerDir::Cwd(fd) => {
                rustix::fs::unlinkat(fd, &self.name, rustix::fs::AtFlags::empty())
                    .map_err(io::Error::from)
            }
            TriggerDir::Tmp(dir) => fs::remove_file(dir.join(&self.name)),
        };
    }
}

impl Plan {
    /// Connects to `<tmp>/.java_pid<nspid>`, first starting the listener if nothing answers.
    /// `entered`: this thread is in the target's mount namespace, so its tmp is `/tmp`.
    fn handshake(&self, entered: bool) -> Result<UnixStream, AttachError> {
        let tmp = if entered {
            PathBuf::from("/tmp")
        } else {
            PathBuf::from(format!("/proc/{}/root/tmp", self.pid))
        };
        let socket = tmp.join(format!(".java_pid{}", self.ns_pid));
        match UnixStream::connect(&socket) {
            Ok(s) => return Ok(s),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) => {}
            Err(e) => {
                return Err(AttachError::from_io(
                    self.pid,
                    format!("connecting to {}", socket.display()),
                    e,
                ))
            }
        }
        if !self.catches_sigquit {
            return Err(AttachError::NotReady { pid: self.pid });
        }
        let _trigger = self.create_trigger(&tmp)?;
        let pid =
            Pid::from_raw(self.pid as i32).ok_or(AttachError::NoSuchProcess { pid: self.pid })?;
        rustix::process::kill_process(pid, Signal::QUIT)
            .map_err(|e| AttachError::from_io(self.pid, "sending SIGQUIT", e.into()))?;
        self.wait_for_listener(pid, &socket)
    }

    /// Creates `.attach_pid<nspid>` in the JVM's working directory, or in its tmp when that
    /// fails or the file would not be ours (some mounts change owners; the JVM would ignore it).
    fn create_trigger<'a>(&'a self, tmp: &'a Path) -> Result<Trigger<'a>, AttachError> {
        let name = format!(".attach_pid{}", self.ns_pid);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mode = Mode::from_raw_mode(0o600);
        if let Some(cwd) = &self.cwd {
            if let Ok(fd) = rustix::fs::openat(cwd, &name, flags, mode) {
                let trigger = Trigger {
                    dir: TriggerDir::Cwd(cwd),
                    name: name.clone(),
                };
                let ours = rustix::fs::fstat(&fd)
                    .is_ok_and(|st| st.st_uid == rustix::process::geteuid().as_raw());
                if ours {
                    return Ok(trigger);
                }
            }
        }
        let path = tmp.join(&name);
        rustix::fs::open(&path, flags, mode).map_err(|e| {
            AttachError::from_io(self.pid, format!("creating {}", path.display()), e.into())
        })?;
        Ok(Trigger {
            dir: TriggerDir::Tmp(tmp),
            name,
        })
    }

    /// Polls for the socket, 5 ms at first and backing off to 100 ms, until `timeout`.
    fn wait_for_listener(&self, pid: Pid, socket: &Path) -> Result<UnixStream, AttachError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            std::thread::sleep(pause);
            if let Ok(s) = UnixStream::connect(socket) {
                return Ok(s);
            }
            if rustix::process::test_kill_process(pid).is_err_and(|e| e == rustix::io::Errno::SRCH)
            {
                let during = "while starting its attach listener".to_string();
                return Err(AttachError::Exited {
                    pid: self.pid,
                    during,
                });
            }
            if start.elapsed() >= self.timeout {
                let socket = socket.display().to_string();
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
