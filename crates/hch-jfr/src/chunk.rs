//! One chunk: its header, metadata, constant pool index and records.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::error::{Error, Problem, RawError, RawResult};
use crate::header::{ChunkHeader, HEADER_SIZE};
use crate::input::Cursor;
use crate::layout::Layouts;
use crate::metadata::Metadata;

/// Record type id of metadata events.
pub(crate) const METADATA: u64 = 0;
/// Record type id of checkpoint (constant pool) events.
pub(crate) const CHECKPOINT: u64 = 1;

/// A record of a chunk, undecoded: its type and its bytes after the type id.
#[derive(Debug, Clone, Copy)]
pub struct RawEvent<'a> {
    /// Type id, meaningful in this chunk only.
    pub type_id: u64,
    /// Offset of the record from the chunk start.
    pub offset: usize,
    /// Size of the record, size field included.
    pub size: usize,
    /// The fields, encoded.
    pub body: &'a [u8],
    /// Offset of `body` from the chunk start.
    pub(crate) body_offset: usize,
}

/// Constant pool entries of one chunk: (type id, key) -> where the value lies in the chunk.
/// One flat table, recycled from chunk to chunk on each thread: indexing a chunk then costs
/// no allocation once the table has grown to the chunks' size.
#[derive(Debug, Default)]
pub(crate) struct Pools {
    map: FxHashMap<(u64, u64), Span>,
    /// Entries per type as the checkpoints declare them (a type may span checkpoints).
    counts: FxHashMap<u64, usize>,
    /// Types whose entries are listed in `diverted` instead of the table.
    divert: Vec<u64>,
    /// (type, key, value) of the diverted types' entries, in file order.
    pub(crate) diverted: Vec<(u64, u64, Span)>,
}

/// A pool entry's value: start and end offsets in the chunk (chunks are at most 4 GiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
}

/// Tables larger than this many entries are not kept for the next chunk.
const RECYCLE_ENTRIES: usize = 1 << 20;

thread_local! {
    static SPARE_POOLS: std::cell::Cell<Option<Pools>> = const { std::cell::Cell::new(None) };
}

impl Pools {
    /// An empty table, the one a previous chunk on this thread left if there is one.
    fn recycled() -> Pools {
        let mut p = SPARE_POOLS.with(|s| s.take()).unwrap_or_default();
        p.map.clear();
        p.counts.clear();
        p.divert.clear();
        p.diverted.clear();
        p
    }

    /// Leaves the table for the next chunk on this thread, unless a huge chunk grew it.
    fn recycle(self) {
        let small = self.map.capacity() <= RECYCLE_ENTRIES
            && self.diverted.capacity() <= RECYCLE_ENTRIES
            && self.counts.capacity() <= RECYCLE_ENTRIES;
        if small {
            SPARE_POOLS.with(|s| s.set(Some(self)));
        }
    }

    /// Where a pool entry's value lies.
    #[inline]
    pub(crate) fn get(&self, type_id: u64, key: u64) -> Option<Span> {
        self.map.get(&(type_id, key)).copied()
    }

    /// Number of entries of a type, as declared (an entry repeated in two checkpoints counts
    /// twice).
    pub(crate) fn count(&self, type_id: u64) -> usize {
        self.counts.get(&type_id).copied().unwrap_or(0)
    }

    pub(crate) fn declare(&mut self, type_id: u64, count: usize) {
        let n = self.counts.entry(type_id).or_insert(0);
        *n = n.saturating_add(count);
    }

    /// Lists the entries of these types instead of indexing them.
    pub(crate) fn divert_types(&mut self, types: impl IntoIterator<Item = u64>) {
        self.divert.extend(types);
    }

    /// Whether entries of a type go to the diverted list instead of the table.
    #[inline]
    pub(crate) fn diverts(&self, type_id: u64) -> bool {
        self.divert.contains(&type_id)
    }

    /// Records where an entry's value lies: in the table, or in the list for diverted types.
    #[inline]
    pub(crate) fn insert(&mut self, type_id: u64, key: u64, span: Span, divert: bool) {
        if divert {
            self.diverted.push((type_id, key, span));
        } else {
            self.map.insert((type_id, key), span);
        }
    }
}

/// Where the bytes of an assembled chunk (a huge chunk read in windows, whose needed parts
/// were copied into one buffer) lie in the real chunk: runs of (offset in the buffer, offset
/// in the chunk), sorted. Errors then name the real offset.
#[derive(Debug, Default, Clone)]
pub(crate) struct Reloc {
    pub(crate) runs: Vec<(u32, u64)>,
}

impl Reloc {
    /// The chunk offset of a buffer offset.
    pub(crate) fn map(&self, off: u64) -> u64 {
        let i = self.runs.partition_point(|r| u64::from(r.0) <= off);
        match i.checked_sub(1).map(|i| self.runs[i]) {
            Some((at, to)) => to + (off - u64::from(at)),
            None => off,
        }
    }

    /// Notes that buffer bytes from `at` on come from chunk offset `to`, unless the last run
    /// already continues there.
    pub(crate) fn push(&mut self, at: u32, to: u64) {
        if let Some(&(a, t)) = self.runs.last() {
            if t + u64::from(at - a) == to {
                return;
            }
        }
        self.runs.push((at, to));
    }
}

/// A parsed chunk: metadata and pools ready, events decoded on demand.
#[derive(Debug)]
pub struct Chunk<'a> {
    /// Zero-based index of the chunk in its file.
    pub index: usize,
    /// Absolute offset of the chunk in its file.
    pub start: u64,
    /// The header.
    pub header: ChunkHeader,
    /// The chunk's types (shared with other chunks whose metadata event is byte-identical).
    pub metadata: Arc<Metadata>,
    pub(crate) layouts: Arc<Layouts>,
    pub(crate) pools: Pools,
    pub(crate) bytes: &'a [u8],
    /// How many checkpoint records the chunk has.
    pub checkpoints: usize,
    /// For an assembled chunk, where its bytes lie in the real one.
    pub(crate) reloc: Option<&'a Reloc>,
}

impl<'a> Chunk<'a> {
    /// Parses a chunk: `bytes` is exactly the chunk (header included), `start` its file offset.
    pub fn parse(bytes: &'a [u8], index: usize, start: u64) -> Result<Chunk<'a>, Error> {
        Self::parse_cached(bytes, index, start, &MetadataCache::default())
    }

    /// Parses a chunk, reusing the types of an earlier chunk whose metadata event has the
    /// very same bytes (never by id: ids clash between JVMs).
    pub(crate) fn parse_cached(
        bytes: &'a [u8],
        index: usize,
        start: u64,
        cache: &MetadataCache,
    ) -> Result<Chunk<'a>, Error> {
        let mut c = Self::parse_raw(bytes, index, cache).map_err(|e| e.at(index, start))?;
        c.start = start;
        Ok(c)
    }

    fn parse_raw(bytes: &'a [u8], index: usize, cache: &MetadataCache) -> RawResult<Chunk<'a>> {
        let header = ChunkHeader::parse(bytes)?;
        let bytes = &bytes[..header.size as usize];
        let md_offset = find_metadata(bytes, &header)?;
        let (metadata, layouts) = cache.get_or_parse(bytes, md_offset)?;
        let mut pools = Pools::recycled();
        pools.divert_types(cache.diverted_types(&metadata));
        let mut chunk = Chunk {
            index,
            start: 0,
            header,
            metadata,
            layouts,
            pools,
            bytes,
            checkpoints: 0,
            reloc: None,
        };
        chunk.index_pools()?;
        chunk.check_chain()?;
        Ok(chunk)
    }

    /// A chunk assembled from the parts of a huge chunk that a reader needs: `bytes` holds
    /// copies of some constants and records, `reloc` says where they came from, and `pools`
    /// index the constants in `bytes`. Only the crate's windowed readers build these.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assembled(
        span: &crate::file::ChunkSpan,
        header: ChunkHeader,
        metadata: Arc<Metadata>,
        layouts: Arc<Layouts>,
        pools: Pools,
        bytes: &'a [u8],
        checkpoints: usize,
        reloc: &'a Reloc,
    ) -> Chunk<'a> {
        Chunk {
            index: span.index,
            start: span.start,
            header,
            metadata,
            layouts,
            pools,
            bytes,
            checkpoints,
            reloc: Some(reloc),
        }
    }

    /// Takes the pools back from an assembled chunk (to assemble the next batch with them).
    pub(crate) fn take_pools(mut self) -> Pools {
        std::mem::take(&mut self.pools)
    }

    /// The chunk's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Every record of the chunk in file order, metadata and checkpoints included.
    pub(crate) fn raw_records(&self) -> Records<'a> {
        Records {
            bytes: self.bytes,
            pos: HEADER_SIZE,
        }
    }

    /// Every record in file order, metadata (type 0) and checkpoints (type 1) included.
    pub fn records(&self) -> impl Iterator<Item = Result<RawEvent<'a>, Error>> + 'a {
        let (index, start) = (self.index, self.start);
        self.raw_records()
            .map(move |r| r.map_err(|e| e.at(index, start)))
    }

    /// Event records only (no metadata, no checkpoints).
    pub fn events(&self) -> impl Iterator<Item = Result<RawEvent<'a>, Error>> + 'a {
        self.records()
            .filter(|r| !matches!(r, Ok(e) if e.type_id == METADATA || e.type_id == CHECKPOINT))
    }

    /// Converts a within-chunk error to a located one.
    pub(crate) fn locate(&self, mut e: RawError) -> Error {
        if let Some(r) = self.reloc {
            e.offset = r.map(e.offset);
        }
        e.at(self.index, self.start)
    }

    /// Indexes every constant pool entry of every checkpoint record.
    fn index_pools(&mut self) -> RawResult<()> {
        let mut records = self.raw_records();
        while let Some(r) = records.next_raw() {
            let r = r?;
            if r.type_id == CHECKPOINT {
                self.checkpoints += 1;
                self.index_checkpoint(&r)?;
            }
        }
        Ok(())
    }

    /// Reads one checkpoint: header fields, then pools of (key, value) entries.
    fn index_checkpoint(&mut self, r: &RawEvent<'a>) -> RawResult<()> {
        let end = r.offset + r.size;
        let mut c = Cursor::new(&self.bytes[..end], r.body_offset);
        c.varint()?; // start time
        c.varint()?; // duration
        c.varint()?; // delta to the previous checkpoint
        c.u8()?; // type flags
        let pools = c.length(2)?;
        for _ in 0..pools {
            let type_at = c.pos();
            let type_id = c.varint()?;
            let class = self
                .class_index(type_id)
                .ok_or(RawError::new(type_at as u64, Problem::UnknownType(type_id)))?;
            let count = c.length(1)?;
            self.pools.declare(type_id, count);
            let divert = self.pools.diverts(type_id);
            if !divert {
                self.pools.map.reserve(count.min(1 << 16));
            }
            for _ in 0..count {
                let key = c.varint()?;
                let start = c.pos() as u32;
                self.layouts.skip_class(&mut c, class, 0)?;
                let span = Span {
                    start,
                    end: c.pos() as u32,
                };
                self.pools.insert(type_id, key, span, divert);
            }
        }
        Ok(())
    }

    /// Walks the checkpoint chain from the header: each step must go strictly backwards.
    fn check_chain(&self) -> RawResult<()> {
        let bytes = self.bytes;
        check_chain(&self.header, self.checkpoints, bytes.len() as u64, |pos| {
            let mut c = Cursor::new(bytes, pos as usize);
            c.varint()?;
            let type_id = c.varint()?;
            if type_id != CHECKPOINT {
                return Ok(None);
            }
            c.varint()?;
            c.varint()?;
            Ok(Some(c.varint()? as i64))
        })
    }

    /// A cursor over one pool entry's value: reading can never run into other entries.
    pub(crate) fn entry_cursor(&self, span: Span) -> Cursor<'a> {
        let end = (span.end as usize).min(self.bytes.len());
        Cursor::new(&self.bytes[..end], span.start as usize)
    }

    /// The index of a type in the metadata.
    pub(crate) fn class_index(&self, type_id: u64) -> Option<u32> {
        self.metadata.index_of(type_id)
    }

    /// Type id of a type by name, if this chunk declares it.
    pub fn type_id(&self, name: &str) -> Option<u64> {
        self.metadata.class_by_name(name).map(|c| c.id)
    }

    /// Name of a type by id.
    pub fn type_name(&self, type_id: u64) -> Option<&str> {
        type_name(&self.metadata, type_id)
    }

    /// Number of constant pool entries of a type (for statistics).
    pub fn pool_len(&self, type_id: u64) -> usize {
        self.pools.count(type_id)
    }
}

impl Drop for Chunk<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.pools).recycle();
    }
}

/// Name of a record type by id: the two record kinds, else the metadata's.
pub(crate) fn type_name(md: &Metadata, type_id: u64) -> Option<&str> {
    match type_id {
        METADATA => Some("jdk.Metadata"),
        CHECKPOINT => Some("jdk.Checkpoint"),
        _ => md.class(type_id).map(|c| c.name.as_str()),
    }
}

/// Walks the checkpoint chain from the header's newest checkpoint back to the one whose delta
/// is 0: each step must land in the chunk (of `len` bytes) on a checkpoint and go strictly
/// backwards, and there are no more steps than checkpoints. `delta_at(pos)` reads the record
/// at `pos`: the delta to the previous checkpoint, `None` when it is not a checkpoint.
pub(crate) fn check_chain(
    header: &ChunkHeader,
    checkpoints: usize,
    len: u64,
    mut delta_at: impl FnMut(u64) -> RawResult<Option<i64>>,
) -> RawResult<()> {
    let mut pos = header.constant_pool_offset;
    if pos == 0 {
        return Ok(()); // no chain recorded (async-profiler writes one checkpoint and points to it)
    }
    for _ in 0..=checkpoints {
        if pos < HEADER_SIZE as u64 || pos >= len {
            return Err(RawError::new(
                16,
                Problem::CheckpointChain(format!("offset {pos} is outside the chunk")),
            ));
        }
        let Some(delta) = delta_at(pos)? else {
            return Err(RawError::new(
                pos,
                Problem::CheckpointChain(format!("no checkpoint at offset {pos}")),
            ));
        };
        if delta == 0 {
            return Ok(());
        }
        if delta > 0 {
            return Err(RawError::new(
                pos,
                Problem::CheckpointChain(format!("delta {delta} points forward")),
            ));
        }
        pos = pos.wrapping_add(delta as u64);
    }
    Err(RawError::new(
        16,
        Problem::CheckpointChain("longer than the number of checkpoints (a cycle)".into()),
    ))
}

/// Types parsed from metadata events, keyed by the events' exact bytes.
#[derive(Debug, Default)]
pub(crate) struct MetadataCache {
    entries: std::sync::Mutex<Vec<CachedMetadata>>,
    /// Sample events whose stack trace pools go to `Pools::diverted`: the sample path walks
    /// them once instead of indexing every stack and looking each up again.
    pub(crate) divert_stacks_of: Vec<&'static str>,
}

/// A metadata event's bytes and the types parsed from them.
type CachedMetadata = (Vec<u8>, Arc<Metadata>, Arc<Layouts>);

/// How many distinct metadata events the cache keeps (a file rarely has more than a few).
const METADATA_CACHE_SIZE: usize = 8;

impl MetadataCache {
    /// A context that lists the stack trace pool entries of these sample events.
    pub(crate) fn diverting_stacks_of(events: &[crate::SampleEvent]) -> MetadataCache {
        MetadataCache {
            divert_stacks_of: events.iter().map(|e| e.type_name()).collect(),
            ..Default::default()
        }
    }

    /// The stack trace types whose entries are listed, not indexed, in a chunk of these types.
    pub(crate) fn diverted_types<'m>(&'m self, md: &'m Metadata) -> impl Iterator<Item = u64> + 'm {
        self.divert_stacks_of.iter().filter_map(|event| {
            let def = md.class_by_name(event)?;
            let f = def.fields.iter().find(|f| f.name == "stackTrace")?;
            f.constant_pool.then_some(f.type_id)
        })
    }

    /// The types of the metadata record at `pos`, parsed or shared with an earlier chunk.
    pub(crate) fn get_or_parse(
        &self,
        chunk: &[u8],
        pos: usize,
    ) -> RawResult<(Arc<Metadata>, Arc<Layouts>)> {
        let raw = metadata_bytes(chunk, pos);
        if let (Some(raw), Ok(entries)) = (raw, self.entries.lock()) {
            if let Some((_, m, l)) = entries.iter().find(|(b, _, _)| b.as_slice() == raw) {
                return Ok((Arc::clone(m), Arc::clone(l)));
            }
        }
        let metadata = Arc::new(Metadata::parse(chunk, pos)?);
        let layouts = Arc::new(Layouts::new(&metadata));
        if let (Some(raw), Ok(mut entries)) = (raw, self.entries.lock()) {
            if entries.len() < METADATA_CACHE_SIZE {
                entries.push((raw.to_vec(), Arc::clone(&metadata), Arc::clone(&layouts)));
            }
        }
        Ok((metadata, layouts))
    }
}

/// The bytes of the metadata record at `pos` after its size and type id, when well framed.
fn metadata_bytes(chunk: &[u8], pos: usize) -> Option<&[u8]> {
    let mut c = Cursor::new(chunk, pos);
    let size = c.varint().ok()? as usize;
    let end = pos.checked_add(size).filter(|&e| e <= chunk.len())?;
    c.varint().ok()?;
    c.varint().ok()?; // start time differs between otherwise equal metadata events
    c.varint().ok()?; // duration
    chunk.get(c.pos()..end)
}

/// Finds the metadata record: where the header says, else the last one in the chunk.
fn find_metadata(bytes: &[u8], header: &ChunkHeader) -> RawResult<usize> {
    let at = header.metadata_offset as usize;
    if at >= HEADER_SIZE && at < bytes.len() {
        let mut c = Cursor::new(bytes, at);
        if c.varint().is_ok() && c.varint().ok() == Some(METADATA) {
            return Ok(at);
        }
    }
    let mut last = None;
    let mut records = Records {
        bytes,
        pos: HEADER_SIZE,
    };
    while let Some(r) = records.next_raw() {
        let r = r?;
        if r.type_id == METADATA {
            last = Some(r.offset);
        }
    }
    last.ok_or(RawError::new(
        24,
        Problem::NoMetadata(header.metadata_offset),
    ))
}

/// Iterator over the records of a chunk. Stops at the first malformed record.
#[derive(Debug, Clone)]
pub(crate) struct Records<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Records<'a> {
    /// The next record, or the error that ends the iteration.
    #[inline]
    pub(crate) fn next_raw(&mut self) -> Option<RawResult<RawEvent<'a>>> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let r = self.read();
        if r.is_err() {
            self.pos = self.bytes.len();
        }
        Some(r)
    }

    #[inline]
    fn read(&mut self) -> RawResult<RawEvent<'a>> {
        let offset = self.pos;
        let mut c = Cursor::new(self.bytes, offset);
        let size = c.varint()?;
        let remaining = (self.bytes.len() - offset) as u64;
        if size == 0 || size > remaining {
            return Err(RawError::new(
                offset as u64,
                Problem::RecordSize { size, remaining },
            ));
        }
        let end = offset + size as usize;
        let mut c = Cursor::new(&self.bytes[..end], c.pos());
        let type_id = c.varint()?;
        let body_offset = c.pos();
        self.pos = end;
        Ok(RawEvent {
            type_id,
            offset,
            size: size as usize,
            body: &self.bytes[body_offset..end],
            body_offset,
        })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RawEvent<'a>, RawError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_raw()
    }
}
