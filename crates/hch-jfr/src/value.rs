//! Generic, metadata-driven decoding of any event or constant, to JSON with constants resolved.

use std::borrow::Cow;
use std::cell::Cell;

use serde_json::{Map, Number, Value};

use crate::chunk::{Chunk, RawEvent};
use crate::error::{Error, Problem, RawError, RawResult};
use crate::input::{Cursor, JfrStr};
use crate::layout::{FieldPlan, Kind, Width, MAX_DEPTH};

/// How many levels of constant references are followed when printing (`jfr print` stops early too).
const RESOLVE_DEPTH: usize = 6;
/// How many values one event may expand to once constants are resolved: a crafted pool whose
/// entries refer to each other many times over would otherwise expand exponentially.
const VALUE_BUDGET: usize = 200_000;

impl<'a> Chunk<'a> {
    /// Decodes an event's fields into a JSON object, constant pool references resolved.
    pub fn event_json(&self, ev: &RawEvent<'a>) -> Result<Value, Error> {
        let class = self.class_index(ev.type_id).ok_or_else(|| {
            self.locate(RawError::new(
                ev.offset as u64,
                Problem::UnknownType(ev.type_id),
            ))
        })?;
        let mut c = Cursor::new(&self.bytes[..ev.offset + ev.size], ev.body_offset);
        self.class_json(&mut c, class, 0, 0, &Cell::new(VALUE_BUDGET))
            .map_err(|e| self.locate(e))
    }

    /// Resolves a constant of `type_id` by key to JSON (`null` when the key is missing).
    pub fn constant_json(&self, type_id: u64, key: u64) -> Result<Value, Error> {
        self.resolve(type_id, key, 0, 0, &Cell::new(VALUE_BUDGET))
            .map_err(|e| self.locate(e))
    }

    fn resolve(
        &self,
        type_id: u64,
        key: u64,
        depth: usize,
        refs: usize,
        budget: &Cell<usize>,
    ) -> RawResult<Value> {
        if refs >= RESOLVE_DEPTH {
            return Ok(Value::from(key));
        }
        let (Some(off), Some(class)) = (self.pools.get(type_id, key), self.class_index(type_id))
        else {
            return Ok(Value::Null);
        };
        let mut c = self.entry_cursor(off);
        self.class_json(&mut c, class, depth, refs + 1, budget)
    }

    fn class_json(
        &self,
        c: &mut Cursor<'_>,
        class: u32,
        depth: usize,
        refs: usize,
        budget: &Cell<usize>,
    ) -> RawResult<Value> {
        if depth > MAX_DEPTH {
            return Err(RawError::new(c.pos() as u64, Problem::TooDeep(MAX_DEPTH)));
        }
        if let Some(Some(k)) = self.layouts.prim.get(class as usize) {
            return self.kind_json(c, *k, depth, refs, budget);
        }
        let def = &self.metadata.classes[class as usize];
        let plans = &self.layouts.plans[class as usize];
        let mut obj = Map::new();
        for (f, plan) in def.fields.iter().zip(plans) {
            obj.insert(
                f.name.clone(),
                self.field_json(c, *plan, depth, refs, budget)?,
            );
        }
        // A simple type stands for its only field, as the JDK prints it.
        if def.simple_type && obj.len() == 1 {
            return Ok(obj
                .into_iter()
                .next()
                .map(|(_, v)| v)
                .unwrap_or(Value::Null));
        }
        Ok(Value::Object(obj))
    }

    fn field_json(
        &self,
        c: &mut Cursor<'_>,
        f: FieldPlan,
        depth: usize,
        refs: usize,
        budget: &Cell<usize>,
    ) -> RawResult<Value> {
        if !f.array {
            return self.kind_json(c, f.kind, depth, refs, budget);
        }
        let n = c.length(crate::layout::min_size(f.kind).max(1))?;
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(self.kind_json(c, f.kind, depth, refs, budget)?);
        }
        Ok(Value::Array(v))
    }

    fn kind_json(
        &self,
        c: &mut Cursor<'_>,
        k: Kind,
        depth: usize,
        refs: usize,
        budget: &Cell<usize>,
    ) -> RawResult<Value> {
        let left = budget.get();
        if left == 0 {
            return Err(RawError::new(
                c.pos() as u64,
                Problem::Metadata(format!(
                    "an event expands to more than {VALUE_BUDGET} values"
                )),
            ));
        }
        budget.set(left - 1);
        Ok(match k {
            Kind::Bool => Value::Bool(c.u8()? != 0),
            Kind::Byte => Value::from(c.u8()? as i8),
            Kind::Varint(w) => {
                let v = c.varint()?;
                match w {
                    Width::Char => Value::from(v as u16),
                    Width::Short => Value::from(v as i16),
                    Width::Int => Value::from(v as i32),
                    Width::Long => Value::from(v as i64),
                }
            }
            Kind::F32 => Number::from_f64(c.f32()? as f64).map_or(Value::Null, Value::Number),
            Kind::F64 => Number::from_f64(c.f64()?).map_or(Value::Null, Value::Number),
            Kind::Str => self.string_json(c.string()?)?,
            Kind::CpRef(t) => {
                let key = c.varint()?;
                self.resolve(t, key, depth + 1, refs, budget)?
            }
            Kind::Nested(i) => self.class_json(c, i, depth + 1, refs, budget)?,
            Kind::Unknown(id) => {
                return Err(RawError::new(c.pos() as u64, Problem::UnknownType(id)))
            }
            Kind::Zero => Value::Object(Map::new()),
        })
    }

    fn string_json(&self, s: JfrStr<'_>) -> RawResult<Value> {
        Ok(match s {
            JfrStr::Null => Value::Null,
            JfrStr::Empty => Value::from(""),
            JfrStr::Text(t) => Value::from(t.into_owned()),
            JfrStr::PoolRef(key) => self.pool_string(key)?.map_or(Value::Null, Value::from),
        })
    }

    /// A string of the `java.lang.String` pool.
    pub(crate) fn pool_string(&self, key: u64) -> RawResult<Option<String>> {
        Ok(self.pool_str(key)?.map(Cow::into_owned))
    }

    /// A string of the `java.lang.String` pool, borrowed from the chunk when it is UTF-8.
    pub(crate) fn pool_str(&self, key: u64) -> RawResult<Option<Cow<'a, str>>> {
        let Some(t) = self.type_id("java.lang.String") else {
            return Ok(None);
        };
        let Some(off) = self.pools.get(t, key) else {
            return Ok(None);
        };
        let mut c = self.entry_cursor(off);
        Ok(match c.string()? {
            JfrStr::Text(s) => Some(s),
            JfrStr::Empty => Some(Cow::Borrowed("")),
            _ => None,
        })
    }
}
