//! Why an input could not be read, or not all of it. Every variant names the file and where.

use std::path::PathBuf;

/// An input's problem. With [`crate::Read::error`], the results read before it are sound.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Nothing in the input looks like a format hch reads.
    #[error("{}: not a JFR recording, LogCompilation XML, -Xlog:jit log or PrintCompilation output (nothing of them in its {bytes} bytes)", path.display())]
    Unrecognised {
        /// The file.
        path: PathBuf,
        /// How many bytes were looked at.
        bytes: u64,
    },
    /// The input ends in the middle of a record: the JVM was still writing it, or it was cut.
    #[error("{}: truncated at byte {offset} (line {line}){inside}; the results cover the complete records before it", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// 1-based line of the cut.
        line: u64,
        /// Byte offset of the cut (the input's length).
        offset: u64,
        /// What was open, e.g. ` inside <task compile_id='1460'>`.
        inside: String,
    },
    /// Records that have the shape of a known one but not its fields: interleaved output of
    /// two threads or processes, or a damaged file. They were skipped.
    #[error("{}: line {line} (byte {offset}): {message}{}", path.display(), more_text(*more))]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first such record.
        line: u64,
        /// Its byte offset.
        offset: u64,
        /// What is wrong with it.
        message: String,
        /// How many more were skipped.
        more: u64,
    },
    /// The JFR reader stopped at a broken chunk; the chunks before it are read.
    #[error("{}", with_path(path, source))]
    Jfr {
        /// The file.
        path: PathBuf,
        /// The reader's error (chunk and offset).
        #[source]
        source: hch_jfr::Error,
    },
}

fn more_text(more: u64) -> String {
    match more {
        0 => String::new(),
        n => format!(" (and {n} more such records, also skipped)"),
    }
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
