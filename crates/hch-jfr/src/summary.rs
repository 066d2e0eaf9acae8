//! `jfr summary`-like statistics: chunks, time span, event counts and sizes per type.

use std::collections::HashMap;

use serde::Serialize;

use crate::chunk::Chunk;
use crate::error::Error;
use crate::file::JfrFile;

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
    let per = file.par_chunks(chunk_stats);
    let mut s = Summary {
        chunks: per.results.len(),
        bytes: file.len(),
        ..Default::default()
    };
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    let (mut start, mut end) = (u64::MAX, 0u64);
    for (_, c) in per.results {
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
    (s, per.error)
}

fn chunk_stats(chunk: &Chunk<'_>) -> Result<ChunkStats, Error> {
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for c in &chunk.metadata.classes {
        if c.super_type.as_deref() == Some("jdk.jfr.Event") {
            counts.entry(c.name.clone()).or_insert((0, 0));
        }
    }
    let mut by_id: HashMap<u64, (u64, u64)> = HashMap::new();
    for r in chunk.records() {
        let r = r?;
        let e = by_id.entry(r.type_id).or_insert((0, 0));
        e.0 += 1;
        e.1 += r.size as u64;
    }
    for (id, (n, b)) in by_id {
        let name = chunk
            .type_name(id)
            .map_or_else(|| format!("unknown({id})"), str::to_string);
        let e = counts.entry(name).or_insert((0, 0));
        e.0 += n;
        e.1 += b;
    }
    let h = &chunk.header;
    Ok(ChunkStats {
        version: format!("{}.{}", h.major, h.minor),
        start: h.start_nanos,
        end: h.start_nanos.saturating_add(h.duration_nanos),
        counts,
    })
}
