//! The CPU sample fast path: per chunk, count samples per stack trace key without allocating
//! per event, then resolve each distinct stack once.

use rustc_hash::FxHashMap;

use crate::chunk::Chunk;
use crate::error::{Error, RawResult};
use crate::input::{Cursor, JfrStr};
use crate::layout::{FieldPlan, Kind};
use crate::samples::{Frame, FrameKind, JvmFacts, MethodInfo, SampleEvent, Stack};

/// What one chunk contributes: methods and stacks with chunk-local method indices.
#[derive(Debug, Default)]
pub(crate) struct ChunkSamples {
    pub methods: Vec<MethodInfo>,
    pub stacks: Vec<Stack>,
    pub total: u64,
    pub facts: JvmFacts,
}

/// A sample event type of this chunk and where its stack trace field is.
struct SampleType {
    type_id: u64,
    class: u32,
    stack_field: usize,
    stack_type: u64,
}

/// Counts and resolves the samples of one chunk.
pub(crate) fn collect_chunk(
    chunk: &Chunk<'_>,
    events: &[SampleEvent],
) -> Result<ChunkSamples, Error> {
    let types: Vec<SampleType> = events
        .iter()
        .filter_map(|e| sample_type(chunk, e.type_name()))
        .collect();
    let mut counts: FxHashMap<(usize, u64), u64> = FxHashMap::default();
    let mut out = ChunkSamples::default();
    let facts_ids = FactIds::new(chunk);
    for r in chunk.raw_records() {
        let r = r.map_err(|e| chunk.locate(e))?;
        if let Some(ti) = types.iter().position(|t| t.type_id == r.type_id) {
            let key = stack_key(chunk, &types[ti], r.body_offset, r.offset + r.size)
                .map_err(|e| chunk.locate(e))?;
            *counts.entry((ti, key)).or_insert(0) += 1;
            out.total += 1;
        } else if facts_ids.wants(r.type_id, &out.facts) {
            let v = chunk.event_json(&r)?;
            facts_ids.absorb(chunk, r.type_id, &v, &mut out.facts);
        }
    }
    out.facts.producer = Some(producer(chunk).into());
    let mut res = Resolver::new(chunk);
    let mut keys: Vec<_> = counts.into_iter().collect();
    keys.sort_unstable();
    for ((ti, key), samples) in keys {
        let mut stack = res
            .stack(types[ti].stack_type, key)
            .map_err(|e| chunk.locate(e))?;
        stack.samples = samples;
        out.stacks.push(stack);
    }
    out.methods = res.methods;
    Ok(out)
}

/// Finds a sample event type and its `stackTrace` field.
fn sample_type(chunk: &Chunk<'_>, name: &str) -> Option<SampleType> {
    let def = chunk.metadata.class_by_name(name)?;
    let class = chunk.metadata.index_of(def.id)?;
    let stack_field = def
        .fields
        .iter()
        .position(|f| f.name == "stackTrace" && f.constant_pool)?;
    Some(SampleType {
        type_id: def.id,
        class,
        stack_field,
        stack_type: def.fields[stack_field].type_id,
    })
}

/// Reads the stack trace key of one sample event, skipping the other fields by their plans.
#[inline]
fn stack_key(chunk: &Chunk<'_>, t: &SampleType, body: usize, end: usize) -> RawResult<u64> {
    let mut c = Cursor::new(&chunk.bytes[..end], body);
    let plans = &chunk.layouts.plans[t.class as usize];
    for (i, f) in plans.iter().enumerate() {
        if i == t.stack_field {
            return c.varint();
        }
        chunk.layouts.skip_field(&mut c, *f, 0)?;
    }
    Ok(0)
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
}

impl FactIds {
    fn new(chunk: &Chunk<'_>) -> Self {
        FactIds {
            info: chunk.type_id("jdk.JVMInformation"),
            flag: chunk.type_id("jdk.BooleanFlag"),
            setting: chunk.type_id("jdk.ActiveSetting"),
            execution_sample: chunk.type_id("jdk.ExecutionSample"),
        }
    }

    /// Whether an event may still add a fact: flags stop mattering once DebugNonSafepoints is
    /// known (a chunk has ~700 of them), settings once the sampling period is.
    fn wants(&self, id: u64, facts: &JvmFacts) -> bool {
        let id = Some(id);
        id == self.info
            || (id == self.flag && facts.debug_non_safepoints.is_none())
            || (id == self.setting && facts.sample_period_ns.is_none())
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

/// Resolves stack traces, methods, classes and symbols of one chunk, caching each key once.
struct Resolver<'c, 'a> {
    chunk: &'c Chunk<'a>,
    methods: Vec<MethodInfo>,
    method_index: FxHashMap<u64, u32>,
    strings: FxHashMap<(u64, u64), String>,
    classes: FxHashMap<u64, (String, bool)>,
    kinds: FxHashMap<u64, FrameKind>,
    /// Per StackFrame type: positions of method, line, bci, type, and the types they refer to.
    frame_layout: Option<FrameLayout>,
}

/// A StackFrame type's id, the positions of its method, line, bci and type fields, and the
/// types those fields refer to.
type FrameLayout = (u64, [Option<usize>; 4], [Option<u64>; 4]);

/// Field positions of a type, looked up once by name.
fn field_pos(chunk: &Chunk<'_>, type_id: u64, name: &str) -> Option<usize> {
    chunk
        .metadata
        .class(type_id)?
        .fields
        .iter()
        .position(|f| f.name == name)
}

impl<'c, 'a> Resolver<'c, 'a> {
    fn new(chunk: &'c Chunk<'a>) -> Self {
        Resolver {
            chunk,
            methods: Vec::new(),
            method_index: FxHashMap::default(),
            strings: FxHashMap::default(),
            classes: FxHashMap::default(),
            kinds: FxHashMap::default(),
            frame_layout: None,
        }
    }

    /// Reads the plain fields of a value: `out[i]` gets the varint/bool of field `want[i]`.
    /// Returns the cursor after the value. Arrays and strings are skipped.
    fn fields(
        &self,
        c: &mut Cursor<'_>,
        class: u32,
        want: &[Option<usize>],
        out: &mut [u64],
    ) -> RawResult<()> {
        let layouts = &self.chunk.layouts;
        for (i, f) in layouts.plans[class as usize].iter().enumerate() {
            match want.iter().position(|w| *w == Some(i)) {
                Some(slot) if !f.array && is_scalar(f.kind) => out[slot] = read_scalar(c, *f)?,
                _ => layouts.skip_field(c, *f, 0)?,
            }
        }
        Ok(())
    }

    /// One stack trace by key; a missing key is an empty stack (the JDK prints `null`).
    fn stack(&mut self, type_id: u64, key: u64) -> RawResult<Stack> {
        let mut stack = Stack {
            frames: Vec::new(),
            truncated: false,
            samples: 0,
        };
        let chunk = self.chunk;
        let (Some(off), Some(class)) = (
            chunk.pools.get(type_id, key),
            chunk.metadata.index_of(type_id),
        ) else {
            return Ok(stack);
        };
        let def = &chunk.metadata.classes[class as usize];
        let mut c = chunk.entry_cursor(off);
        for (f, plan) in def.fields.iter().zip(&chunk.layouts.plans[class as usize]) {
            match (f.name.as_str(), plan.kind) {
                ("truncated", Kind::Bool) if !plan.array => stack.truncated = c.u8()? != 0,
                ("frames", Kind::Nested(frame_class)) if plan.array => {
                    let n = c.length(1)?;
                    stack.frames.reserve(n.min(4096));
                    for _ in 0..n {
                        stack
                            .frames
                            .push(self.frame(&mut c, frame_class, f.type_id)?);
                    }
                }
                _ => chunk.layouts.skip_field(&mut c, *plan, 0)?,
            }
        }
        Ok(stack)
    }

    fn frame(&mut self, c: &mut Cursor<'_>, class: u32, type_id: u64) -> RawResult<Frame> {
        let (want, refs) = self.frame_layout(class, type_id);
        let mut v = [0u64; 4];
        let plans = &self.chunk.layouts.plans[class as usize];
        let straight = plans.len() == 4
            && plans
                .iter()
                .all(|p| !p.array && matches!(p.kind, Kind::Varint(_) | Kind::CpRef(_)));
        if straight && want == [Some(0), Some(1), Some(2), Some(3)] {
            // The JDK's and async-profiler's layout: four varints, read straight.
            for x in &mut v {
                *x = c.varint()?;
            }
        } else {
            self.fields(c, class, &want, &mut v)?;
        }
        let method = self.method(refs[0], v[0])?;
        let kind = match refs[3] {
            Some(t) => self.kind(t, v[3])?,
            None => FrameKind::Unknown,
        };
        Ok(Frame {
            method,
            line: v[1] as i32,
            bci: v[2] as i32,
            kind,
        })
    }

    /// Positions of the frame fields, computed once per chunk.
    fn frame_layout(&mut self, class: u32, type_id: u64) -> ([Option<usize>; 4], [Option<u64>; 4]) {
        if let Some((t, w, r)) = self.frame_layout {
            if t == type_id {
                return (w, r);
            }
        }
        let ch = self.chunk;
        let want =
            ["method", "lineNumber", "bytecodeIndex", "type"].map(|n| field_pos(ch, type_id, n));
        let def = &ch.metadata.classes[class as usize];
        let refs = want.map(|w| w.map(|p| def.fields[p].type_id));
        self.frame_layout = Some((type_id, want, refs));
        (want, refs)
    }

    fn kind(&mut self, type_id: u64, key: u64) -> RawResult<FrameKind> {
        if let Some(k) = self.kinds.get(&key) {
            return Ok(*k);
        }
        let k = self
            .string(type_id, key)?
            .map_or(FrameKind::Unknown, |s| FrameKind::from_description(&s));
        self.kinds.insert(key, k);
        Ok(k)
    }

    fn method(&mut self, type_id: Option<u64>, key: u64) -> RawResult<u32> {
        if let Some(&i) = self.method_index.get(&key) {
            return Ok(i);
        }
        let info = match type_id {
            Some(t) => self.method_info(t, key)?,
            None => None,
        };
        let info = info.unwrap_or_else(|| MethodInfo {
            class: String::new(),
            name: "<unknown method>".into(),
            descriptor: String::new(),
            hidden: false,
        });
        let i = self.methods.len() as u32;
        self.methods.push(info);
        self.method_index.insert(key, i);
        Ok(i)
    }

    fn method_info(&mut self, type_id: u64, key: u64) -> RawResult<Option<MethodInfo>> {
        let ch = self.chunk;
        let (Some(off), Some(class)) = (ch.pools.get(type_id, key), ch.metadata.index_of(type_id))
        else {
            return Ok(None);
        };
        let names = ["type", "name", "descriptor", "hidden"];
        let want = names.map(|n| field_pos(ch, type_id, n));
        let mut v = [0u64; 4];
        self.fields(&mut ch.entry_cursor(off), class, &want, &mut v)?;
        let def = &ch.metadata.classes[class as usize];
        let ref_type = |i: usize| want[i].map(|p| def.fields[p].type_id);
        let (class_name, class_hidden) = match ref_type(0) {
            Some(t) => self.class(t, v[0])?,
            None => (String::new(), false),
        };
        let name = self.opt_string(ref_type(1), v[1])?;
        let descriptor = self.opt_string(ref_type(2), v[2])?;
        Ok(Some(MethodInfo {
            class: class_name,
            name,
            descriptor,
            hidden: class_hidden || v[3] != 0,
        }))
    }

    fn class(&mut self, type_id: u64, key: u64) -> RawResult<(String, bool)> {
        if let Some(c) = self.classes.get(&key) {
            return Ok(c.clone());
        }
        let ch = self.chunk;
        let mut result = (String::new(), false);
        if let (Some(off), Some(class)) =
            (ch.pools.get(type_id, key), ch.metadata.index_of(type_id))
        {
            let want = [
                field_pos(ch, type_id, "name"),
                field_pos(ch, type_id, "hidden"),
            ];
            let mut v = [0u64; 2];
            self.fields(&mut ch.entry_cursor(off), class, &want, &mut v)?;
            let def = &ch.metadata.classes[class as usize];
            let name_type = want[0].map(|p| def.fields[p].type_id);
            result = (self.opt_string(name_type, v[0])?, v[1] != 0);
        }
        self.classes.insert(key, result.clone());
        Ok(result)
    }

    fn opt_string(&mut self, type_id: Option<u64>, key: u64) -> RawResult<String> {
        Ok(match type_id {
            Some(t) => self.string(t, key)?.unwrap_or_default(),
            None => String::new(),
        })
    }

    /// The string a constant stands for: a `java.lang.String` or a simple type such as Symbol.
    fn string(&mut self, type_id: u64, key: u64) -> RawResult<Option<String>> {
        if let Some(s) = self.strings.get(&(type_id, key)) {
            return Ok(Some(s.clone()));
        }
        let ch = self.chunk;
        let (Some(off), Some(class)) = (ch.pools.get(type_id, key), ch.metadata.index_of(type_id))
        else {
            return Ok(None);
        };
        let mut c = ch.entry_cursor(off);
        let is_str = |k: &Option<Kind>| matches!(k, Some(Kind::Str));
        if !is_str(&ch.layouts.prim[class as usize]) {
            // Skip to the first string field of the simple type.
            let plans = &ch.layouts.plans[class as usize];
            let Some(p) = plans.iter().position(|f| f.kind == Kind::Str && !f.array) else {
                return Ok(None);
            };
            for f in &plans[..p] {
                ch.layouts.skip_field(&mut c, *f, 0)?;
            }
        }
        let s = match c.string()? {
            JfrStr::Text(t) => Some(t.into_owned()),
            JfrStr::Empty => Some(String::new()),
            JfrStr::PoolRef(k) => ch.pool_string(k)?,
            JfrStr::Null => None,
        };
        if let Some(s) = &s {
            self.strings.insert((type_id, key), s.clone());
        }
        Ok(s)
    }
}

/// Whether a field is read as a plain number.
fn is_scalar(k: Kind) -> bool {
    matches!(
        k,
        Kind::Bool | Kind::Byte | Kind::Varint(_) | Kind::CpRef(_) | Kind::F32 | Kind::F64
    )
}

/// A scalar field as u64: varints and constant keys as read, booleans and bytes as 0/1 or the byte.
fn read_scalar(c: &mut Cursor<'_>, f: FieldPlan) -> RawResult<u64> {
    match f.kind {
        Kind::Bool | Kind::Byte => Ok(c.u8()? as u64),
        Kind::Varint(_) | Kind::CpRef(_) => c.varint(),
        Kind::F32 => c.f32().map(|x| x as u64),
        Kind::F64 => c.f64().map(|x| x as u64),
        _ => Ok(0),
    }
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
