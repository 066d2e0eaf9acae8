//! hch-profile: CPU samples to flat profiles, the hot set of compiled code blobs, and HotSpot
//! Compiler Control directives for them, with checks of directives files per JDK.
//!
//! The design's library functions here are [`from_recordings`] (directives from recordings),
//! [`from_live_recording`] (from the bytes of a recording a live JVM handed back) and [`dump`]
//! (to a file); applying to a JVM lives with the targets (`hch_target::apply`), so that this
//! crate stays pure analysis.
//!
//! # Design constraints
//! - One profile model ([`Profile`]) that JFR recordings and collapsed stacks both fill; every
//!   view (flat, collapsed, hot set) is computed from it, never printed inside the logic.
//! - The flat text is async-profiler's, byte for byte, so existing habits and scripts carry over.
//! - What the design needs is code blobs, not frames: inlined frames count for the compiled
//!   method that hosts them; interpreted and native tops are never candidates.
//! - Generated directives must load on every stock JDK that the dialect claims: they are checked
//!   by hch's own rules here, and by real JVMs in the tests.
//! - No clap, no anyhow: the CLI converts its options into [`AnalyzeOptions`].

#![deny(missing_docs)]

pub mod analysis;
pub mod check;
pub mod collapsed;
pub mod directives;
pub mod flat;
pub mod flattext;
pub mod fleet;
pub mod hotset;
pub mod input;
pub mod json;
pub mod model;
pub mod names;
pub mod pprof;

use std::path::PathBuf;

pub use analysis::{dump, from_live_recording, from_recordings, Analysis, AnalyzeOptions};
pub use check::{check, CheckTarget, Report};
pub use directives::{Dialect, Directives};
pub use flat::{Flat, FlatRow};
pub use hotset::{HotOptions, HotSet, Sizes};
pub use model::{Profile, Units};

/// Why reading or writing profile data failed. Each variant names the file and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A collapsed-stacks line is malformed.
    #[error("{}: line {line}: expected {what}", path.display())]
    Collapsed {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What the line should have had.
        what: String,
    },
    /// The file is neither a JFR recording nor collapsed stacks.
    #[error("{}: not a JFR recording (no `FLR\\0` magic) and not collapsed stacks (binary byte at offset {offset}): give a .jfr file or `frame;frame;leaf count` lines", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Offset of the first byte that text cannot have.
        offset: u64,
    },
    /// A pprof file is malformed.
    #[error("{}: not a readable pprof: {what}", path.display())]
    Pprof {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The JFR reader failed; results of the chunks before the error are sound.
    #[error("{}", with_path(path, source))]
    Jfr {
        /// The file.
        path: PathBuf,
        /// The reader's error (chunk and offset).
        #[source]
        source: hch_jfr::Error,
    },
}

/// The reader's message, prefixed with the file unless the reader already names it.
fn with_path(path: &std::path::Path, e: &hch_jfr::Error) -> String {
    let msg = e.to_string();
    let p = path.display().to_string();
    if msg.starts_with(&p) {
        msg
    } else {
        format!("{p}: {msg}")
    }
}
