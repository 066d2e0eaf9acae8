//! Acting as the target: a helper thread that enters the JVM's mount namespace and takes its
//! uid and gid. The only `unsafe` of this crate is here.
//!
//! Why a thread: on Linux, credentials, root and working directory belong to each thread, and
//! rustix calls the raw system calls (not glibc's wrappers, which would change every thread).
//! So the helper can drop root, join a container's mounts and connect, and all of that ends
//! with it; hch's own threads keep their identity. The connected socket outlives the thread
//! because the file descriptor table is shared. The JVM checks the peer's uid and gid when the
//! connection is made (`SO_PEERCRED`), so later reads and writes from hch's main thread are fine.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::process::{Gid, Uid};
use rustix::thread::{LinkNameSpaceType, UnshareFlags};

/// What the helper thread changes about itself before doing the work.
#[derive(Debug)]
pub(crate) struct Isolation {
    /// The target's mount namespace (`/proc/<pid>/ns/mnt`), when it differs from ours.
    pub mnt: Option<OwnedFd>,
    /// The target's effective uid and gid.
    pub creds: Option<(u32, u32)>,
}

impl Isolation {
    /// Whether there is anything to change at all.
    pub fn is_needed(&self) -> bool {
        self.mnt.is_some() || self.creds.is_some()
    }
}

/// Gives the calling thread its own root, working directory and umask, which `setns` into a
/// mount namespace requires of a thread in a multi-threaded process.
fn unshare_fs() -> io::Result<()> {
    // SAFETY: `unshare_unsafe` is unsafe because CLONE_FILES would let this thread hold file
    // descriptors other threads cannot see. Only CLONE_FS is passed: the fd table stays shared,
    // so every descriptor remains valid for every thread.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::FS) }.map_err(io::Error::from)
}

/// Moves the calling thread into a mount namespace; `false` when the kernel refuses (e.g. a
/// seccomp profile forbids `setns`), in which case paths through `/proc/<pid>/root` still work.
fn enter_mount_namespace(mnt: &OwnedFd) -> bool {
    unshare_fs().is_ok()
        && rustix::thread::move_into_link_name_space(mnt.as_fd(), Some(LinkNameSpaceType::Mount))
            .is_ok()
}

/// Takes the target's ids for this thread only: no supplementary groups, then the gid, then the
/// uid (after which the thread could not change its gid any more).
fn become_owner(uid: u32, gid: u32) -> io::Result<()> {
    rustix::thread::set_thread_groups(&[])?;
    rustix::thread::set_thread_res_gid(None, Some(Gid::from_raw(gid)), None)?;
    rustix::thread::set_thread_res_uid(None, Some(Uid::from_raw(uid)), None)?;
    Ok(())
}

/// Runs `work` on a helper thread that took on `iso`. `work` learns whether the mount namespace
/// was entered (then the target's `/tmp` is plain `/tmp`). Errors switching ids come back as
/// `Err`; a panic in `work` is passed on.
pub(crate) fn run_as_target<T: Send>(
    iso: &Isolation,
    work: impl FnOnce(bool) -> T + Send,
) -> io::Result<T> {
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            let entered = iso.mnt.as_ref().is_some_and(enter_mount_namespace);
            if let Some((uid, gid)) = iso.creds {
                become_owner(uid, gid)?;
            }
            Ok(work(entered))
        });
        helper
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_changes_only_itself() {
        let before = (rustix::process::geteuid(), rustix::process::getegid());
        let iso = Isolation {
            mnt: None,
            creds: Some((65534, 65534)),
        };
        let inside = run_as_target(&iso, |_| {
            (rustix::process::geteuid(), rustix::process::getegid())
        });
        if before.0.is_root() {
            assert_eq!(
                inside.unwrap(),
                (Uid::from_raw(65534), Gid::from_raw(65534))
            );
        } else {
            assert!(inside.is_err(), "a non-root thread cannot take another uid");
        }
        assert_eq!(
            (rustix::process::geteuid(), rustix::process::getegid()),
            before
        );
    }
}
