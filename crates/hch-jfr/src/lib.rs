//! hch-jfr: a complete, fast and fail-safe reader for Java Flight Recorder files.
//!
//! A recording is one or more chunks; each chunk carries its own metadata (types), constant
//! pools and events. This crate reads JFR 2.x as written by JDK 11 to 25+ and async-profiler.
//!
//! - [`read_samples`]: the fast path for CPU samples, aggregated into distinct stacks with
//!   resolved frames ([`SampleProfile`]).
//! - [`JfrFile`] and [`Chunk`]: a generic, metadata-driven API over any event type; records
//!   are borrowed ([`RawEvent`]) and decoded on demand ([`Chunk::event_json`]).
//! - [`summarize`]: `jfr summary`-like counts.
//!
//! # Design constraints
//! - Never panic, hang, or allocate from a length in the file: every length is checked against
//!   the bytes that remain, nesting is bounded, and the checkpoint chain must go backwards.
//! - Errors name the file, the chunk and the byte offset ([`Error`]). A broken chunk does not
//!   hide the others: complete chunks still yield their data.
//! - Type ids, constant keys and metadata are per chunk and never reused across chunks (the
//!   JDK's own `jfr` misreads files that concatenate chunks of different JVMs).
//! - Chunks are parsed in parallel (rayon), merged deterministically; memory stays bounded by
//!   the chunks in flight. A chunk over 64 MiB (async-profiler writes one chunk per
//!   recording) is never held whole: the sample path, [`summarize`] and [`for_each_event`]
//!   read it in windows and keep only the constants they need (for samples: the sampled
//!   stacks and what they refer to); the APIs that lend whole [`Chunk`]s refuse it.

#![deny(missing_docs)]

mod chunk;
mod collect;
mod error;
mod file;
mod header;
mod input;
mod layout;
mod metadata;
mod resolve;
mod samples;
mod summary;
mod value;
mod window;

use std::path::Path;

pub use chunk::{Chunk, RawEvent};
pub use error::{Error, Location, Problem};
pub use file::{ChunkSpan, JfrFile, PerChunk};
pub use header::{ChunkHeader, HEADER_SIZE};
pub use input::JfrStr;
pub use metadata::{ClassDef, FieldDef, Metadata};
pub use samples::*;
pub use summary::{summarize, Summary, TypeStats};

/// The samples of a recording, and the error that stopped reading early, if any: the chunks
/// read are complete and sound.
#[derive(Debug, Default)]
pub struct SampleRead {
    /// Aggregated samples of every chunk read.
    pub profile: SampleProfile,
    /// Why some chunk could not be read.
    pub error: Option<Error>,
    /// Chunks in the file, and how many of them were read.
    pub chunks: (usize, usize),
}

/// Reads the given sample events of a recording file.
/// `Err` only when nothing at all could be read (no such file, not a JFR file, first chunk broken).
pub fn read_samples(path: &Path, events: &[SampleEvent]) -> Result<SampleRead, Error> {
    samples_of(&JfrFile::open(path)?, events)
}

/// Reads the given sample events of a recording already opened (a file or bytes in memory).
pub fn samples_of(file: &JfrFile, events: &[SampleEvent]) -> Result<SampleRead, Error> {
    samples_to_depth(file, events, StackDepth::Full)
}

/// Like [`samples_of`], resolving each stack only as deep as asked: [`StackDepth::Host`] is
/// what flat profiles and hot sets need, at a fraction of the cost on deep stacks.
pub fn samples_to_depth(
    file: &JfrFile,
    events: &[SampleEvent],
    depth: StackDepth,
) -> Result<SampleRead, Error> {
    let cache = chunk::MetadataCache::diverting_stacks_of(events);
    let (merger, chunks, read, error) = file.par_fold_spans(
        samples::Merger::default,
        |m, s| {
            if file.windowed(s) {
                collect::collect_windowed(file, s, &cache, events, depth, m)
            } else {
                file.with_chunk(s, &cache, |c| collect::collect_chunk(c, events, depth, m))
            }
        },
        samples::Merger::absorb,
    );
    if read == 0 {
        if let Some(e) = error {
            return Err(e);
        }
    }
    Ok(SampleRead {
        profile: merger.finish(),
        error,
        chunks: (chunks.max(read), read),
    })
}

/// Calls `f` with every event of the named types, in file order, decoded to JSON with its
/// constants resolved: `(chunk index, type name, fields)`.
pub fn for_each_event<F>(file: &JfrFile, names: &[&str], mut f: F) -> Result<(), Error>
where
    F: FnMut(usize, &str, serde_json::Value) -> Result<(), Error>,
{
    let cache = chunk::MetadataCache::default();
    file.for_each_span(|s| {
        if file.windowed(s) {
            return window::for_each_event(file, s, names, &cache, &mut f);
        }
        file.with_chunk(s, &cache, |chunk| {
            let ids: Vec<(u64, &str)> = names
                .iter()
                .filter_map(|n| chunk.type_id(n).map(|i| (i, *n)))
                .collect();
            for r in chunk.events() {
                let r = r?;
                if let Some((_, name)) = ids.iter().find(|(i, _)| *i == r.type_id) {
                    f(chunk.index, name, chunk.event_json(&r)?)?;
                }
            }
            Ok(())
        })
    })
}
