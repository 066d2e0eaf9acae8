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
        let plans = md
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
        let prim = md.classes.iter().map(|c| primitive(&c.name)).collect();
        Layouts { plans, prim }
    }

    /// Skips one value of class `class` (a whole record body, a pool entry, a nested value).
    pub(crate) fn skip_class(&self, c: &mut Cursor<'_>, class: u32, depth: usize) -> RawResult<()> {
        if depth > MAX_DEPTH {
            return Err(RawError::new(c.pos() as u64, Problem::TooDeep(MAX_DEPTH)));
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
