//! Ctrl-C and SIGTERM, the same for every command that talks to a JVM for a while: the first
//! asks the work to stop and clean up (the recording stopped, hch's files removed), a second
//! one ends hch at once with status 130, for when the clean-up itself is stuck.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};

/// The exit status of a second interrupt.
const INTERRUPTED: i32 = 130;

/// Installs the handlers and returns the flag the first signal sets.
pub fn on_interrupt() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Order matters: the shutdown check runs first, so only a signal after the one that
        // set the flag ends hch.
        signal_hook::flag::register_conditional_shutdown(sig, INTERRUPTED, Arc::clone(&flag))
            .context("installing the signal handlers")?;
        signal_hook::flag::register(sig, Arc::clone(&flag))
            .context("installing the signal handlers")?;
    }
    Ok(flag)
}
