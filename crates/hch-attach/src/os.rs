//! Acting as the target's user: a helper thread that takes the JVM's uid and gid. The only
//! `unsafe`-adjacent system calls of this crate are here.
//!
//! Why a thread: on Linux, credentials belong to each thread, and rustix calls the raw system
//! calls (not glibc's wrappers, which would change every thread). So the helper can drop root
//! and connect, and that ends with it; hch's own threads keep their identity. The connected
//! socket outlives the thread because the file descriptor table is shared. The JVM checks the
//! peer's uid and gid when the connection is made (`SO_PEERCRED`), so later reads and writes
//! from hch's main thread are fine.
//!
//! No namespace is entered: every path is resolved from a handle on the JVM's root that hch
//! opened as itself (see `root`), which reaches the JVM's mounts from any namespace.

use std::io;

use rustix::process::{Gid, Uid};

/// Takes the target's ids for this thread only: no supplementary groups, then the gid, then the
/// uid (after which the thread could not change its gid any more).
fn become_owner(uid: u32, gid: u32) -> io::Result<()> {
    rustix::thread::set_thread_groups(&[])?;
    rustix::thread::set_thread_res_gid(None, Some(Gid::from_raw(gid)), None)?;
    rustix::thread::set_thread_res_uid(None, Some(Uid::from_raw(uid)), None)?;
    Ok(())
}

/// Runs `work` on a helper thread that took uid and gid `creds`. Errors switching ids come back
/// as `Err`; a panic in `work` is passed on.
pub(crate) fn run_as<T>(creds: (u32, u32), work: impl FnOnce() -> T + Send) -> io::Result<T>
where
    T: Send,
{
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            become_owner(creds.0, creds.1)?;
            Ok(work())
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
        let inside = run_as((65534, 65534), || {
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
