//! A recording on disk or in memory, split into chunks that are parsed in parallel.
//!
//! Chunks are read with positioned reads, one buffer per chunk in flight, rather than mapped:
//! memory stays bounded by the chunks being parsed, and a file that a JVM is still writing
//! cannot fault the reader.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::chunk::{Chunk, MetadataCache};
use crate::error::{Error, Problem, RawError};
use crate::header::{ChunkHeader, HEADER_SIZE};

/// Where a chunk lies in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSpan {
    /// Zero-based index.
    pub index: usize,
    /// Absolute offset.
    pub start: u64,
    /// Size in bytes, header included.
    pub size: u64,
}

#[derive(Debug)]
enum Source {
    File(File),
    Bytes(Vec<u8>),
}

/// A JFR recording: one or more chunks laid end to end.
#[derive(Debug)]
pub struct JfrFile {
    source: Source,
    len: u64,
    path: Option<PathBuf>,
}

/// Results of every chunk that could be read, in chunk order, and the first error.
#[derive(Debug)]
pub struct PerChunk<T> {
    /// Results of the chunks that parsed, with their index.
    pub results: Vec<(usize, T)>,
    /// The first error (by chunk index), if any chunk failed.
    pub error: Option<Error>,
    /// Number of chunks found.
    pub chunks: usize,
}

impl JfrFile {
    /// Opens a recording file.
    pub fn open(path: &Path) -> Result<JfrFile, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(JfrFile {
            source: Source::File(file),
            len,
            path: Some(path.to_path_buf()),
        })
    }

    /// A recording held in memory (e.g. streamed back from a remote JVM).
    pub fn from_bytes(bytes: Vec<u8>) -> JfrFile {
        JfrFile {
            len: bytes.len() as u64,
            source: Source::Bytes(bytes),
            path: None,
        }
    }

    /// The file's path, if it came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Total size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the recording has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads `len` bytes at `offset` (both already checked against the file size).
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
        match &self.source {
            Source::Bytes(b) => Ok(b[offset as usize..offset as usize + len].to_vec()),
            Source::File(f) => {
                let mut buf = vec![0u8; len];
                f.read_exact_at(&mut buf, offset).map_err(|e| Error::Io {
                    path: self.path.clone().unwrap_or_default(),
                    message: format!("reading {len} bytes at offset {offset}: {e}"),
                })?;
                Ok(buf)
            }
        }
    }

    fn locate(&self, e: Error) -> Error {
        match &self.path {
            Some(p) => e.with_file(p),
            None => e,
        }
    }

    /// Walks the chunk headers: the spans of all complete chunks, and why the walk stopped early.
    pub fn chunk_spans(&self) -> (Vec<ChunkSpan>, Option<Error>) {
        let mut spans = Vec::new();
        let mut pos = 0u64;
        while pos < self.len {
            let index = spans.len();
            let head_len = (self.len - pos).min(HEADER_SIZE as u64) as usize;
            let parsed = self.read_at(pos, head_len).and_then(|head| {
                let mut h = head;
                // The header check compares the size with what remains of the file.
                h.resize(HEADER_SIZE, 0);
                parse_header(&h, head_len, self.len - pos).map_err(|e| e.at(index, pos))
            });
            match parsed {
                Ok(h) => {
                    spans.push(ChunkSpan {
                        index,
                        start: pos,
                        size: h.size,
                    });
                    pos += h.size;
                }
                Err(e) => return (spans, Some(self.locate(e))),
            }
        }
        (spans, None)
    }

    /// Parses every chunk in parallel and applies `f` to each; results come back in chunk order.
    /// A broken chunk does not stop the others: its error is kept, the others' results too.
    pub fn par_chunks<T, F>(&self, f: F) -> PerChunk<T>
    where
        T: Send,
        F: Fn(&Chunk<'_>) -> Result<T, Error> + Sync,
    {
        let mut results = Vec::new();
        let (chunks, error) = self.par_chunks_each(f, |i, v| results.push((i, v)));
        PerChunk {
            results,
            error,
            chunks,
        }
    }

    /// Like [`JfrFile::par_chunks`], but hands each result to `sink` in chunk order as soon as
    /// its batch is done, so memory stays bounded by the chunks in flight, not the file.
    /// Returns the number of chunks found and the first error.
    pub fn par_chunks_each<T, F, S>(&self, f: F, mut sink: S) -> (usize, Option<Error>)
    where
        T: Send,
        F: Fn(&Chunk<'_>) -> Result<T, Error> + Sync,
        S: FnMut(usize, T),
    {
        let (spans, walk_error) = self.chunk_spans();
        let cache = MetadataCache::default();
        let batch = rayon::current_num_threads().max(1) * 2;
        let mut first_error = None;
        for group in spans.chunks(batch) {
            let outcomes: Vec<Result<T, Error>> = group
                .par_iter()
                .with_max_len(1)
                .map(|s| {
                    let bytes = self.read_at(s.start, s.size as usize)?;
                    let chunk = Chunk::parse_cached(&bytes, s.index, s.start, &cache)?;
                    f(&chunk)
                })
                .collect();
            for (s, r) in group.iter().zip(outcomes) {
                match r {
                    Ok(v) => sink(s.index, v),
                    Err(e) if first_error.is_none() => first_error = Some(self.locate(e)),
                    Err(_) => {}
                }
            }
        }
        (spans.len(), first_error.or(walk_error))
    }

    /// Visits chunks one after another, in order (for printing events in file order).
    pub fn for_each_chunk<F>(&self, mut f: F) -> Result<(), Error>
    where
        F: FnMut(&Chunk<'_>) -> Result<(), Error>,
    {
        let (spans, walk_error) = self.chunk_spans();
        let cache = MetadataCache::default();
        for s in &spans {
            let bytes = self.read_at(s.start, s.size as usize)?;
            let chunk = Chunk::parse_cached(&bytes, s.index, s.start, &cache)
                .map_err(|e| self.locate(e))?;
            f(&chunk).map_err(|e| self.locate(e))?;
        }
        walk_error.map_or(Ok(()), Err)
    }
}

/// Parses a header read from `available` real bytes of a file with `remaining` bytes left.
fn parse_header(h: &[u8], available: usize, remaining: u64) -> Result<ChunkHeader, RawError> {
    if available < HEADER_SIZE {
        if available >= 4 && &h[..4] != b"FLR\0" {
            return Err(RawError::new(
                0,
                Problem::BadMagic {
                    found: [h[0], h[1], h[2], h[3]],
                },
            ));
        }
        return Err(RawError::new(
            available as u64,
            Problem::Truncated {
                needed: (HEADER_SIZE - available) as u64,
            },
        ));
    }
    ChunkHeader::parse_with_remaining(h, remaining)
}
