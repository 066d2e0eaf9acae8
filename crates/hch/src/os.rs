//! The only OS-level code of the CLI: signal dispositions.

/// Restores the default SIGPIPE so `hch … | head` ends quietly instead of erroring.
pub fn reset_sigpipe() {
    // SAFETY: setting a signal disposition to SIG_DFL at start-up, before any thread exists.
    unsafe {
        libc_signal_default(13);
    }
}

extern "C" {
    fn signal(signum: i32, handler: usize) -> usize;
}

/// # Safety
/// Must run before other threads start; SIG_DFL (0) is always a valid disposition.
unsafe fn libc_signal_default(sig: i32) {
    // SAFETY: the caller guarantees no concurrent signal setup; 0 is SIG_DFL.
    unsafe {
        signal(sig, 0);
    }
}
