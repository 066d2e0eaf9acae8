//! A target's filesystem, reached only from a handle on its root directory.
//!
//! hch often runs as root on a host and reaches JVMs inside containers whose files are
//! controlled by whoever runs the container. A path such as `/proc/<pid>/root/tmp/x` is
//! resolved by the kernel against *hch's* root whenever it meets an absolute symlink, so a
//! container could point hch at any host file. Here every path of a target is resolved from a
//! handle on `/proc/<pid>/root` with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: the
//! container's own symlinks resolve inside the container, as they do for the JVM, and nothing
//! can lead outside. On kernels without `openat2` (before 5.6) the path is walked one component
//! at a time and any symlink is refused, which is just as safe.
//!
//! Files are read only when they are what they claim to be ([`FileRules`]): opened without
//! following a last symlink and without blocking (a FIFO would hang hch), a regular file, with
//! the expected owner and one link, and never more than a cap. Files hch creates are new
//! (`O_EXCL`), and are removed only when the name still names the same inode.

use std::cell::Cell;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

thread_local! {
    /// Set by tests to exercise the walk that stands in for `openat2` on old kernels.
    static FORCE_WALK: Cell<bool> = const { Cell::new(false) };
}

/// Makes this thread's resolutions take the component walk of kernels without `openat2`
/// (tests only).
#[doc(hidden)]
pub fn force_component_walk(on: bool) {
    FORCE_WALK.set(on);
}

/// A process's root directory, held open: every path of the target resolves under it.
#[derive(Debug)]
pub struct TargetRoot {
    fd: OwnedFd,
    /// For messages: `pid 1234`, or the directory a test gave.
    label: String,
}

/// The identity of a file hch created: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of an open file.
    pub fn of(fd: BorrowedFd<'_>) -> io::Result<FileId> {
        let st = rustix::fs::fstat(fd)?;
        Ok(FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }
}

/// What a file read from a target must be.
#[derive(Debug, Clone, Copy)]
pub struct FileRules {
    /// Its owner's uid as this host sees it, when that is known (the JVM's user).
    pub owner: Option<u32>,
    /// The most bytes read; a larger file is refused.
    pub max_len: u64,
    /// Refuse a file with more than one hard link (a link to a file elsewhere).
    pub single_link: bool,
}

impl TargetRoot {
    /// Opens the root of process `pid` as a handle (no read access to it is needed).
    pub fn of_process(pid: u32) -> io::Result<TargetRoot> {
        let fd = rustix::fs::open(
            format!("/proc/{pid}/root"),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(TargetRoot {
            fd,
            label: format!("pid {pid}"),
        })
    }

    /// A directory taken as a root (tests, chroots).
    pub fn of_dir(dir: &std::path::Path) -> io::Result<TargetRoot> {
        let fd = rustix::fs::open(
            dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(TargetRoot {
            fd,
            label: dir.display().to_string(),
        })
    }

    /// Opens `path` (absolute as the target sees it) as a directory handle.
    pub fn open_dir(&self, path: &str) -> io::Result<OwnedFd> {
        self.resolve(path, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| self.context(e, path))
    }

    /// Opens `path` with `flags`; the last component is never followed if it is a symlink.
    pub fn open(&self, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
        self.resolve(path, flags | OFlags::NOFOLLOW)
            .map_err(|e| self.context(last_link(e), path))
    }

    /// Reads a whole file under the rules (see [`read_checked`]).
    pub fn read(&self, path: &str, rules: &FileRules) -> io::Result<Vec<u8>> {
        let file = self.open_checked(path, rules)?;
        read_capped(file, rules.max_len).map_err(|e| self.context(e, path))
    }

    /// Opens a file for reading under the rules, without reading it.
    pub fn open_checked(&self, path: &str, rules: &FileRules) -> io::Result<File> {
        let fd = self.open(path, read_flags())?;
        check_file(&fd, rules).map_err(|e| self.context(e, path))?;
        Ok(File::from(fd))
    }

    /// Describes `path` for messages: `/tmp/x in pid 1234's root`.
    fn context(&self, e: io::Error, path: &str) -> io::Error {
        io::Error::new(e.kind(), format!("{path} in {}'s root: {e}", self.label))
    }

    /// Resolves `path` inside the root.
    fn resolve(&self, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
        let flags = flags | OFlags::CLOEXEC;
        if !FORCE_WALK.get() {
            let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
            match rustix::fs::openat2(&self.fd, path, flags, Mode::empty(), how) {
                Err(Errno::NOSYS) => {}
                other => return other.map_err(io::Error::from),
            }
        }
        walk(self.fd.as_fd(), path, flags)
    }
}

/// The flags for reading a target's file: never blocking (a FIFO opens at once), never taking
/// a terminal.
fn read_flags() -> OFlags {
    OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY
}

/// Resolves `path` one component at a time from `root`, refusing `..` and every symlink:
/// without `openat2` there is no safe way to follow a target's links.
fn walk(root: BorrowedFd<'_>, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "`..` is not followed in a target's paths on a kernel without openat2",
        ));
    }
    let dir_flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut dir: Option<OwnedFd> = None;
    let Some((last, parents)) = parts.split_last() else {
        return Ok(rustix::fs::openat(root, ".", flags, Mode::empty())?);
    };
    for (i, part) in parents.iter().enumerate() {
        let at = dir.as_ref().map_or(root, |d| d.as_fd());
        let next = rustix::fs::openat(at, *part, dir_flags, Mode::empty())
            .map_err(|e| symlink_refused(at, part, e, &parts[..=i].join("/")))?;
        dir = Some(next);
    }
    let at = dir.as_ref().map_or(root, |d| d.as_fd());
    rustix::fs::openat(at, *last, flags | OFlags::NOFOLLOW, Mode::empty())
        .map_err(|e| symlink_refused(at, last, e, path))
}

/// Turns the error of a component that is a symlink into a plain refusal.
fn symlink_refused(at: BorrowedFd<'_>, name: &str, e: Errno, shown: &str) -> io::Error {
    let is_link = rustix::fs::statat(at, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
    if is_link {
        return io::Error::new(
            io::ErrorKind::InvalidData,
            format!("/{shown} is a symlink; this kernel has no openat2 (Linux 5.6+), so hch does not follow a target's links"),
        );
    }
    e.into()
}

/// Says plainly that a last component was a symlink (`O_NOFOLLOW` answers `ELOOP`).
fn last_link(e: io::Error) -> io::Error {
    if e.raw_os_error() != Some(Errno::LOOP.raw_os_error()) {
        return e;
    }
    io::Error::new(
        io::ErrorKind::InvalidData,
        "a symlink where a file was expected; hch does not follow a target's link there",
    )
}

/// Checks an open file against the rules: regular, owner, links, size.
pub fn check_file(fd: &OwnedFd, rules: &FileRules) -> io::Result<()> {
    let st = rustix::fs::fstat(fd)?;
    let kind = FileType::from_raw_mode(st.st_mode);
    let refuse = |why: String| Err(io::Error::new(io::ErrorKind::InvalidData, why));
    if kind != FileType::RegularFile {
        return refuse(format!(
            "not a regular file but a {}; hch reads only regular files from a target",
            kind_name(kind)
        ));
    }
    if let Some(owner) = rules.owner.filter(|&o| o != st.st_uid) {
        return refuse(format!(
            "owned by uid {}, not by the JVM's uid {owner}; hch does not read it",
            st.st_uid
        ));
    }
    if rules.single_link && st.st_nlink != 1 {
        return refuse(format!(
            "has {} hard links; a file the JVM wrote has one, so hch does not read it",
            st.st_nlink
        ));
    }
    let len = st.st_size as u64;
    if len > rules.max_len {
        return refuse(format!(
            "{len} bytes, more than the {} hch reads from a target",
            rules.max_len
        ));
    }
    Ok(())
}

/// Reads at most `max` bytes; more is an error (the file grew after it was checked).
pub fn read_capped(file: File, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("grew past {max} bytes while being read"),
        ));
    }
    Ok(bytes)
}

/// A file type in words.
fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "FIFO",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Directory => "directory",
        FileType::Symlink => "symlink",
        FileType::Socket => "socket",
        _ => "special file",
    }
}

/// Creates a new file `name` in `dir` (never an existing one, never through a symlink).
pub fn create_new(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<(OwnedFd, FileId)> {
    plain_name(name)?;
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(mode))?;
    let id = FileId::of(fd.as_fd())?;
    Ok((fd, id))
}

/// Removes `name` from `dir` only if it is still the file `id` (hch's own), never another file
/// put there since. `Ok(false)` when the name is gone or names another file.
pub fn remove_if_same(dir: BorrowedFd<'_>, name: &str, id: FileId) -> io::Result<bool> {
    plain_name(name)?;
    let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if (st.st_dev, st.st_ino) != (id.dev, id.ino) {
        return Ok(false);
    }
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Opens `name` in `dir` for reading under the rules, never following a symlink or blocking.
pub fn open_checked_at(dir: BorrowedFd<'_>, name: &str, rules: &FileRules) -> io::Result<File> {
    plain_name(name)?;
    let flags = read_flags() | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd =
        rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(|e| last_link(e.into()))?;
    check_file(&fd, rules)?;
    Ok(File::from(fd))
}

/// Connects to the Unix socket `name` in `dir`, as the JDK's attach client does it: the name
/// must be a socket itself (not a symlink to one), owned by `owner`, and closed to group and
/// others. `Ok(None)` when no socket is there or nothing listens on it.
pub fn connect_socket_at(
    dir: BorrowedFd<'_>,
    name: &str,
    owner: u32,
) -> io::Result<Option<UnixStream>> {
    plain_name(name)?;
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let st = rustix::fs::fstat(&fd)?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::Socket {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{name} is a {}, not a socket; hch connects only to the JVM's own socket",
                kind_name(kind)
            ),
        ));
    }
    if st.st_uid != owner {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{name} is owned by uid {}, not by the JVM's uid {owner}; it is not this JVM's socket",
                st.st_uid
            ),
        ));
    }
    if st.st_mode & 0o066 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{name} has mode {:03o}; a JVM's socket is readable and writable by its owner only",
                st.st_mode & 0o777
            ),
        ));
    }
    // The socket is connected through hch's own handle on it: no name is resolved again.
    let via = CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL");
    match UnixStream::connect(via.to_str().expect("ASCII")) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(None),
        Err(e) => Err(e),
    }
}

/// A single path component: no `/`, not `.` or `..`, not empty.
fn plain_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain file name"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn rules(max: u64) -> FileRules {
        FileRules {
            owner: None,
            max_len: max,
            single_link: true,
        }
    }

    /// A fake container root with an absolute symlink that would escape through `/proc`.
    fn fake_root() -> (tempfile::TempDir, TargetRoot) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/hostname"), "inside\n").unwrap();
        symlink("/etc", d.path().join("tmp")).unwrap();
        let root = TargetRoot::of_dir(d.path()).unwrap();
        (d, root)
    }

    #[test]
    fn absolute_symlinks_stay_inside_the_root() {
        let (_d, root) = fake_root();
        let got = root.read("/tmp/hostname", &rules(100)).unwrap();
        assert_eq!(
            got, b"inside\n",
            "resolved in the fake root, not the host's /etc"
        );
        assert!(
            root.read("/tmp/../../../etc/hostname", &rules(100))
                .unwrap()
                == b"inside\n"
        );
    }

    #[test]
    fn the_walk_refuses_symlinks_and_dotdot() {
        let (_d, root) = fake_root();
        force_component_walk(true);
        let linked = root.read("/tmp/hostname", &rules(100));
        let dotdot = root.read("/etc/../etc/hostname", &rules(100));
        let plain = root.read("/etc/hostname", &rules(100));
        force_component_walk(false);
        let e = linked.unwrap_err().to_string();
        assert!(e.contains("/tmp is a symlink"), "{e}");
        assert!(dotdot.is_err());
        assert_eq!(plain.unwrap(), b"inside\n");
    }

    #[test]
    fn fifos_devices_links_and_big_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let root = TargetRoot::of_dir(d.path()).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            d.path().join("fifo"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let e = root.read("/fifo", &rules(10)).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
        symlink("/dev/zero", d.path().join("zero")).unwrap();
        assert!(
            root.read("/zero", &rules(10)).is_err(),
            "a last symlink is not followed"
        );
        std::fs::write(d.path().join("big"), vec![1u8; 11]).unwrap();
        let e = root.read("/big", &rules(10)).unwrap_err().to_string();
        assert!(e.contains("11 bytes"), "{e}");
        std::fs::hard_link(d.path().join("big"), d.path().join("big2")).unwrap();
        let e = root.read("/big", &rules(100)).unwrap_err().to_string();
        assert!(e.contains("2 hard links"), "{e}");
    }

    #[test]
    fn only_the_same_file_is_removed() {
        let d = tempfile::tempdir().unwrap();
        let dir =
            rustix::fs::open(d.path(), OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let (_fd, id) = create_new(dir.as_fd(), "x", 0o600).unwrap();
        assert!(create_new(dir.as_fd(), "x", 0o600).is_err(), "never reused");
        std::fs::remove_file(d.path().join("x")).unwrap();
        std::fs::write(d.path().join("x"), "someone else's").unwrap();
        assert!(!remove_if_same(dir.as_fd(), "x", id).unwrap());
        assert!(d.path().join("x").exists());
        let (_fd, id) = create_new(dir.as_fd(), "y", 0o600).unwrap();
        assert!(remove_if_same(dir.as_fd(), "y", id).unwrap());
        assert!(!d.path().join("y").exists());
    }

    #[test]
    fn sockets_are_checked_before_connecting() {
        let d = tempfile::tempdir().unwrap();
        let dir =
            rustix::fs::open(d.path(), OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let me = rustix::process::geteuid().as_raw();
        let listener = std::os::unix::net::UnixListener::bind(d.path().join("s")).unwrap();
        std::fs::set_permissions(
            d.path().join("s"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        assert!(connect_socket_at(dir.as_fd(), "s", me).unwrap().is_some());
        drop(listener.accept().unwrap());
        symlink(d.path().join("s"), d.path().join("link")).unwrap();
        let e = connect_socket_at(dir.as_fd(), "link", me).unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        let e = connect_socket_at(dir.as_fd(), "s", me + 1).unwrap_err();
        assert!(e.to_string().contains("owned by uid"), "{e}");
        assert!(connect_socket_at(dir.as_fd(), "none", me)
            .unwrap()
            .is_none());
    }
}
