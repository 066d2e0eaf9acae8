//! `jfr summary`-like statistics: chunks, time span, event counts and sizes per type.

use std::collections::HashMap;

use serde::Serialize;

use crate::chunk::{self, Chunk, MetadataCache, CHECKPOINT};
use crate::error::Error;
use crate::file::{ChunkSpan, JfrFile};
use crate::header::ChunkHeader;
use crate::metadata::Metadata;
use crate::window::{Assembly, Opened, Window};

/// Count and bytes of one event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeStats {
    /// Type name (`jdk.Metadata` and `jdk.CheckPoint` for the two record kinds, as `jfr` names them).
    pub name: String,
    /// Records of this type.
    pub count: u64,
    /// Bytes of those records, size fields included.
    pub bytes: u64,
}

/// What `hch jfr summary` prints.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Format version of the first chunk, e.g. `2.1`.
    pub version: String,
    /// Number of complete chunks read.
    pub chunks: usize,
    /// Earliest chunk start, nanoseconds since the epoch.
    pub start_nanos: u64,
    /// Latest chunk end minus earliest start, nanoseconds.
    pub duration_nanos: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// Per type, sorted by count (descending), then name.
    pub types: Vec<TypeStats>,
}

struct ChunkStats {
    version: String,
    start: u64,
    end: u64,
    counts: HashMap<String, (u64, u64)>,
}

/// Counts every record of every chunk. Declared event types with no records count as zero.
pub fn summarize(file: &JfrFile) -> (Summary, Option<Error>) {
    let cache = MetadataCache::default();
    let mut results = Vec::new();
    let (_, error) = file.par_spans_each(
        |s| {
            if file.windowed(s) {
                windowed_stats(file, s, &cache)
            } else {
                file.with_chunk(s, &cache, chunk_stats)
            }
        },
        |_, v| results.push(v),
    );
    let mut s = Summary {
        chunks: results.len(),
        bytes: file.len(),
        ..Default::default()
    };
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    let (mut start, mut end) = (u64::MAX, 0u64);
    for c in results {
        if s.version.is_empty() {
            s.version = c.version;
        }
        start = start.min(c.start);
        end = end.max(c.end);
        for (name, (n, b)) in c.counts {
            let e = counts.entry(name).or_insert((0, 0));
            e.0 += n;
            e.1 += b;
        }
    }
    if start != u64::MAX {
        s.start_nanos = start;
        s.duration_nanos = end.saturating_sub(start);
    }
    s.types = counts
        .into_iter()
        .map(|(name, (count, bytes))| TypeStats { name, count, bytes })
        .collect();
    s.types
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    (s, error)
}

/// Counts the records of a chunk read whole.
fn chunk_stats(chunk: &Chunk<'_>) -> Result<ChunkStats, Error> {
    let mut by_id: HashMap<u64, (u64, u64)> = HashMap::new();
    for r in chunk.records() {
        let r = r?;
        let e = by_id.entry(r.type_id).or_insert((0, 0));
        e.0 += 1;
        e.1 += r.size as u64;
    }
    Ok(stats(&chunk.header, &chunk.metadata, by_id))
}

/// Counts the records of a chunk too large to read whole, through a window; its constants are
/// checked as for a chunk read whole, and none is kept.
fn windowed_stats(
    file: &JfrFile,
    span: &ChunkSpan,
    cache: &MetadataCache,
) -> Result<ChunkStats, Error> {
    let mut o = Opened::new(file, span, cache)?;
    let mut by_id: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut offsets = Vec::new();
    o.window.walk(
        |_| false,
        |h, _| {
            let e = by_id.entry(h.type_id).or_insert((0, 0));
            e.0 += 1;
            e.1 += h.size;
            if h.type_id == CHECKPOINT {
                Window::note_checkpoint(span, &mut offsets, &h)?;
            }
            Ok(())
        },
    )?;
    o.read_pools(&offsets, &mut |_, _| false, &mut Assembly::default())?;
    Ok(stats(&o.header, &o.metadata, by_id))
}

/// A chunk's statistics from its record counts per type id: declared event types with no
/// records count as zero.
fn stats(h: &ChunkHeader, md: &Metadata, by_id: HashMap<u64, (u64, u64)>) -> ChunkStats {
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for c in &md.classes {
        if c.super_type.as_deref() == Some("jdk.jfr.Event") {
            counts.entry(c.name.clone()).or_insert((0, 0));
        }
    }
    for (id, (n, b)) in by_id {
        let name =
            chunk::type_name(md, id).map_or_else(|| format!("unknown({id})"), str::to_string);
        let e = counts.entry(name).or_insert((0, 0));
        e.0 += n;
        e.1 += b;
    }
    ChunkStats {
        version: format!("{}.{}", h.major, h.minor),
        start: h.start_nanos,
        end: h.start_nanos.saturating_add(h.duration_nanos),
        counts,
    }
}
