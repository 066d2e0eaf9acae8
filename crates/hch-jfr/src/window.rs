//! Huge chunks read in windows, so that memory is bounded by what a reader needs and not by
//! the chunk's size: async-profiler writes one chunk per recording, so a long profile is one
//! chunk of hundreds of MB whose constant pools sit at its end.
//!
//! Records are walked through a window of the file and the metadata record is read alone.
//! Checkpoint records are streamed entry by entry, and the constants a reader asks for (and
//! the records it wants decoded) are copied into one buffer, an [`Assembly`], over which an
//! ordinary [`Chunk`] is built: the sample path, summaries and event printing then run the
//! same code as for chunks read whole. Every piece held at once is bounded (`MAX_PIECE`,
//! `MAX_ASSEMBLED`, `MAX_CHECKPOINTS`), with an error that names the chunk and offset.

use std::sync::Arc;

use crate::chunk::{self, Chunk, MetadataCache, Pools, Records, Reloc, Span, CHECKPOINT, METADATA};
use crate::error::{Error, Problem, RawError, RawResult};
use crate::file::{ChunkSpan, JfrFile};
use crate::header::{ChunkHeader, HEADER_SIZE};
use crate::input::Cursor;
use crate::layout::Layouts;
use crate::metadata::Metadata;

/// The largest single piece read whole: the metadata record, an event, one constant.
const MAX_PIECE: usize = 64 << 20;
/// The most bytes of constants and records copied out of one chunk.
const MAX_ASSEMBLED: usize = 256 << 20;
/// The most checkpoint records of one chunk (a JDK flushes one a second: three days' worth).
const MAX_CHECKPOINTS: usize = 1 << 18;
/// Bytes of wanted events decoded per batch when printing.
const PRINT_BATCH: usize = 4 << 20;

/// The head of a record seen through a window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    /// Offset from the chunk start.
    pub offset: u64,
    /// Size, size field included.
    pub size: u64,
    /// Record type id.
    pub type_id: u64,
    /// Offset of the body (after the type id) from the chunk start.
    pub body: u64,
}

/// A window over one chunk: the chunk's bytes from `base` on, `buf.len()` of them.
pub(crate) struct Window<'f> {
    file: &'f JfrFile,
    pub(crate) span: ChunkSpan,
    base: u64,
    buf: Vec<u8>,
    size: usize,
}

/// Moves a within-piece error to the piece's offset in the chunk.
fn shifted(mut e: RawError, by: u64) -> RawError {
    e.offset = e.offset.saturating_add(by);
    e
}

/// A count varint whose items take `min_size` bytes each: they must fit in what is left of
/// the record, `left` bytes from the cursor's start (not the window, which may end sooner).
fn bounded_count(c: &mut Cursor<'_>, min_size: u64, left: u64) -> RawResult<usize> {
    let at = c.pos();
    let len = c.varint()?;
    let remaining = left.saturating_sub(c.pos() as u64);
    if len.saturating_mul(min_size) > remaining {
        return Err(RawError::new(at as u64, Problem::Length { len, remaining }));
    }
    Ok(len as usize)
}

impl<'f> Window<'f> {
    /// An empty window over a chunk of `file`.
    pub(crate) fn new(file: &'f JfrFile, span: ChunkSpan) -> Self {
        Window {
            file,
            span,
            base: 0,
            buf: Vec::new(),
            size: file.window_size(),
        }
    }

    /// Places a within-chunk error in the file.
    fn fail(&self, e: RawError) -> Error {
        e.at(self.span.index, self.span.start)
    }

    /// The chunk's bytes from `at` on, at least `min` of them unless the chunk ends first;
    /// reads the file only when the window does not hold them already.
    fn at(&mut self, at: u64, min: usize) -> Result<&[u8], Error> {
        let end = self.span.size;
        let at = at.min(end);
        let want_end = at.saturating_add(min as u64).min(end);
        if at < self.base || want_end > self.base + self.buf.len() as u64 {
            let len = (min.max(self.size) as u64).min(end - at) as usize;
            // A window grown for one large piece is not kept for the rest of the chunk.
            if self.buf.capacity() > 2 * len.max(self.size) {
                self.buf = Vec::new();
            }
            self.buf.clear();
            self.buf.resize(len, 0);
            self.base = at;
            if let Err(e) = self.file.read_into(self.span.start + at, &mut self.buf) {
                self.buf.clear();
                return Err(e);
            }
        }
        Ok(&self.buf[(at - self.base) as usize..])
    }

    /// Refuses a piece larger than [`MAX_PIECE`]; `what` names it in the error.
    fn piece(&self, at: u64, size: u64, what: &str) -> Result<usize, Error> {
        match usize::try_from(size) {
            Ok(n) if n <= MAX_PIECE => Ok(n),
            _ => Err(self.fail(RawError::new(
                at,
                Problem::OverBound {
                    what: format!("{what} of {size} bytes"),
                    limit: MAX_PIECE as u64,
                },
            ))),
        }
    }

    /// The chunk header (already checked against the file when the chunks were found).
    pub(crate) fn header(&mut self) -> Result<ChunkHeader, Error> {
        let size = self.span.size;
        let head = self.at(0, HEADER_SIZE)?;
        let parsed = ChunkHeader::parse_with_remaining(&head[..HEADER_SIZE.min(head.len())], size);
        parsed.map_err(|e| self.fail(e))
    }

    /// The record at `pos`, `None` at the chunk's end; framed as `chunk::Records` frames.
    pub(crate) fn head(&mut self, pos: u64) -> Result<Option<Head>, Error> {
        let remaining = self.span.size.saturating_sub(pos);
        if remaining == 0 {
            return Ok(None);
        }
        let bytes = self.at(pos, 18)?;
        let mut c = Cursor::new(bytes, 0);
        let framed = c.varint().and_then(|size| {
            if size == 0 || size > remaining {
                return Err(RawError::new(0, Problem::RecordSize { size, remaining }));
            }
            let mut c = Cursor::new(&bytes[..bytes.len().min(size as usize)], c.pos());
            Ok((size, c.varint()?, c.pos() as u64))
        });
        let (size, type_id, body) = framed.map_err(|e| self.fail(shifted(e, pos)))?;
        Ok(Some(Head {
            offset: pos,
            size,
            type_id,
            body: pos + body,
        }))
    }

    /// A whole record's bytes (at most [`MAX_PIECE`]).
    pub(crate) fn record(&mut self, h: &Head) -> Result<&[u8], Error> {
        let size = self.piece(h.offset, h.size, "a record")?;
        Ok(&self.at(h.offset, size)?[..size])
    }

    /// Calls `f` with every record in file order: its head, and its bytes when `wants` its
    /// type (else no bytes: records nobody reads, such as a huge checkpoint, are skipped
    /// unread). Records wholly in the window are framed in a tight loop, as a chunk read
    /// whole is; the window moves on at the first one that is not.
    pub(crate) fn walk(
        &mut self,
        wants: impl Fn(u64) -> bool,
        mut f: impl FnMut(Head, &[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut pos = HEADER_SIZE as u64;
        while pos < self.span.size {
            self.at(pos, 18)?;
            match self.scan(pos, &wants, &mut f)? {
                Ok(next) => pos = next,
                Err(h) => {
                    // A wanted record that crosses the window's end: read it whole.
                    f(h, self.record(&h)?)?;
                    pos = h.offset + h.size;
                }
            }
        }
        Ok(())
    }

    /// Frames the records from `pos` that the window holds: `Ok(where it stopped)` when the
    /// window ends in a record's head, `Err(head)` at a wanted record that crosses its end.
    fn scan(
        &self,
        pos: u64,
        wants: &impl Fn(u64) -> bool,
        f: &mut impl FnMut(Head, &[u8]) -> Result<(), Error>,
    ) -> Result<Result<u64, Head>, Error> {
        let (buf, base, size) = (&self.buf[..], self.base, self.span.size);
        let at_end = base + buf.len() as u64 == size;
        let mut rel = (pos - base) as usize;
        while base + (rel as u64) < size && (rel + 18 <= buf.len() || at_end) {
            let offset = base + rel as u64;
            let remaining = size - offset;
            let mut c = Cursor::new(buf, rel);
            let framed = c.varint().and_then(|len| {
                if len == 0 || len > remaining {
                    return Err(RawError::new(
                        rel as u64,
                        Problem::RecordSize {
                            size: len,
                            remaining,
                        },
                    ));
                }
                let end = buf.len().min(rel.saturating_add(len as usize));
                let mut c = Cursor::new(&buf[..end], c.pos());
                Ok((len, c.varint()?, c.pos()))
            });
            let (len, type_id, body) = framed.map_err(|e| self.fail(shifted(e, base)))?;
            let h = Head {
                offset,
                size: len,
                type_id,
                body: base + body as u64,
            };
            let end = rel as u64 + len;
            match (wants(type_id), end <= buf.len() as u64) {
                (true, true) => f(h, &buf[rel..end as usize])?,
                (true, false) => return Ok(Err(h)),
                (false, _) => f(h, &[])?,
            }
            if end > buf.len() as u64 {
                return Ok(Ok(base + end));
            }
            rel = end as usize;
        }
        Ok(Ok(base + rel as u64))
    }

    /// Runs `read` on a cursor over the chunk's bytes from `pos` to at most `end` (offsets in
    /// its errors count from `pos`). When it runs out of window before `end`, reads a window
    /// twice as large and runs it again. Returns its value and the offset where it stopped.
    fn parse<T>(
        &mut self,
        pos: u64,
        end: u64,
        mut read: impl FnMut(&mut Cursor<'_>) -> RawResult<T>,
    ) -> Result<(T, u64), Error> {
        let avail = usize::try_from(end.saturating_sub(pos)).unwrap_or(usize::MAX);
        let mut min = 0usize;
        loop {
            let bytes = self.at(pos, min)?;
            let n = bytes.len().min(avail);
            let mut c = Cursor::new(&bytes[..n], 0);
            let e = match read(&mut c) {
                Ok(v) => return Ok((v, pos + c.pos() as u64)),
                Err(e) => e,
            };
            let short = matches!(
                e.problem,
                Problem::Truncated { .. } | Problem::Length { .. }
            );
            if !short || n >= avail {
                return Err(self.fail(shifted(e, pos)));
            }
            min = n.saturating_mul(2).max(4096);
            if min > MAX_PIECE {
                return Err(self.fail(RawError::new(
                    pos,
                    Problem::OverBound {
                        what: format!("a constant at chunk offset {pos} (over {n} bytes)"),
                        limit: MAX_PIECE as u64,
                    },
                )));
            }
        }
    }

    /// The chunk's types: from the metadata record the header points to, else the last one.
    pub(crate) fn metadata(
        &mut self,
        header: &ChunkHeader,
        cache: &MetadataCache,
    ) -> Result<(Arc<Metadata>, Arc<Layouts>), Error> {
        let at = self.find_metadata(header)?;
        let Some(h) = self.head(at)? else {
            return Err(self.fail(RawError::new(24, Problem::NoMetadata(at))));
        };
        let size = self.piece(at, h.size, "the metadata record")?;
        let bytes = &self.at(at, size)?[..size];
        let parsed = cache.get_or_parse(bytes, 0);
        parsed.map_err(|e| self.fail(shifted(e, at)))
    }

    /// Where the metadata record is: as for a chunk read whole, the header's offset when a
    /// metadata record is there, else the last one in the chunk.
    fn find_metadata(&mut self, header: &ChunkHeader) -> Result<u64, Error> {
        let at = header.metadata_offset;
        if at >= HEADER_SIZE as u64 && at < self.span.size {
            let mut c = Cursor::new(self.at(at, 18)?, 0);
            if c.varint().is_ok() && c.varint().ok() == Some(METADATA) {
                return Ok(at);
            }
        }
        let mut last = None;
        self.walk(
            |_| false,
            |h, _| {
                if h.type_id == METADATA {
                    last = Some(h.offset);
                }
                Ok(())
            },
        )?;
        last.ok_or_else(|| {
            self.fail(RawError::new(
                24,
                Problem::NoMetadata(header.metadata_offset),
            ))
        })
    }

    /// Notes a checkpoint record found by a walk, refusing more than [`MAX_CHECKPOINTS`].
    pub(crate) fn note_checkpoint(
        span: &ChunkSpan,
        list: &mut Vec<u64>,
        h: &Head,
    ) -> Result<(), Error> {
        if list.len() >= MAX_CHECKPOINTS {
            return Err(RawError::new(
                h.offset,
                Problem::OverBound {
                    what: format!("the list of checkpoints (more than {MAX_CHECKPOINTS})"),
                    limit: (MAX_CHECKPOINTS * std::mem::size_of::<u64>()) as u64,
                },
            )
            .at(span.index, span.start));
        }
        list.push(h.offset);
        Ok(())
    }

    /// Streams the constants of the checkpoints at `offsets` (found by a walk, in file order),
    /// copies those `keep` wants into `asm` and indexes them, then checks the checkpoint
    /// chain as a chunk read whole does. Every entry is skipped by its layout, kept or not, so
    /// malformed constants are found here too.
    pub(crate) fn read_pools(
        &mut self,
        header: &ChunkHeader,
        types: (&Metadata, &Layouts),
        offsets: &[u64],
        keep: &mut impl FnMut(u64, u64) -> bool,
        asm: &mut Assembly,
    ) -> Result<(), Error> {
        let mut deltas = Vec::with_capacity(offsets.len());
        for &off in offsets {
            let Some(h) = self.head(off)? else {
                continue; // cannot happen: the walk found a record there
            };
            deltas.push((off, self.checkpoint(&h, types, keep, asm)?));
        }
        let chain = chunk::check_chain(header, offsets.len(), self.span.size, |pos| {
            let i = deltas.binary_search_by_key(&pos, |d| d.0).ok();
            Ok(i.map(|i| deltas[i].1))
        });
        chain.map_err(|e| self.fail(e))
    }

    /// Streams one checkpoint record; returns its delta to the previous checkpoint.
    fn checkpoint(
        &mut self,
        h: &Head,
        (md, layouts): (&Metadata, &Layouts),
        keep: &mut impl FnMut(u64, u64) -> bool,
        asm: &mut Assembly,
    ) -> Result<i64, Error> {
        let end = h.offset + h.size;
        let left = end - h.body;
        let ((delta, pools), mut pos) = self.parse(h.body, end, |c| {
            c.varint()?; // start time
            c.varint()?; // duration
            let delta = c.varint()? as i64;
            c.u8()?; // type flags
            Ok((delta, bounded_count(c, 2, left)?))
        })?;
        for _ in 0..pools {
            let left = end - pos;
            let ((type_id, class, count), at) = self.parse(pos, end, |c| {
                let type_at = c.pos() as u64;
                let type_id = c.varint()?;
                let class = md
                    .index_of(type_id)
                    .ok_or(RawError::new(type_at, Problem::UnknownType(type_id)))?;
                Ok((type_id, class, bounded_count(c, 1, left)?))
            })?;
            pos = at;
            asm.pools.declare(type_id, count);
            let divert = asm.pools.diverts(type_id);
            for _ in 0..count {
                pos = self.entry(pos, end, (type_id, class, divert), layouts, keep, asm)?;
            }
        }
        Ok(delta)
    }

    /// Skips one pool entry at `pos`, copying it into `asm` when `keep` wants it; returns
    /// where the next entry starts.
    fn entry(
        &mut self,
        pos: u64,
        end: u64,
        (type_id, class, divert): (u64, u32, bool),
        layouts: &Layouts,
        keep: &mut impl FnMut(u64, u64) -> bool,
        asm: &mut Assembly,
    ) -> Result<u64, Error> {
        let ((key, value_at), next) = self.parse(pos, end, |c| {
            let key = c.varint()?;
            let value_at = c.pos();
            layouts.skip_class(c, class, 0)?;
            Ok((key, value_at))
        })?;
        if keep(type_id, key) {
            let len = (next - pos) as usize;
            let bytes = &self.at(pos, len)?[..len];
            let at = asm.append(pos, bytes);
            let at = at.map_err(|e| self.fail(e))?;
            let span = Span {
                start: at + value_at as u32,
                end: at + len as u32,
            };
            asm.pools.insert(type_id, key, span, divert);
        }
        Ok(next)
    }
}

/// The parts of a huge chunk a reader asked for, copied into one buffer: some whole records
/// and some constants, with the index of those constants.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    pub(crate) bytes: Vec<u8>,
    pub(crate) reloc: Reloc,
    pub(crate) pools: Pools,
}

impl Assembly {
    /// Appends bytes found at chunk offset `from`; returns where they start in the buffer.
    pub(crate) fn append(&mut self, from: u64, bytes: &[u8]) -> RawResult<u32> {
        let at = self.bytes.len();
        if bytes.is_empty() {
            return Ok(at as u32);
        }
        if at + bytes.len() > MAX_ASSEMBLED {
            return Err(RawError::new(
                from,
                Problem::OverBound {
                    what: format!(
                        "the constants and records needed from this chunk (over {} bytes)",
                        at + bytes.len()
                    ),
                    limit: MAX_ASSEMBLED as u64,
                },
            ));
        }
        self.bytes.extend_from_slice(bytes);
        self.reloc.push(at as u32, from);
        Ok(at as u32)
    }

    /// Appends a whole record found by a walk of the chunk `span`.
    pub(crate) fn append_record(
        &mut self,
        span: &ChunkSpan,
        h: &Head,
        record: &[u8],
    ) -> Result<(), Error> {
        let appended = self.append(h.offset, record);
        appended
            .map(|_| ())
            .map_err(|e| e.at(span.index, span.start))
    }
}

/// A huge chunk's header, types and window, read before its records.
pub(crate) struct Opened<'f> {
    pub(crate) window: Window<'f>,
    pub(crate) header: ChunkHeader,
    pub(crate) metadata: Arc<Metadata>,
    pub(crate) layouts: Arc<Layouts>,
}

impl<'f> Opened<'f> {
    /// Opens a huge chunk: its header and its metadata (shared through `cache`).
    pub(crate) fn new(
        file: &'f JfrFile,
        span: &ChunkSpan,
        cache: &MetadataCache,
    ) -> Result<Self, Error> {
        let mut window = Window::new(file, *span);
        let header = window.header()?;
        let (metadata, layouts) = window.metadata(&header, cache)?;
        Ok(Opened {
            window,
            header,
            metadata,
            layouts,
        })
    }

    /// Reads the constants `keep` wants from the checkpoints at `offsets` into `asm`.
    pub(crate) fn read_pools(
        &mut self,
        offsets: &[u64],
        keep: &mut impl FnMut(u64, u64) -> bool,
        asm: &mut Assembly,
    ) -> Result<(), Error> {
        let types = (&*self.metadata, &*self.layouts);
        self.window
            .read_pools(&self.header, types, offsets, keep, asm)
    }

    /// A chunk over the assembled bytes (records and constants copied out of this one).
    pub(crate) fn chunk<'a>(
        &self,
        pools: Pools,
        bytes: &'a [u8],
        checkpoints: usize,
        reloc: &'a Reloc,
    ) -> Chunk<'a> {
        Chunk::assembled(
            &self.window.span,
            self.header.clone(),
            Arc::clone(&self.metadata),
            Arc::clone(&self.layouts),
            pools,
            bytes,
            checkpoints,
            reloc,
        )
    }
}

/// Decodes the events of the named types of a huge chunk in file order, as
/// [`crate::for_each_event`] does for chunks read whole: the constants those events may refer
/// to are assembled first, then the events are decoded in batches.
pub(crate) fn for_each_event<F>(
    file: &JfrFile,
    span: &ChunkSpan,
    names: &[&str],
    cache: &MetadataCache,
    f: &mut F,
) -> Result<(), Error>
where
    F: FnMut(usize, &str, serde_json::Value) -> Result<(), Error>,
{
    let mut o = Opened::new(file, span, cache)?;
    let ids: Vec<(u64, &str)> = names
        .iter()
        .filter_map(|n| o.metadata.class_by_name(n).map(|c| (c.id, *n)))
        .filter(|(id, _)| *id != METADATA && *id != CHECKPOINT)
        .collect();
    let mut offsets = Vec::new();
    o.window.walk(
        |_| false,
        |h, _| match h.type_id {
            CHECKPOINT => Window::note_checkpoint(span, &mut offsets, &h),
            _ => Ok(()),
        },
    )?;
    let strings = o.metadata.class_by_name("java.lang.String").map(|c| c.id);
    let needed = o.metadata.reachable(ids.iter().map(|i| i.0).chain(strings));
    let mut asm = Assembly::default();
    o.read_pools(&offsets, &mut |t, _| needed.contains(&t), &mut asm)?;
    let base = (asm.bytes.len(), asm.reloc.runs.len());
    let mut pools = std::mem::take(&mut asm.pools);
    // Wanted records are copied after the constants and decoded a batch at a time.
    let mut window = std::mem::replace(&mut o.window, Window::new(file, *span));
    let mut batch = |asm: &mut Assembly, pools: &mut Pools| {
        let chunk = o.chunk(std::mem::take(pools), &asm.bytes, offsets.len(), &asm.reloc);
        let done = decode_batch(&chunk, base.0, &ids, f);
        *pools = chunk.take_pools();
        asm.bytes.truncate(base.0);
        asm.reloc.runs.truncate(base.1);
        done
    };
    window.walk(
        |t| ids.iter().any(|i| i.0 == t),
        |h, record| {
            if !ids.iter().any(|i| i.0 == h.type_id) {
                return Ok(()); // the walk hands over every record, unread unless wanted
            }
            asm.append_record(span, &h, record)?;
            if asm.bytes.len() - base.0 >= PRINT_BATCH {
                batch(&mut asm, &mut pools)?;
            }
            Ok(())
        },
    )?;
    batch(&mut asm, &mut pools)
}

/// Hands the records assembled from `from` on to `f`, decoded.
fn decode_batch<F>(
    chunk: &Chunk<'_>,
    from: usize,
    ids: &[(u64, &str)],
    f: &mut F,
) -> Result<(), Error>
where
    F: FnMut(usize, &str, serde_json::Value) -> Result<(), Error>,
{
    let records = Records {
        bytes: chunk.bytes(),
        pos: from,
    };
    for r in records {
        let r = r.map_err(|e| chunk.locate(e))?;
        if let Some((_, name)) = ids.iter().find(|(i, _)| *i == r.type_id) {
            f(chunk.index, name, chunk.event_json(&r)?)?;
        }
    }
    Ok(())
}
