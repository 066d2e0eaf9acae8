//! A recording on disk or in memory, split into chunks that are parsed in parallel.
//!
//! Chunks are read with positioned reads, one buffer per chunk in flight, rather than mapped:
//! memory stays bounded by the chunks being parsed, and a file that a JVM is still writing
//! cannot fault the reader. A chunk larger than the whole-chunk limit (64 MiB unless set) is
//! never held whole: the sample path, summaries and event printing read it in windows
//! (`window.rs`), and the APIs that lend whole chunks refuse it with an error.

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

/// Chunks of files up to this size are read whole; larger ones in windows.
const DEFAULT_WHOLE_CHUNK_LIMIT: u64 = 64 << 20;
/// The usual window over a huge chunk.
const WINDOW: u64 = 8 << 20;
/// The smallest window (a tiny whole-chunk limit, as tests set, gives tiny windows).
const MIN_WINDOW: u64 = 4096;

/// A JFR recording: one or more chunks laid end to end.
#[derive(Debug)]
pub struct JfrFile {
    source: Source,
    len: u64,
    path: Option<PathBuf>,
    /// Chunks larger than this are read in windows; `None`: the default for the source.
    whole_limit: Option<u64>,
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
        Self::from_file(file, path.to_path_buf())
    }

    /// A recording from a file its caller opened (e.g. without following links, or an
    /// anonymous temporary file); `label` names it in errors. The file is read with positioned
    /// reads up to the length it has now, so it should be a regular file: a pipe or FIFO has
    /// length 0 and reads as an empty recording.
    pub fn from_file(file: File, label: PathBuf) -> Result<JfrFile, Error> {
        let len = file.metadata().map_err(|e| Error::Io {
            path: label.clone(),
            message: e.to_string(),
        })?;
        Ok(JfrFile {
            source: Source::File(file),
            len: len.len(),
            path: Some(label),
            whole_limit: None,
        })
    }

    /// A recording held in memory (e.g. streamed back from a remote JVM).
    pub fn from_bytes(bytes: Vec<u8>) -> JfrFile {
        JfrFile {
            len: bytes.len() as u64,
            source: Source::Bytes(bytes),
            path: None,
            whole_limit: None,
        }
    }

    /// Sets the size above which a chunk is read in windows instead of whole (default: 64 MiB
    /// for files; none for bytes in memory, which are whole already). Windows are as large as
    /// the limit, 4 KiB to 8 MiB. Reading in windows bounds memory by what a reader needs
    /// (for samples: the sampled stacks and their methods), not by the chunk's size.
    pub fn with_whole_chunk_limit(mut self, bytes: u64) -> JfrFile {
        self.whole_limit = Some(bytes);
        self
    }

    /// The size above which chunks are read in windows.
    fn whole_limit(&self) -> u64 {
        self.whole_limit.unwrap_or(match self.source {
            Source::File(_) => DEFAULT_WHOLE_CHUNK_LIMIT,
            Source::Bytes(_) => u64::MAX,
        })
    }

    /// Whether a chunk is read in windows rather than whole.
    pub(crate) fn windowed(&self, s: &ChunkSpan) -> bool {
        s.size > self.whole_limit()
    }

    /// How many bytes a window over a huge chunk holds.
    pub(crate) fn window_size(&self) -> usize {
        self.whole_limit().clamp(MIN_WINDOW, WINDOW) as usize
    }

    /// Fills `buf` from absolute `offset` (the range already checked against the file size).
    pub(crate) fn read_into(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        match &self.source {
            Source::Bytes(b) => {
                let at = offset as usize;
                buf.copy_from_slice(&b[at..at + buf.len()]);
                Ok(())
            }
            Source::File(f) => f.read_exact_at(buf, offset).map_err(|e| Error::Io {
                path: self.path.clone().unwrap_or_default(),
                message: format!("reading {} bytes at offset {offset}: {e}", buf.len()),
            }),
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
    /// Bytes in memory are lent, not copied.
    fn read_at(&self, offset: u64, len: usize) -> Result<std::borrow::Cow<'_, [u8]>, Error> {
        match &self.source {
            Source::Bytes(b) => Ok(std::borrow::Cow::Borrowed(
                &b[offset as usize..offset as usize + len],
            )),
            Source::File(f) => {
                let mut buf = vec![0u8; len];
                f.read_exact_at(&mut buf, offset).map_err(|e| Error::Io {
                    path: self.path.clone().unwrap_or_default(),
                    message: format!("reading {len} bytes at offset {offset}: {e}"),
                })?;
                Ok(std::borrow::Cow::Owned(buf))
            }
        }
    }

    /// Lends a chunk's bytes to `f`: in-memory bytes directly, file bytes through a buffer each
    /// thread keeps, so chunk after chunk costs no fresh allocation or page faults.
    fn with_chunk_bytes<R>(
        &self,
        s: &ChunkSpan,
        f: impl FnOnce(&[u8]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let (start, len) = (s.start, s.size as usize);
        let Source::File(file) = &self.source else {
            return f(&self.read_at(start, len)?);
        };
        BUF.with(|cell| {
            let Ok(mut buf) = cell.try_borrow_mut() else {
                return f(&self.read_at(start, len)?); // re-entered on this thread: no sharing
            };
            if buf.len() < len {
                buf.resize(len, 0);
            }
            file.read_exact_at(&mut buf[..len], start)
                .map_err(|e| Error::Io {
                    path: self.path.clone().unwrap_or_default(),
                    message: format!("reading {len} bytes at offset {start}: {e}"),
                })?;
            let r = f(&buf[..len]);
            // A huge chunk should not pin its buffer for the rest of the run.
            if buf.capacity() > 64 << 20 {
                *buf = Vec::new();
            }
            r
        })
    }

    /// Parses a chunk read whole and lends it to `f`; a chunk over the whole-chunk limit is
    /// refused (this is the path of the APIs that lend whole chunks).
    pub(crate) fn with_chunk<R>(
        &self,
        s: &ChunkSpan,
        cache: &MetadataCache,
        f: impl FnOnce(&Chunk<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        if self.windowed(s) {
            let (size, limit) = (s.size, self.whole_limit());
            return Err(RawError::new(8, Problem::NotWhole { size, limit }).at(s.index, s.start));
        }
        self.with_chunk_bytes(s, |bytes| {
            f(&Chunk::parse_cached(bytes, s.index, s.start, cache)?)
        })
    }

    /// Adds the file's name to an error.
    pub(crate) fn locate(&self, e: Error) -> Error {
        match &self.path {
            Some(p) => e.with_file(p),
            None => e,
        }
    }

    /// Walks the chunk headers: the spans of all complete chunks, and why the walk stopped early.
    pub fn chunk_spans(&self) -> (Vec<ChunkSpan>, Option<Error>) {
        let (spans, error) = self.chunk_headers();
        (spans.into_iter().map(|(s, _)| s).collect(), error)
    }

    /// Like [`JfrFile::chunk_spans`], with each chunk's header (its start time and tick rate
    /// turn the ticks of its events into wall-clock time).
    pub fn chunk_headers(&self) -> (Vec<(ChunkSpan, ChunkHeader)>, Option<Error>) {
        let mut spans = Vec::new();
        let mut pos = 0u64;
        while pos < self.len {
            let index = spans.len();
            let head_len = (self.len - pos).min(HEADER_SIZE as u64) as usize;
            let parsed = self.read_at(pos, head_len).and_then(|head| {
                let mut h = head.into_owned();
                // The header check compares the size with what remains of the file.
                h.resize(HEADER_SIZE, 0);
                parse_header(&h, head_len, self.len - pos).map_err(|e| e.at(index, pos))
            });
            match parsed {
                Ok(h) => {
                    let size = h.size;
                    let span = ChunkSpan {
                        index,
                        start: pos,
                        size,
                    };
                    spans.push((span, h));
                    pos += size;
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
    pub fn par_chunks_each<T, F, S>(&self, f: F, sink: S) -> (usize, Option<Error>)
    where
        T: Send,
        F: Fn(&Chunk<'_>) -> Result<T, Error> + Sync,
        S: FnMut(usize, T),
    {
        let cache = MetadataCache::default();
        self.par_spans_each(|s| self.with_chunk(s, &cache, &f), sink)
    }

    /// [`JfrFile::par_chunks_each`] over chunk spans: `f` reads each chunk as it likes.
    pub(crate) fn par_spans_each<T, F, S>(&self, f: F, mut sink: S) -> (usize, Option<Error>)
    where
        T: Send,
        F: Fn(&ChunkSpan) -> Result<T, Error> + Sync,
        S: FnMut(usize, T),
    {
        let (spans, walk_error) = self.chunk_spans();
        let batch = rayon::current_num_threads().max(1) * 2;
        let mut first_error = None;
        for group in spans.chunks(batch) {
            let outcomes: Vec<Result<T, Error>> =
                group.par_iter().with_max_len(1).map(&f).collect();
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

    /// Folds every chunk in parallel into one accumulator per worker thread, then reduces
    /// them: for results whose combination does not depend on order. Memory stays bounded by
    /// the accumulators, not the file, and there are only as many reductions as threads.
    /// Returns the accumulator, chunks found, chunks folded and the first error by chunk index.
    pub fn par_fold<A, F, R>(
        &self,
        init: fn() -> A,
        fold: F,
        reduce: R,
    ) -> (A, usize, usize, Option<Error>)
    where
        A: Send,
        F: Fn(&mut A, &Chunk<'_>) -> Result<(), Error> + Sync,
        R: Fn(&mut A, A) + Sync,
    {
        let cache = MetadataCache::default();
        self.par_fold_spans(
            init,
            |acc, s| self.with_chunk(s, &cache, |c| fold(acc, c)),
            reduce,
        )
    }

    /// [`JfrFile::par_fold`] over chunk spans: `fold` reads each chunk as it likes.
    pub(crate) fn par_fold_spans<A, F, R>(
        &self,
        init: fn() -> A,
        fold: F,
        reduce: R,
    ) -> (A, usize, usize, Option<Error>)
    where
        A: Send,
        F: Fn(&mut A, &ChunkSpan) -> Result<(), Error> + Sync,
        R: Fn(&mut A, A) + Sync,
    {
        let (spans, walk_error) = self.chunk_spans();
        type Acc<A> = (A, usize, Option<(usize, Error)>);
        // One slot per worker (and one for a caller outside the pool), each locked only by
        // its own thread.
        let slots: Vec<std::sync::Mutex<Acc<A>>> = (0..=rayon::current_num_threads())
            .map(|_| std::sync::Mutex::new((init(), 0, None)))
            .collect();
        // A `fold` that itself uses rayon may make its thread steal another chunk while the
        // slot is held: that chunk gets an accumulator of its own, reduced with the others.
        let overflow: std::sync::Mutex<Vec<Acc<A>>> = std::sync::Mutex::new(Vec::new());
        spans.par_iter().with_max_len(1).for_each(|s| {
            let slot =
                rayon::current_thread_index().map_or(slots.len() - 1, |i| i.min(slots.len() - 2));
            let mut own = None;
            let mut held = slots[slot].try_lock().ok();
            let acc: &mut Acc<A> = match held.as_deref_mut() {
                Some(acc) => acc,
                None => own.insert((init(), 0, None)),
            };
            match fold(&mut acc.0, s) {
                Ok(()) => acc.1 += 1,
                Err(e) if acc.2.as_ref().is_none_or(|(i, _)| s.index < *i) => {
                    acc.2 = Some((s.index, e))
                }
                Err(_) => {}
            }
            if let (Some(acc), Ok(mut list)) = (own, overflow.lock()) {
                list.push(acc);
            }
        });
        let overflow = overflow.into_inner().unwrap_or_default();
        let mut all = slots
            .into_iter()
            .filter_map(|m| m.into_inner().ok())
            .chain(overflow);
        let mut acc = all.next().unwrap_or_else(|| (init(), 0, None));
        for b in all {
            reduce(&mut acc.0, b.0);
            acc.1 += b.1;
            acc.2 = match (acc.2, b.2) {
                (Some(x), Some(y)) => Some(if x.0 <= y.0 { x } else { y }),
                (x, y) => x.or(y),
            };
        }
        let error = acc.2.map(|(_, e)| self.locate(e)).or(walk_error);
        (acc.0, spans.len(), acc.1, error)
    }

    /// Visits chunks one after another, in order (for printing events in file order).
    pub fn for_each_chunk<F>(&self, mut f: F) -> Result<(), Error>
    where
        F: FnMut(&Chunk<'_>) -> Result<(), Error>,
    {
        let cache = MetadataCache::default();
        self.for_each_span(|s| self.with_chunk(s, &cache, &mut f))
    }

    /// [`JfrFile::for_each_chunk`] over chunk spans: `f` reads each chunk as it likes.
    pub(crate) fn for_each_span<F>(&self, mut f: F) -> Result<(), Error>
    where
        F: FnMut(&ChunkSpan) -> Result<(), Error>,
    {
        let (spans, walk_error) = self.chunk_spans();
        for s in &spans {
            f(s).map_err(|e| self.locate(e))?;
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
