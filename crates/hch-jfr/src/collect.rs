//! The CPU sample fast path: per chunk, count samples per stack trace key without allocating
//! per event, then resolve each distinct stack once.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use crate::chunk::{Chunk, RawEvent};
use crate::error::{Error, RawResult};
use crate::input::{Cursor, JfrStr};
use crate::layout::Kind;
use crate::resolve::Resolver;
use crate::samples::{JvmFacts, Merger, SampleEvent, StackDepth};

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

impl Counts {
    /// A table as large as the chunk's stack trace pool (at most 1M entries).
    fn new(stacks_in_pool: usize) -> Self {
        Counts {
            dense: vec![0; stacks_in_pool.saturating_add(1).min(1 << 20)],
            sparse: FxHashMap::default(),
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

/// Counts and resolves the samples of one chunk into `merger`. The chunk counts only once
/// every stack of it has been resolved: a chunk that fails adds no samples.
pub(crate) fn collect_chunk(
    chunk: &Chunk<'_>,
    events: &[SampleEvent],
    depth: StackDepth,
    merger: &mut Merger,
) -> Result<(), Error> {
    let types: Vec<SampleType> = events
        .iter()
        .filter_map(|e| sample_type(chunk, e.type_name()))
        .collect();
    let mut counts: Vec<Counts> = types
        .iter()
        .map(|t| Counts::new(chunk.pools.count(t.stack_type)))
        .collect();
    let mut total = 0u64;
    let mut facts = JvmFacts::default();
    let facts_ids = FactIds::new(chunk);
    for r in chunk.raw_records() {
        let r = r.map_err(|e| chunk.locate(e))?;
        if let Some(ti) = types.iter().position(|t| t.type_id == r.type_id) {
            let key = stack_key(chunk, &types[ti], r.body_offset, r.offset + r.size)
                .map_err(|e| chunk.locate(e))?;
            counts[ti].add(key);
            total += 1;
        } else if facts_ids.wants(chunk, &r, &facts) {
            let v = chunk.event_json(&r)?;
            facts_ids.absorb(chunk, r.type_id, &v, &mut facts);
        }
    }
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

/// Finds a sample event type and its `stackTrace` field.
fn sample_type(chunk: &Chunk<'_>, name: &str) -> Option<SampleType> {
    let def = chunk.metadata.class_by_name(name)?;
    let class = chunk.metadata.index_of(def.id)?;
    let stack_field = def
        .fields
        .iter()
        .position(|f| f.name == "stackTrace" && f.constant_pool)?;
    let plans = chunk.layouts.plans.get(class as usize)?;
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

/// Reads the stack trace key of one sample event, skipping the other fields by their plans.
#[inline]
fn stack_key(chunk: &Chunk<'_>, t: &SampleType, body: usize, end: usize) -> RawResult<u64> {
    let mut c = Cursor::new(&chunk.bytes[..end], body);
    if let Some(n) = t.varints_before {
        c.skip_varints(n)?;
        return c.varint();
    }
    let plans = &chunk.layouts.plans[t.class as usize];
    for (i, f) in plans.iter().enumerate() {
        if i == t.stack_field {
            return c.varint();
        }
        chunk.layouts.skip_field(&mut c, *f, 0)?;
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
    fn new(chunk: &Chunk<'_>) -> Self {
        let field = |t: &str, name: &str| {
            let def = chunk.metadata.class_by_name(t)?;
            let pos = def.fields.iter().position(|f| f.name == name)?;
            Some((chunk.metadata.index_of(def.id)?, pos))
        };
        let name_field = |t: &str| field(t, "name");
        FactIds {
            info: chunk.type_id("jdk.JVMInformation"),
            flag: chunk.type_id("jdk.BooleanFlag"),
            setting: chunk.type_id("jdk.ActiveSetting"),
            execution_sample: chunk.type_id("jdk.ExecutionSample"),
            flag_name: name_field("jdk.BooleanFlag"),
            setting_name: name_field("jdk.ActiveSetting"),
            setting_id: field("jdk.ActiveSetting", "id"),
        }
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
