//! Resolving the stacks of one chunk: stack trace, method, class and symbol constants, each
//! key decoded once per chunk. Strings stay borrowed from the chunk; methods are interned in
//! the thread's [`Merger`] straight away, so a method known from an earlier chunk allocates
//! nothing.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use crate::chunk::{Chunk, Span};
use crate::error::RawResult;
use crate::input::{Cursor, JfrStr};
use crate::layout::{FieldPlan, Kind};
use crate::samples::{Frame, FrameKind, Merger, MethodKey, StackDepth};

/// Resolves stack traces, methods, classes and symbols of one chunk, caching each key once.
pub(crate) struct Resolver<'c, 'a> {
    chunk: &'c Chunk<'a>,
    /// Method constant key -> the merger's method index.
    method_index: FxHashMap<u64, u32>,
    strings: FxHashMap<(u64, u64), Option<Cow<'a, str>>>,
    classes: FxHashMap<u64, (Cow<'a, str>, bool)>,
    kinds: FxHashMap<u64, FrameKind>,
    /// Per StackFrame type: positions of method, line, bci, type, and the types they refer to.
    frame_layout: Option<FrameLayout>,
    /// Positions of a Method type's type, name, descriptor and hidden fields.
    method_fields: Option<(u64, [Option<usize>; 4])>,
    /// Positions of a Class type's name and hidden fields.
    class_fields: Option<(u64, [Option<usize>; 2])>,
    /// Positions of a StackTrace type's truncated and frames fields.
    stack_fields: Option<(u64, [Option<usize>; 2])>,
}

/// Positions of named fields of a type, looked up by name once per chunk and then remembered.
fn positions<const N: usize>(
    cache: &mut Option<(u64, [Option<usize>; N])>,
    chunk: &Chunk<'_>,
    type_id: u64,
    names: [&str; N],
) -> [Option<usize>; N] {
    match cache {
        Some((t, p)) if *t == type_id => *p,
        _ => {
            let p = names.map(|n| field_pos(chunk, type_id, n));
            *cache = Some((type_id, p));
            p
        }
    }
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
    /// A resolver sized for about as many methods, strings and classes as `sizes` says (what
    /// the previous chunk on this thread needed): the tables then rarely grow.
    pub(crate) fn new(chunk: &'c Chunk<'a>, sizes: [usize; 3]) -> Self {
        let cap = |n: usize| n.min(1 << 16);
        Resolver {
            chunk,
            method_index: FxHashMap::with_capacity_and_hasher(cap(sizes[0]), Default::default()),
            strings: FxHashMap::with_capacity_and_hasher(cap(sizes[1]), Default::default()),
            classes: FxHashMap::with_capacity_and_hasher(cap(sizes[2]), Default::default()),
            kinds: FxHashMap::default(),
            frame_layout: None,
            method_fields: None,
            class_fields: None,
            stack_fields: None,
        }
    }

    /// How many methods, strings and classes this resolver looked up.
    pub(crate) fn sizes(&self) -> [usize; 3] {
        [
            self.method_index.len(),
            self.strings.len(),
            self.classes.len(),
        ]
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

    /// Appends the frames of one stack trace (leaf first) to `out` and returns whether the
    /// JVM truncated it; a missing key is an empty stack (the JDK prints `null`).
    pub(crate) fn stack(
        &mut self,
        type_id: u64,
        key: u64,
        depth: StackDepth,
        merger: &mut Merger,
        out: &mut Vec<Frame>,
    ) -> RawResult<bool> {
        match self.chunk.pools.get(type_id, key) {
            Some(span) => self.stack_at(type_id, span, depth, merger, out),
            None => Ok(false),
        }
    }

    /// [`Resolver::stack`] for an entry whose place is known.
    pub(crate) fn stack_at(
        &mut self,
        type_id: u64,
        off: Span,
        depth: StackDepth,
        merger: &mut Merger,
        out: &mut Vec<Frame>,
    ) -> RawResult<bool> {
        let mut truncated = false;
        let chunk = self.chunk;
        let Some(class) = chunk.metadata.index_of(type_id) else {
            return Ok(truncated);
        };
        let def = &chunk.metadata.classes[class as usize];
        let mut c = chunk.entry_cursor(off);
        let plans = &chunk.layouts.plans[class as usize];
        let [at_truncated, at_frames] = positions(
            &mut self.stack_fields,
            chunk,
            type_id,
            ["truncated", "frames"],
        );
        for (i, (f, plan)) in def.fields.iter().zip(plans).enumerate() {
            match plan.kind {
                Kind::Bool if !plan.array && at_truncated == Some(i) => truncated = c.u8()? != 0,
                Kind::Nested(frame_class) if plan.array && at_frames == Some(i) => {
                    let n = c.length(1)?;
                    let host_only = depth == StackDepth::Host;
                    for done in 1..=n {
                        let frame = self.frame(&mut c, frame_class, f.type_id, merger)?;
                        out.push(frame);
                        if host_only && frame.kind != FrameKind::Inlined {
                            if i + 1 == plans.len() {
                                return Ok(truncated); // nothing after the frames: stop reading
                            }
                            for _ in done..n {
                                chunk.layouts.skip_class(&mut c, frame_class, 1)?;
                            }
                            break;
                        }
                    }
                }
                _ => chunk.layouts.skip_field(&mut c, *plan, 0)?,
            }
        }
        Ok(truncated)
    }

    fn frame(
        &mut self,
        c: &mut Cursor<'_>,
        class: u32,
        type_id: u64,
        merger: &mut Merger,
    ) -> RawResult<Frame> {
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
        let method = self.method(refs[0], v[0], merger)?;
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

    /// The merger's index of a method constant.
    fn method(&mut self, type_id: Option<u64>, key: u64, merger: &mut Merger) -> RawResult<u32> {
        if let Some(&i) = self.method_index.get(&key) {
            return Ok(i);
        }
        let found = match type_id {
            Some(t) => self.method_info(t, key)?,
            None => None,
        };
        let i = match &found {
            Some((class, name, descriptor, hidden)) => merger.method(MethodKey {
                class,
                name,
                descriptor,
                hidden: *hidden,
            }),
            None => merger.method(MethodKey {
                class: "",
                name: "<unknown method>",
                descriptor: "",
                hidden: false,
            }),
        };
        self.method_index.insert(key, i);
        Ok(i)
    }

    /// A method constant's class, name, descriptor and whether it is hidden.
    #[allow(clippy::type_complexity)]
    fn method_info(
        &mut self,
        type_id: u64,
        key: u64,
    ) -> RawResult<Option<(Cow<'a, str>, Cow<'a, str>, Cow<'a, str>, bool)>> {
        let ch = self.chunk;
        let (Some(off), Some(class)) = (ch.pools.get(type_id, key), ch.metadata.index_of(type_id))
        else {
            return Ok(None);
        };
        let names = ["type", "name", "descriptor", "hidden"];
        let want = positions(&mut self.method_fields, ch, type_id, names);
        let mut v = [0u64; 4];
        self.fields(&mut ch.entry_cursor(off), class, &want, &mut v)?;
        let def = &ch.metadata.classes[class as usize];
        let ref_type = |i: usize| want[i].map(|p| def.fields[p].type_id);
        let (class_name, class_hidden) = match ref_type(0) {
            Some(t) => self.class(t, v[0])?,
            None => (Cow::Borrowed(""), false),
        };
        let name = self.opt_string(ref_type(1), v[1])?;
        let descriptor = self.opt_string(ref_type(2), v[2])?;
        Ok(Some((
            class_name,
            name,
            descriptor,
            class_hidden || v[3] != 0,
        )))
    }

    fn class(&mut self, type_id: u64, key: u64) -> RawResult<(Cow<'a, str>, bool)> {
        if let Some(c) = self.classes.get(&key) {
            return Ok(c.clone());
        }
        let ch = self.chunk;
        let mut result = (Cow::Borrowed(""), false);
        if let (Some(off), Some(class)) =
            (ch.pools.get(type_id, key), ch.metadata.index_of(type_id))
        {
            let want = positions(&mut self.class_fields, ch, type_id, ["name", "hidden"]);
            let mut v = [0u64; 2];
            self.fields(&mut ch.entry_cursor(off), class, &want, &mut v)?;
            let def = &ch.metadata.classes[class as usize];
            let name_type = want[0].map(|p| def.fields[p].type_id);
            result = (self.opt_string(name_type, v[0])?, v[1] != 0);
        }
        self.classes.insert(key, result.clone());
        Ok(result)
    }

    fn opt_string(&mut self, type_id: Option<u64>, key: u64) -> RawResult<Cow<'a, str>> {
        Ok(match type_id {
            Some(t) => self.string(t, key)?.unwrap_or_default(),
            None => Cow::Borrowed(""),
        })
    }

    /// The string a constant stands for: a `java.lang.String` or a simple type such as Symbol.
    fn string(&mut self, type_id: u64, key: u64) -> RawResult<Option<Cow<'a, str>>> {
        if let Some(s) = self.strings.get(&(type_id, key)) {
            return Ok(s.clone());
        }
        let s = self.read_string(type_id, key)?;
        self.strings.insert((type_id, key), s.clone());
        Ok(s)
    }

    fn read_string(&self, type_id: u64, key: u64) -> RawResult<Option<Cow<'a, str>>> {
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
        Ok(match c.string()? {
            JfrStr::Text(t) => Some(t),
            JfrStr::Empty => Some(Cow::Borrowed("")),
            JfrStr::PoolRef(k) => ch.pool_str(k)?,
            JfrStr::Null => None,
        })
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
