//! hch-jit: the JIT over time. Compilations, deoptimizations and the code cache of a HotSpot
//! JVM on one timeline, from a JFR recording or the JVM's own logs, with what they say: each
//! method's life (versions, traps, final state), the churn, storms and their likely causes,
//! the compilers' load.
//!
//! - [`read_file`] recognises the input by its content: a JFR recording ([`read_jfr`]),
//!   LogCompilation XML, `-Xlog:jit*` or `-XX:+PrintCompilation` output ([`read_log`]).
//! - [`analyze`] turns the [`Timeline`] into a [`Report`]; [`html()`] renders it as one
//!   self-contained page.
//! - [`record_options`] says what a live JVM should record for it.
//!
//! # Design constraints
//! - Logs are read as streams through a fixed window (1 MiB plus the longest record read, 64
//!   KiB): a gigabyte LogCompilation file costs what its timeline holds, never its size. Lines
//!   and tags longer than that are skipped; nothing is allocated from a length in the input.
//! - Never panic on bad input. A truncated or damaged input gives everything read before the
//!   damage and an [`Error`] naming the file, the line and the byte offset.
//! - One time axis for every input: milliseconds since the JVM started (a recording that does
//!   not name the JVM's start counts from its own, [`TimeBase`]).
//! - JFR through hch-jfr's generic event API; PrintCompilation and unified-logging lines
//!   through hch-codecache's parsers; one JDK version parser (hch-target's).

#![deny(missing_docs)]

mod analysis;
mod build;
mod error;
mod html;
mod jfr;
mod model;
mod storm;
mod stream;
mod textlog;
mod xml;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

pub use analysis::{
    analyze, state_words, Churn, ChurnRow, HeapSummary, Load, Options, QueueLoad, ReasonRow,
    Report, Summary, ThreadLoad, TierLoad,
};
pub use error::Error;
pub use html::html;
pub use jfr::EVENTS;
pub use model::*;
pub use storm::{CauseKind, Storm, StormOptions};

use hch_target::jfr::{EventSettings, RecordOptions};

/// A timeline and the error that stopped reading early or made records be skipped, if any:
/// what the timeline holds is sound.
#[derive(Debug)]
pub struct Read {
    /// What was read.
    pub timeline: Timeline,
    /// Why not everything was.
    pub error: Option<Error>,
}

/// Reads an input of any supported format, recognised by its content. `Err` only when nothing
/// could be read: the file could not be, or it is none of the formats.
pub fn read_file(file: File, label: &Path) -> Result<Read, Error> {
    let mut magic = [0u8; 4];
    let n = file.read_at(&mut magic, 0).map_err(|source| Error::Io {
        path: label.to_path_buf(),
        source,
    })?;
    if n == 4 && &magic == b"FLR\0" {
        let jfr = hch_jfr::JfrFile::from_file(file, label.to_path_buf()).map_err(|source| {
            Error::Jfr {
                path: label.to_path_buf(),
                source,
            }
        })?;
        return Ok(read_jfr(&jfr, label));
    }
    read_log(file, label)
}

/// Reads a JFR recording (a file, or the bytes a live JVM handed back).
pub fn read_jfr(file: &hch_jfr::JfrFile, label: &Path) -> Read {
    let (timeline, error) = jfr::read(file, label);
    Read { timeline, error }
}

/// Reads a log from a stream: LogCompilation XML when it starts like one, else text.
pub fn read_log(r: impl std::io::Read, label: &Path) -> Result<Read, Error> {
    let mut s = stream::Stream::new(r, xml::MAX_TAG.max(textlog::MAX_LINE));
    let io = |source| Error::Io {
        path: label.to_path_buf(),
        source,
    };
    while s.rest().len() < 64 && s.fill().map_err(io)? {}
    let head = s.rest();
    let start = head
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = head[start..]
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&head[start..]);
    let mut b = build::Builder::default();
    let error = if head.starts_with(b"<?xml") || head.starts_with(b"<hotspot_log") {
        xml::read(&mut s, &mut b, label)?
    } else {
        textlog::read(&mut s, &mut b, label)?
    };
    Ok(Read {
        timeline: b.finish(),
        error,
    })
}

/// Reads a whole input held in memory (tests, small logs).
pub fn read_bytes(bytes: &[u8], label: &Path) -> Result<Read, Error> {
    if bytes.starts_with(b"FLR\0") {
        let jfr = hch_jfr::JfrFile::from_bytes(bytes.to_vec());
        return Ok(read_jfr(&jfr, label));
    }
    read_log(bytes, label)
}

/// The deoptimization storm a recording of a running JVM caused by starting JFR there (JDK 22
/// and older), if its `jdk.Compilation` events show one: for the commands that profile a
/// running JVM, to say that the profile includes a warm-up.
pub fn jfr_start_storm(file: &hch_jfr::JfrFile) -> Option<Storm> {
    let r = read_jfr(file, Path::new("recording"));
    storm::find(&r.timeline, &StormOptions::default())
        .into_iter()
        .find(|s| s.cause == CauseKind::JfrStart)
}

/// What a live JVM should record for a timeline: the JIT events (compilations at any
/// duration, deoptimizations without stacks, code cache and queue statistics every second),
/// the JVM's identity, and samples at `interval` for the hot set.
pub fn record_options(duration: Duration, interval: Duration) -> RecordOptions {
    let mut o = RecordOptions::new(duration);
    o.interval = interval;
    let every_second = [("period", "1 s")];
    let mut events = vec![
        EventSettings::new("jdk.Compilation", &[("threshold", "0 ms")]),
        EventSettings::new("jdk.CompilationFailure", &[]),
        EventSettings::new("jdk.Deoptimization", &[("stackTrace", "false")]),
        EventSettings::new("jdk.CodeCacheStatistics", &every_second),
        EventSettings::new("jdk.CodeCacheFull", &[]),
        EventSettings::new("jdk.JITRestart", &[]),
        EventSettings::new("jdk.CompilerQueueUtilization", &every_second),
        EventSettings::new("jdk.RedefineClasses", &[]),
        EventSettings::new("jdk.RetransformClasses", &[]),
    ];
    for e in RecordOptions::default_events() {
        if !events.iter().any(|x| x.name == e.name) {
            events.push(e);
        }
    }
    o.events = events;
    o
}
