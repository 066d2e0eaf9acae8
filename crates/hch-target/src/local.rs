//! A JVM on this host, reached by PID through the attach mechanism. Files the JVM must read or
//! has written live in its own `/tmp`, which hch reaches only through a handle opened inside
//! the JVM's root (see `hch_attach::root`); the JVM sees them as `/tmp/<name>`.
//!
//! hch creates only new files there (`O_EXCL`, no symlink followed), reads back only the files
//! it named, and only when they are regular files of the JVM's user with one link, not sparse,
//! and under a size cap; it removes only those files, and only while the name still names the
//! file it created or read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use hch_attach::root::{self, FileId, FileRules};
use hch_attach::{AttachError, Options, Vm};

use crate::{Target, TargetError};

/// Numbers the files this process places, so that names never collide.
static NEXT_FILE: AtomicU32 = AtomicU32::new(0);

/// The largest file hch reads back from a JVM: a recording of hch's few events is a few MB a
/// minute, so 1 GiB is hours of profile, and no container can make hch hold more.
pub const MAX_READ_BACK: u64 = 1 << 30;

/// A local JVM by PID.
#[derive(Debug)]
pub struct LocalTarget {
    vm: Vm,
    /// The files hch placed in the JVM's `/tmp`, by name: the inodes it may remove.
    placed: HashMap<String, Vec<FileId>>,
}

impl LocalTarget {
    /// Checks that `pid` is a JVM hch may attach to (see [`Vm::open`]).
    pub fn open(pid: u32, options: &Options) -> Result<LocalTarget, TargetError> {
        let vm = Vm::open(pid, options).map_err(|source| TargetError::Attach {
            target: format!("pid {pid}"),
            source,
        })?;
        Ok(LocalTarget {
            vm,
            placed: HashMap::new(),
        })
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
        loop {
            let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
            let file = format!("hch-{}-{n}-{name}", std::process::id());
            match root::create_new(self.vm.tmp_dir().as_fd(), &file, 0o644) {
                Ok((fd, id)) => {
                    self.placed.insert(file.clone(), vec![id]);
                    return Ok((fd, file));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(self.io_error(&format!("creating /tmp/{file}"), e)),
            }
        }
    }

    /// The rules for a file the JVM wrote at hch's request.
    fn read_back_rules(&self) -> FileRules {
        FileRules {
            owner: Some(self.vm.owner().0),
            max_len: MAX_READ_BACK,
            single_link: true,
        }
    }
}

/// The file name of a path directly in the JVM's `/tmp`, where hch's files go.
fn tmp_name(jvm_path: &str) -> Option<&str> {
    let name = jvm_path.strip_prefix("/tmp/")?;
    (!name.is_empty() && !name.contains('/') && name != "..").then_some(name)
}

/// Refuses a sparse file: a file JFR wrote holds its bytes, while a hole-punched giant costs
/// nothing to make and a lot to read.
fn check_not_sparse(file: &File) -> io::Result<()> {
    let st = rustix::fs::fstat(file)?;
    let (len, stored) = (st.st_size as u64, st.st_blocks as u64 * 512);
    if len > (1 << 20) && stored < len / 2 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sparse: {len} bytes long but {stored} stored; not a recording the JVM wrote"),
        ));
    }
    Ok(())
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
        let Some(name) = tmp_name(jvm_path).filter(|n| self.placed.contains_key(*n)) else {
            let source = io::Error::new(
                io::ErrorKind::PermissionDenied,
                "hch reads back only files it placed in the JVM's /tmp",
            );
            return Err(self.io_error(&format!("reading {jvm_path}"), source));
        };
        let name = name.to_string();
        let rules = self.read_back_rules();
        let read = root::open_checked_at(self.vm.tmp_dir().as_fd(), &name, &rules).and_then(|f| {
            check_not_sparse(&f)?;
            let id = FileId::of(f.as_fd())?;
            self.placed.entry(name.clone()).or_default().push(id);
            root::read_capped(f, rules.max_len)
        });
        read.map_err(|e| self.io_error(&format!("reading {jvm_path}"), e))
    }

    fn remove_file(&mut self, jvm_path: &str) -> Result<(), TargetError> {
        let Some(ids) = tmp_name(jvm_path).and_then(|n| self.placed.remove(n)) else {
            return Ok(()); // not hch's: never removed
        };
        let name = tmp_name(jvm_path).expect("checked above");
        for id in ids {
            match root::remove_if_same(self.vm.tmp_dir().as_fd(), name, id) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(self.io_error(&format!("removing {jvm_path}"), e)),
            }
        }
        Ok(())
    }

    fn record(
        &mut self,
        opts: &crate::jfr::RecordOptions,
        cancel: &std::sync::atomic::AtomicBool,
        progress: &mut dyn FnMut(std::time::Duration, std::time::Duration),
    ) -> Result<Vec<u8>, TargetError> {
        crate::jfr::record(self, opts, cancel, progress)
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
