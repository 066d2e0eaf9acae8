//! Wire layouts compiled once per type from the metadata, so decoding never looks up names.

use crate::error::{Problem, RawError, RawResult};
use crate::input::Cursor;
use crate::metadata::Metadata;

/// How deep values may nest (real files: about 6).
pub(crate) const MAX_DEPTH: usize = 32;

/// How one field is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Byte,
    /// `char`, `short`, `int`, `long`: varints; the width truncates the value.
    Varint(Width),
    F32,
    F64,
    Str,
    /// A constant pool key of the given type id.
    CpRef(u64),
    /// An inline value of another type (index into the metadata's classes).
    Nested(u32),
    /// A type the metadata does not define: an error if it is ever read.
    Unknown(u64),
}

/// The declared width of a varint field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Width {
    Char,
    Short,
    Int,
    Long,
}

/// One field's encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldPlan {
    pub kind: Kind,
    pub array: bool,
}

/// Field plans for every class, parallel to `Metadata::classes`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layouts {
    pub plans: Vec<Vec<FieldPlan>>,
    /// For primitive classes (`java.lang.String` pools), how a value of the class itself is encoded.
    pub prim: Vec<Option<Kind>>,
    /// For classes made only of fixed-size and varint fields (stack frames), the skip steps,
    /// nested values flattened: skipping them needs no recursion.
    pub flat: Vec<Option<Vec<Step>>>,
}

/// One step of skipping a flat class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// This many varints in a row.
    Varints(u32),
    /// This many bytes.
    Fixed(u32),
}

/// Appends the skip steps of `class` to `steps`; `None` when a field has a variable layout.
fn flatten(
    plans: &[Vec<FieldPlan>],
    prim: &[Option<Kind>],
    class: u32,
    depth: usize,
    steps: &mut Vec<Step>,
) -> Option<()> {
    if depth > 4 || prim.get(class as usize)?.is_some() {
        return None;
    }
    for f in plans.get(class as usize)? {
        if f.array {
            return None;
        }
        let step = match f.kind {
            Kind::Varint(_) | Kind::CpRef(_) => Step::Varints(1),
            Kind::Bool | Kind::Byte => Step::Fixed(1),
            Kind::F32 => Step::Fixed(4),
            Kind::F64 => Step::Fixed(8),
            Kind::Nested(i) => {
                flatten(plans, prim, i, depth + 1, steps)?;
                continue;
            }
            Kind::Str | Kind::Unknown(_) => return None,
        };
        match (steps.last_mut(), step) {
            (Some(Step::Varints(n)), Step::Varints(m)) => *n += m,
            (Some(Step::Fixed(n)), Step::Fixed(m)) => *n += m,
            _ => steps.push(step),
        }
    }
    Some(())
}

fn primitive(name: &str) -> Option<Kind> {
    Some(match name {
        "boolean" => Kind::Bool,
        "byte" => Kind::Byte,
        "char" => Kind::Varint(Width::Char),
        "short" => Kind::Varint(Width::Short),
        "int" => Kind::Varint(Width::Int),
        "long" => Kind::Varint(Width::Long),
        "float" => Kind::F32,
        "double" => Kind::F64,
        "java.lang.String" => Kind::Str,
        _ => return None,
    })
}

impl Layouts {
    /// Compiles the plans of every class.
    pub(crate) fn new(md: &Metadata) -> Layouts {
        let index: std::collections::HashMap<u64, u32> = md
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i as u32))
            .collect();
        let plans: Vec<Vec<FieldPlan>> = md
            .classes
            .iter()
            .map(|c| {
                c.fields
                    .iter()
                    .map(|f| {
                        let target = md.class(f.type_id);
                        let kind = if f.constant_pool {
                            Kind::CpRef(f.type_id)
                        } else if let Some(k) = target.and_then(|t| primitive(&t.name)) {
                            k
                        } else if let Some(&i) = index.get(&f.type_id) {
                            Kind::Nested(i)
                        } else {
                            Kind::Unknown(f.type_id)
                        };
                        FieldPlan {
                            kind,
                            array: f.array,
                        }
                    })
                    .collect()
            })
            .collect();
        let prim: Vec<Option<Kind>> = md.classes.iter().map(|c| primitive(&c.name)).collect();
        let flat = (0..plans.len() as u32)
            .map(|i| {
                let mut steps = Vec::new();
                flatten(&plans, &prim, i, 0, &mut steps).map(|_| steps)
            })
            .collect();
        Layouts { plans, prim, flat }
    }

    /// Skips one value of class `class` (a whole record body, a pool entry, a nested value).
    pub(crate) fn skip_class(&self, c: &mut Cursor<'_>, class: u32, depth: usize) -> RawResult<()> {
        if depth > MAX_DEPTH {
            return Err(RawError::new(c.pos() as u64, Problem::TooDeep(MAX_DEPTH)));
        }
        if let Some(Some(steps)) = self.flat.get(class as usize) {
            return skip_steps(c, steps);
        }
        if let Some(Some(k)) = self.prim.get(class as usize) {
            return self.skip_kind(c, *k, depth);
        }
        let plan = self
            .plans
            .get(class as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for f in plan {
            self.skip_field(c, *f, depth)?;
        }
        Ok(())
    }

    /// Skips one field (an array of values when it is one).
    #[inline]
    pub(crate) fn skip_field(
        &self,
        c: &mut Cursor<'_>,
        f: FieldPlan,
        depth: usize,
    ) -> RawResult<()> {
        if f.array {
            let n = c.length(1)?;
            if let Kind::Nested(i) = f.kind {
                if let Some(Some(steps)) = self.flat.get(i as usize) {
                    return (0..n).try_for_each(|_| skip_steps(c, steps));
                }
            }
            for _ in 0..n {
                self.skip_kind(c, f.kind, depth)?;
            }
            Ok(())
        } else {
            self.skip_kind(c, f.kind, depth)
        }
    }

    #[inline]
    fn skip_kind(&self, c: &mut Cursor<'_>, k: Kind, depth: usize) -> RawResult<()> {
        match k {
            Kind::Bool | Kind::Byte => c.bytes(1).map(|_| ()),
            Kind::Varint(_) | Kind::CpRef(_) => c.skip_varint(),
            Kind::F32 => c.bytes(4).map(|_| ()),
            Kind::F64 => c.bytes(8).map(|_| ()),
            Kind::Str => c.skip_string(),
            Kind::Nested(i) => self.skip_class(c, i, depth + 1),
            Kind::Unknown(id) => Err(RawError::new(c.pos() as u64, Problem::UnknownType(id))),
        }
    }
}

/// Skips a value of a flat class.
#[inline]
fn skip_steps(c: &mut Cursor<'_>, steps: &[Step]) -> RawResult<()> {
    for s in steps {
        match *s {
            Step::Varints(n) => c.skip_varints(n as usize)?,
            Step::Fixed(n) => {
                c.bytes(n as usize)?;
            }
        }
    }
    Ok(())
}
