//! A JVM on this host, reached by PID through the attach mechanism. Files the JVM must read or
//! has written live in its own `/tmp`, which hch reaches through `/proc/<pid>/root/tmp` (also
//! inside a container); the JVM sees them as `/tmp/<name>`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};

use hch_attach::{AttachError, Options, Vm};
use rustix::fs::{AtFlags, Mode, OFlags};

use crate::{Target, TargetError};

/// Numbers the files this process places, so that names never collide.
static NEXT_FILE: AtomicU32 = AtomicU32::new(0);

/// A local JVM by PID.
#[derive(Debug)]
pub struct LocalTarget {
    vm: Vm,
    /// The JVM's `/tmp`, opened on first use. The handle stays valid after the JVM exits, so
    /// files can still be removed then.
    tmp: Option<OwnedFd>,
}

impl LocalTarget {
    /// Checks that `pid` is a JVM hch may attach to (see [`Vm::open`]).
    pub fn open(pid: u32, options: &Options) -> Result<LocalTarget, TargetError> {
        let vm = Vm::open(pid, options).map_err(|source| TargetError::Attach {
            target: format!("pid {pid}"),
            source,
        })?;
        Ok(LocalTarget { vm, tmp: None })
    }

    /// The attach connection itself, for raw replies (`hch jcmd` prints them byte for byte).
    pub fn vm(&mut self) -> &mut Vm {
        &mut self.vm
    }

    fn attach_error(&self, source: AttachError) -> TargetError {
        TargetError::Attach {
            target: self.describe(),
            source,
        }
    }

    fn io_error(&self, doing: &str, source: io::Error) -> TargetError {
        TargetError::Io {
            context: format!("{}: {doing}", self.describe()),
            source,
        }
    }

    /// The handle on the JVM's `/tmp`.
    fn tmp_dir(&mut self) -> Result<&OwnedFd, TargetError> {
        if self.tmp.is_none() {
            let path = self.vm.tmp_dir();
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let fd = rustix::fs::open(&path, flags, Mode::empty())
                .map_err(|e| self.io_error(&format!("opening {}", path.display()), e.into()))?;
            self.tmp = Some(fd);
        }
        Ok(self.tmp.as_ref().expect("just opened"))
    }

    /// Gives a file hch created to the JVM's user, when hch runs as root for another user.
    fn hand_over(&self, fd: &OwnedFd) -> io::Result<()> {
        let (uid, gid) = self.vm.owner();
        if !rustix::process::geteuid().is_root() || (uid, gid) == (0, 0) {
            return Ok(());
        }
        let (uid, gid) = (
            rustix::fs::Uid::from_raw(uid),
            rustix::fs::Gid::from_raw(gid),
        );
        rustix::fs::fchown(fd, Some(uid), Some(gid)).map_err(io::Error::from)
    }

    /// Creates a new file in the JVM's `/tmp` (never following or reusing an existing name).
    fn create_new(&mut self, name: &str) -> Result<(OwnedFd, String), TargetError> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        loop {
            let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
            let file = format!("hch-{}-{n}-{name}", std::process::id());
            match rustix::fs::openat(self.tmp_dir()?, &file, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => return Ok((fd, file)),
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(self.io_error(&format!("creating /tmp/{file}"), e.into())),
            }
        }
    }
}

/// The file name of a path directly in the JVM's `/tmp`, where hch's files go.
fn tmp_name(jvm_path: &str) -> Option<&str> {
    let name = jvm_path.strip_prefix("/tmp/")?;
    (!name.is_empty() && !name.contains('/') && name != "..").then_some(name)
}

impl Target for LocalTarget {
    fn jcmd(&mut self, command: &str) -> Result<String, TargetError> {
        let reply = self.vm.jcmd(command).map_err(|e| self.attach_error(e))?;
        let output = reply.text().into_owned();
        if reply.failed() {
            let output = output.trim_end().to_string();
            return Err(TargetError::CommandFailed {
                target: self.describe(),
                command: command.into(),
                output,
            });
        }
        Ok(output)
    }

    fn describe(&self) -> String {
        format!("pid {}", self.vm.pid())
    }

    fn put_file(&mut self, name: &str, contents: &[u8]) -> Result<String, TargetError> {
        if name.is_empty() || name.contains('/') || name.contains('\0') {
            let source = io::Error::new(io::ErrorKind::InvalidInput, "a plain file name is needed");
            return Err(self.io_error(&format!("placing {name:?}"), source));
        }
        let (fd, file) = self.create_new(name)?;
        let jvm_path = format!("/tmp/{file}");
        let written = self
            .hand_over(&fd)
            .and_then(|()| File::from(fd).write_all(contents));
        if let Err(e) = written {
            let _ = self.remove_file(&jvm_path);
            return Err(self.io_error(&format!("writing {jvm_path}"), e));
        }
        Ok(jvm_path)
    }

    fn read_file(&mut self, jvm_path: &str) -> Result<Vec<u8>, TargetError> {
        let opened = match tmp_name(jvm_path) {
            Some(name) => {
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                rustix::fs::openat(self.tmp_dir()?, name, flags, Mode::empty())
                    .map(File::from)
                    .map_err(io::Error::from)
            }
            None => File::open(format!("/proc/{}/root{jvm_path}", self.vm.pid())),
        };
        let mut bytes = Vec::new();
        opened
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| self.io_error(&format!("reading {jvm_path}"), e))?;
        Ok(bytes)
    }

    fn remove_file(&mut self, jvm_path: &str) -> Result<(), TargetError> {
        let removed = match tmp_name(jvm_path) {
            Some(name) => rustix::fs::unlinkat(self.tmp_dir()?, name, AtFlags::empty())
                .map_err(io::Error::from),
            None => std::fs::remove_file(format!("/proc/{}/root{jvm_path}", self.vm.pid())),
        };
        match removed {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(self.io_error(&format!("removing {jvm_path}"), e))
            }
            _ => Ok(()),
        }
    }

    fn check_alive(&mut self) -> Result<(), TargetError> {
        if self.vm.is_alive() {
            return Ok(());
        }
        let (pid, during) = (self.vm.pid(), "since hch attached".to_string());
        Err(self.attach_error(AttachError::Exited { pid, during }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_in_tmp() {
        assert_eq!(tmp_name("/tmp/hch-1-0-x.jfc"), Some("hch-1-0-x.jfc"));
        for other in ["/tmp/", "/tmp/a/b", "/tmp/..", "/var/tmp/x", "tmp/x"] {
            assert_eq!(tmp_name(other), None, "{other}");
        }
    }
}
