//! The CPU sample fast path: per chunk, count samples per stack trace key without allocating
//! per event, then resolve each distinct stack once.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use std::sync::Arc;

use crate::chunk::{Chunk, MetadataCache, RawEvent, Records, CHECKPOINT};
use crate::error::{Error, RawError, RawResult};
use crate::file::{ChunkSpan, JfrFile};
use crate::input::{Cursor, JfrStr};
use crate::layout::{Kind, Layouts};
use crate::metadata::Metadata;
use crate::resolve::Resolver;
use crate::samples::{JvmFacts, Merger, SampleEvent, StackDepth};
use crate::window::{Assembly, Opened, Window};

/// A sample event type of this chunk and where its stack trace field is.
struct SampleType {
    type_id: u64,
    class: u32,
    stack_field: usize,
    stack_type: u64,
    /// When every field before the stack trace is one varint (time, thread): how many.
    varints_before: Option<usize>,
}

/// Samples per stack trace key of one sample type: a dense table for the small keys that
/// producers hand out (async-profiler numbers its stacks 1, 2, 3...), a hash map for the rest.
/// A chunk of async-profiler's has 200,000 samples: hashing each key cost a third of reading.
struct Counts {
    dense: Vec<u64>,
    sparse: FxHashMap<u64, u64>,
}

/// The most keys counted in the dense table (8 MB).
const DENSE_KEYS: usize = 1 << 20;

impl Counts {
    /// A table as large as the chunk's stack trace pool (at most 1M entries).
    fn new(stacks_in_pool: usize) -> Self {
        Counts {
            dense: vec![0; stacks_in_pool.saturating_add(1).min(DENSE_KEYS)],
            sparse: FxHashMap::default(),
        }
    }

    /// Counts a sample, growing the dense table for a small key: a chunk read in windows
    /// counts its samples before it knows the size of its stack trace pool.
    #[inline]
    fn add_growing(&mut self, key: u64) {
        match usize::try_from(key) {
            Ok(k) if k >= self.dense.len() && k < DENSE_KEYS => {
                self.dense
                    .resize((k + 1).next_power_of_two().min(DENSE_KEYS), 0);
            }
            _ => {}
        }
        self.add(key)
    }

    /// Whether a key has samples.
    fn has(&self, key: u64) -> bool {
        match usize::try_from(key).ok().and_then(|k| self.dense.get(k)) {
            Some(n) => *n > 0,
            None => self.sparse.contains_key(&key),
        }
    }

    /// Takes the samples of a key, leaving none.
    fn take(&mut self, key: u64) -> u64 {
        match usize::try_from(key)
            .ok()
            .and_then(|k| self.dense.get_mut(k))
        {
            Some(n) => std::mem::take(n),
            None => self.sparse.remove(&key).unwrap_or(0),
        }
    }

    #[inline]
    fn add(&mut self, key: u64) {
        match usize::try_from(key)
            .ok()
            .and_then(|k| self.dense.get_mut(k))
        {
            Some(n) => *n += 1,
            None => *self.sparse.entry(key).or_insert(0) += 1,
        }
    }

    /// Every key with its samples.
    fn drain(self) -> impl Iterator<Item = (u64, u64)> {
        let dense = self.dense.into_iter().zip(0u64..).filter(|(n, _)| *n > 0);
        dense.map(|(n, k)| (k, n)).chain(self.sparse)
    }
}

/// The most bytes of fact events (settings, flags, JVM information) kept aside while a huge
/// chunk's samples are counted, before its constants are read: facts come from the first
/// such events, so a chunk with more loses only later ones.
const MAX_DEFERRED_FACTS: usize = 8 << 20;

/// Counts and resolves the samples of one chunk into `merger`. The chunk counts only once
/// every stack of it has been resolved: a chunk that fails adds no samples.
pub(crate) fn collect_chunk(
    chunk: &Chunk<'_>,
    events: &[SampleEvent],
    depth: StackDepth,
    merger: &mut Merger,
) -> Result<(), Error> {
    let types = sample_types(&chunk.metadata, &chunk.layouts, events);
    let mut counts: Vec<Counts> = types
        .iter()
        .map(|t| Counts::new(chunk.pools.count(t.stack_type)))
        .collect();
    let mut total = 0u64;
    let mut facts = JvmFacts::default();
    let facts_ids = FactIds::new(&chunk.metadata);
    for r in chunk.raw_records() {
        let r = r.map_err(|e| chunk.locate(e))?;
        if let Some(ti) = types.iter().position(|t| t.type_id == r.type_id) {
            let key = stack_key(
                &chunk.layouts,
                &types[ti],
                chunk.bytes,
                r.body_offset,
                r.offset + r.size,
            )
            .map_err(|e| chunk.locate(e))?;
            counts[ti].add(key);
            total += 1;
        } else {
            facts_ids.offer(chunk, &r, &mut facts)?;
        }
    }
    resolve_and_commit(chunk, &types, counts, (total, facts), depth, merger)
}

/// Counts and resolves the samples of a chunk too large to read whole, into `merger`, with
/// the same result as [`collect_chunk`]: a first walk through a window counts samples per
/// stack key and sets the fact events aside; then the constants are streamed and only the
/// sampled stacks, and the types they and the facts refer to, are kept.
pub(crate) fn collect_windowed(
    file: &JfrFile,
    span: &ChunkSpan,
    cache: &MetadataCache,
    events: &[SampleEvent],
    depth: StackDepth,
    merger: &mut Merger,
) -> Result<(), Error> {
    let mut o = Opened::new(file, span, cache)?;
    let types = sample_types(&o.metadata, &o.layouts, events);
    let facts_ids = FactIds::new(&o.metadata);
    let (counts, total, offsets, mut asm) = count_windowed(&mut o, &types, &facts_ids)?;
    let deferred = asm.bytes.len();
    let stack_types: Vec<u64> = types.iter().map(|t| t.stack_type).collect();
    asm.pools.divert_types(cache.diverted_types(&o.metadata));
    let needed = needed_types(&o.metadata, &stack_types, &facts_ids);
    let mut keep = |t: u64, key: u64| {
        needed.contains(&t)
            && (!stack_types.contains(&t)
                || types
                    .iter()
                    .zip(&counts)
                    .any(|(ty, c)| ty.stack_type == t && c.has(key)))
    };
    o.read_pools(&offsets, &mut keep, &mut asm)?;
    let pools = std::mem::take(&mut asm.pools);
    let chunk = o.chunk(pools, &asm.bytes, offsets.len(), &asm.reloc);
    let mut facts = JvmFacts::default();
    let set_aside = Records {
        bytes: &asm.bytes[..deferred],
        pos: 0,
    };
    for r in set_aside {
        let r = r.map_err(|e| chunk.locate(e))?;
        facts_ids.offer(&chunk, &r, &mut facts)?;
    }
    resolve_and_commit(&chunk, &types, counts, (total, facts), depth, merger)
}

/// The first walk over a huge chunk: samples per stack key, the sample total, where the
/// checkpoints are, and the fact events set aside (copied into an assembly).
fn count_windowed(
    o: &mut Opened<'_>,
    types: &[SampleType],
    facts_ids: &FactIds,
) -> Result<(Vec<Counts>, u64, Vec<u64>, Assembly), Error> {
    let mut counts: Vec<Counts> = types.iter().map(|_| Counts::new(0)).collect();
    let (mut total, mut offsets) = (0u64, Vec::new());
    let mut asm = Assembly::default();
    let (layouts, span) = (Arc::clone(&o.layouts), o.window.span);
    let wants = |t: u64| types.iter().any(|s| s.type_id == t) || facts_ids.defers(t);
    o.window.walk(wants, |h, rec| {
        if let Some(ti) = types.iter().position(|t| t.type_id == h.type_id) {
            let body = (h.body - h.offset) as usize;
            let key = stack_key(&layouts, &types[ti], rec, body, rec.len()).map_err(|e| {
                RawError::new(e.offset + h.offset, e.problem).at(span.index, span.start)
            })?;
            counts[ti].add_growing(key);
            total += 1;
        } else if h.type_id == CHECKPOINT {
            Window::note_checkpoint(&span, &mut offsets, &h)?;
        } else if facts_ids.defers(h.type_id)
            && asm.bytes.len() as u64 + h.size <= MAX_DEFERRED_FACTS as u64
        {
            asm.append_record(&span, &h, rec)?;
        }
        Ok(())
    })?;
    Ok((counts, total, offsets, asm))
}

/// The types whose constants the sample path may read: the sampled stacks' and the fact
/// events', all the way down, and the string pool.
fn needed_types(md: &Metadata, stack_types: &[u64], facts: &FactIds) -> rustc_hash::FxHashSet<u64> {
    let strings = md.class_by_name("java.lang.String").map(|c| c.id);
    let roots = stack_types
        .iter()
        .copied()
        .chain(facts.event_types())
        .chain(strings);
    md.reachable(roots)
}

/// Resolves the counted stacks of a chunk (the stack trace entries listed while its pools
/// were indexed, then any keys without one) and commits the chunk's samples and facts.
fn resolve_and_commit(
    chunk: &Chunk<'_>,
    types: &[SampleType],
    counts: Vec<Counts>,
    (total, mut facts): (u64, JvmFacts),
    depth: StackDepth,
    merger: &mut Merger,
) -> Result<(), Error> {
    facts.producer = Some(producer(chunk).into());
    let mut res = Resolver::new(chunk, merger.resolver_sizes);
    let mut pending = std::mem::take(&mut merger.pending);
    pending.frames.clear();
    pending.stacks.clear();
    let resolved = (|| {
        for (ti, mut c) in counts.into_iter().enumerate() {
            let t = types[ti].stack_type;
            // Stack entries were listed while the pools were indexed: walk them once. The
            // last entry of a key wins, as in the pool table.
            for &(_, key, span) in chunk.pools.diverted.iter().rev().filter(|d| d.0 == t) {
                let samples = c.take(key);
                if samples > 0 {
                    let start = pending.frames.len();
                    let truncated = res.stack_at(t, span, depth, merger, &mut pending.frames)?;
                    let len = pending.frames.len() - start;
                    pending.stacks.push((start, len, truncated, samples));
                }
            }
            // Keys no entry has (or of a type not diverted): looked up, else empty stacks.
            for (key, samples) in c.drain() {
                let start = pending.frames.len();
                let truncated = res.stack(t, key, depth, merger, &mut pending.frames)?;
                let len = pending.frames.len() - start;
                pending.stacks.push((start, len, truncated, samples));
            }
        }
        Ok(())
    })();
    merger.pending = pending;
    merger.resolver_sizes = res.sizes();
    resolved.map_err(|e| chunk.locate(e))?;
    merger.commit(chunk.index, total, facts);
    Ok(())
}

/// The sample event types a chunk declares, with where their stack trace fields are.
fn sample_types(md: &Metadata, layouts: &Layouts, events: &[SampleEvent]) -> Vec<SampleType> {
    events
        .iter()
        .filter_map(|e| sample_type(md, layouts, e.type_name()))
        .collect()
}

/// Finds a sample event type and its `stackTrace` field.
fn sample_type(md: &Metadata, layouts: &Layouts, name: &str) -> Option<SampleType> {
    let def = md.class_by_name(name)?;
    let class = md.index_of(def.id)?;
    let stack_field = def
        .fields
        .iter()
        .position(|f| f.name == "stackTrace" && f.constant_pool)?;
    let plans = layouts.plans.get(class as usize)?;
    let one_varint = |f: &crate::layout::FieldPlan| {
        !f.array && matches!(f.kind, Kind::Varint(_) | Kind::CpRef(_))
    };
    let varints_before = plans
        .get(..stack_field)?
        .iter()
        .all(one_varint)
        .then_some(stack_field);
    Some(SampleType {
        type_id: def.id,
        class,
        stack_field,
        stack_type: def.fields[stack_field].type_id,
        varints_before,
    })
}

/// Reads the stack trace key of one sample event in `bytes` (its body at `body`, its end at
/// `end`), skipping the other fields by their plans.
#[inline]
fn stack_key(
    layouts: &Layouts,
    t: &SampleType,
    bytes: &[u8],
    body: usize,
    end: usize,
) -> RawResult<u64> {
    let mut c = Cursor::new(&bytes[..end], body);
    if let Some(n) = t.varints_before {
        c.skip_varints(n)?;
        return c.varint();
    }
    let plans = &layouts.plans[t.class as usize];
    for (i, f) in plans.iter().enumerate() {
        if i == t.stack_field {
            return c.varint();
        }
        layouts.skip_field(&mut c, *f, 0)?;
    }
    Ok(0)
}

/// The text of an event's string field at `pos`, the fields before it skipped by their plans;
/// `None` when it cannot be read that way (the caller then decodes the whole event).
fn string_field<'a>(
    chunk: &Chunk<'a>,
    r: &RawEvent<'_>,
    class: u32,
    pos: usize,
) -> Option<Cow<'a, str>> {
    let (mut c, plan) = field_cursor(chunk, r, class, pos)?;
    if plan.array || plan.kind != Kind::Str {
        return None;
    }
    match c.string().ok()? {
        JfrStr::Text(t) => Some(t),
        JfrStr::Empty => Some(Cow::Borrowed("")),
        JfrStr::PoolRef(k) => chunk.pool_str(k).ok()?,
        JfrStr::Null => None,
    }
}

/// The value of an event's varint field at `pos`, read as [`string_field`] reads strings.
fn varint_field(chunk: &Chunk<'_>, r: &RawEvent<'_>, class: u32, pos: usize) -> Option<u64> {
    let (mut c, plan) = field_cursor(chunk, r, class, pos)?;
    if plan.array || !matches!(plan.kind, Kind::Varint(_)) {
        return None;
    }
    c.varint().ok()
}

/// A cursor at field `pos` of an event, the fields before it skipped by their plans.
fn field_cursor<'a>(
    chunk: &Chunk<'a>,
    r: &RawEvent<'_>,
    class: u32,
    pos: usize,
) -> Option<(Cursor<'a>, crate::layout::FieldPlan)> {
    let plans = chunk.layouts.plans.get(class as usize)?;
    let mut c = Cursor::new(&chunk.bytes[..r.offset + r.size], r.body_offset);
    for f in plans.get(..pos)? {
        chunk.layouts.skip_field(&mut c, *f, 0).ok()?;
    }
    Some((c, *plans.get(pos)?))
}

/// Who wrote the chunk: async-profiler declares its own `profiler.*` types.
fn producer(chunk: &Chunk<'_>) -> &'static str {
    if chunk
        .metadata
        .classes
        .iter()
        .any(|c| c.name.starts_with("profiler."))
    {
        "async-profiler"
    } else {
        "jdk"
    }
}

/// The few events that tell facts about the JVM.
struct FactIds {
    info: Option<u64>,
    flag: Option<u64>,
    setting: Option<u64>,
    execution_sample: Option<u64>,
    /// Class index and `name` field position of BooleanFlag and ActiveSetting.
    flag_name: Option<(u32, usize)>,
    setting_name: Option<(u32, usize)>,
    /// Class index and position of ActiveSetting's `id` (the event type it sets).
    setting_id: Option<(u32, usize)>,
}

impl FactIds {
    fn new(md: &Metadata) -> Self {
        let field = |t: &str, name: &str| {
            let def = md.class_by_name(t)?;
            let pos = def.fields.iter().position(|f| f.name == name)?;
            Some((md.index_of(def.id)?, pos))
        };
        let name_field = |t: &str| field(t, "name");
        let id = |t: &str| md.class_by_name(t).map(|c| c.id);
        FactIds {
            info: id("jdk.JVMInformation"),
            flag: id("jdk.BooleanFlag"),
            setting: id("jdk.ActiveSetting"),
            execution_sample: id("jdk.ExecutionSample"),
            flag_name: name_field("jdk.BooleanFlag"),
            setting_name: name_field("jdk.ActiveSetting"),
            setting_id: field("jdk.ActiveSetting", "id"),
        }
    }

    /// The event types that tell facts.
    fn event_types(&self) -> impl Iterator<Item = u64> {
        [self.info, self.flag, self.setting].into_iter().flatten()
    }

    /// Whether a huge chunk's walk sets an event aside for [`FactIds::offer`].
    fn defers(&self, type_id: u64) -> bool {
        self.event_types().any(|t| t == type_id)
    }

    /// Decodes an event into `facts` if it may still add one.
    fn offer(
        &self,
        chunk: &Chunk<'_>,
        r: &RawEvent<'_>,
        facts: &mut JvmFacts,
    ) -> Result<(), Error> {
        if self.wants(chunk, r, facts) {
            let v = chunk.event_json(r)?;
            self.absorb(chunk, r.type_id, &v, facts);
        }
        Ok(())
    }

    /// Whether an event may still add a fact: flags stop mattering once DebugNonSafepoints is
    /// known, settings once the sampling period is. A chunk has ~700 flags and ~400 settings,
    /// so their names are checked before anything is decoded.
    fn wants(&self, chunk: &Chunk<'_>, r: &RawEvent<'_>, facts: &JvmFacts) -> bool {
        let id = Some(r.type_id);
        if id == self.info {
            return true;
        }
        let name =
            |at: Option<(u32, usize)>| at.and_then(|(c, pos)| string_field(chunk, r, c, pos));
        if id == self.flag && facts.debug_non_safepoints.is_none() {
            return name(self.flag_name).is_none_or(|n| n == "DebugNonSafepoints");
        }
        if id == self.setting && facts.sample_period_ns.is_none() {
            // JDK: the `period` of jdk.ExecutionSample (every periodic event has one);
            // async-profiler: its `interval`.
            return match name(self.setting_name).as_deref() {
                Some("interval") | None => true,
                Some("period") => {
                    let of = self
                        .setting_id
                        .and_then(|(c, pos)| varint_field(chunk, r, c, pos));
                    of.is_none() || of == self.execution_sample
                }
                Some(_) => false,
            };
        }
        false
    }

    fn absorb(&self, chunk: &Chunk<'_>, id: u64, v: &serde_json::Value, facts: &mut JvmFacts) {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        if Some(id) == self.info {
            facts.jvm_version = facts.jvm_version.take().or(s("jvmVersion"));
            if let Some(args) = s("jvmArguments") {
                if facts.debug_non_safepoints.is_none() {
                    facts.debug_non_safepoints = dns_from_args(&args);
                }
                facts.jvm_arguments.get_or_insert(args);
            }
        } else if Some(id) == self.flag {
            if s("name").as_deref() == Some("DebugNonSafepoints") {
                facts.debug_non_safepoints = v.get("value").and_then(|x| x.as_bool());
            }
        } else if Some(id) == self.setting {
            let period = match s("name").as_deref() {
                Some("period") if v.get("id").and_then(|x| x.as_u64()) == self.execution_sample => {
                    s("value").and_then(|p| parse_period(&p))
                }
                Some("interval") if producer(chunk) == "async-profiler" => {
                    s("value").and_then(|p| p.parse().ok())
                }
                _ => None,
            };
            if let Some(p) = period.filter(|&p| p > 0) {
                facts.sample_period_ns = Some(facts.sample_period_ns.map_or(p, |q| q.min(p)));
            }
        }
    }
}

/// `-XX:+DebugNonSafepoints` or `-XX:-DebugNonSafepoints` in the JVM arguments (the last wins).
fn dns_from_args(args: &str) -> Option<bool> {
    args.split_whitespace().rev().find_map(|a| match a {
        "-XX:+DebugNonSafepoints" => Some(true),
        "-XX:-DebugNonSafepoints" => Some(false),
        _ => None,
    })
}

/// Parses a JFR period setting such as `10 ms`, `20 ms`, `1 s` or `500 us` into nanoseconds.
pub(crate) fn parse_period(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..split].parse().ok()?;
    let mult = match s[split..].trim() {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("10 ms"), Some(10_000_000));
        assert_eq!(parse_period("20ms"), Some(20_000_000));
        assert_eq!(parse_period("1 s"), Some(1_000_000_000));
        assert_eq!(parse_period("everyChunk"), None);
        assert_eq!(dns_from_args("-Xmx1g -XX:+DebugNonSafepoints"), Some(true));
        assert_eq!(dns_from_args("-Xmx1g"), None);
    }
}
