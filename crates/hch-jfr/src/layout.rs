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
    /// An inline value of a class whose fields, all the way down, take no bytes at all.
    Zero,
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

/// Most units (varints or bytes) a flat plan may stand for; larger classes use the generic path.
const MAX_FLAT_UNITS: u32 = 4096;
/// How deep nested classes are flattened (each level is computed once).
const MAX_FLAT_DEPTH: usize = 8;

/// Skip plans of every class, each computed once (memoized): `None` when a field has a
/// variable layout, the class nests too deep, or it stands for too many units.
fn flat_plans(plans: &[Vec<FieldPlan>], prim: &[Option<Kind>]) -> Vec<Option<Vec<Step>>> {
    let mut memo: Vec<Option<Option<Vec<Step>>>> = vec![None; plans.len()];
    for i in 0..plans.len() {
        flat_of(plans, prim, i as u32, 0, &mut memo);
    }
    memo.into_iter().map(Option::flatten).collect()
}

fn flat_of(
    plans: &[Vec<FieldPlan>],
    prim: &[Option<Kind>],
    class: u32,
    depth: usize,
    memo: &mut Vec<Option<Option<Vec<Step>>>>,
) -> Option<Vec<Step>> {
    let i = class as usize;
    if let Some(done) = memo.get(i)?.clone() {
        return done;
    }
    if depth > MAX_FLAT_DEPTH || prim.get(i)?.is_some() {
        return None;
    }
    memo[i] = Some(None); // a cycle through this class is not flat
    let mut steps: Vec<Step> = Vec::new();
    let mut units = 0u32;
    let mut ok = true;
    for f in plans.get(i)?.clone() {
        let sub = match (f.array, f.kind) {
            (true, _) | (_, Kind::Str | Kind::Unknown(_)) => None,
            (_, Kind::Varint(_) | Kind::CpRef(_)) => Some(vec![Step::Varints(1)]),
            (_, Kind::Bool | Kind::Byte) => Some(vec![Step::Fixed(1)]),
            (_, Kind::F32) => Some(vec![Step::Fixed(4)]),
            (_, Kind::F64) => Some(vec![Step::Fixed(8)]),
            (_, Kind::Zero) => Some(Vec::new()),
            (_, Kind::Nested(n)) => flat_of(plans, prim, n, depth + 1, memo),
        };
        let Some(sub) = sub else {
            ok = false;
            break;
        };
        for step in sub {
            let add = match step {
                Step::Varints(n) | Step::Fixed(n) => n,
            };
            units = units.saturating_add(add);
            match (steps.last_mut(), step) {
                (Some(Step::Varints(n)), Step::Varints(m)) => *n = n.saturating_add(m),
                (Some(Step::Fixed(n)), Step::Fixed(m)) => *n = n.saturating_add(m),
                _ => steps.push(step),
            }
        }
        if units > MAX_FLAT_UNITS {
            ok = false;
            break;
        }
    }
    let result = ok.then_some(steps);
    memo[i] = Some(result.clone());
    result
}

/// Which classes take no bytes at all (no primitive, string, reference or array anywhere
/// inside): such values are skipped without recursing, which would otherwise be exponential.
fn zero_width(plans: &[Vec<FieldPlan>], prim: &[Option<Kind>]) -> Vec<bool> {
    // Fixpoint: start from "all zero" and clear classes with any byte-taking field.
    let mut zero: Vec<bool> = prim.iter().map(|p| p.is_none()).collect();
    loop {
        let mut changed = false;
        for (i, fields) in plans.iter().enumerate() {
            if !zero[i] {
                continue;
            }
            let takes_bytes = fields.iter().any(|f| match f.kind {
                _ if f.array => true,
                Kind::Nested(n) => !zero.get(n as usize).copied().unwrap_or(false),
                Kind::Zero => false,
                _ => true,
            });
            if takes_bytes {
                zero[i] = false;
                changed = true;
            }
        }
        if !changed {
            return zero;
        }
    }
}

/// The fewest bytes one value of a kind takes: bounds array counts by the bytes that remain.
pub(crate) fn min_size(k: Kind) -> usize {
    match k {
        Kind::F32 => 4,
        Kind::F64 => 8,
        Kind::Zero => 0,
        _ => 1,
    }
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
        let mut plans: Vec<Vec<FieldPlan>> = md
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
        let zero = zero_width(&plans, &prim);
        for fields in &mut plans {
            for f in fields.iter_mut() {
                if matches!(f.kind, Kind::Nested(n) if zero[n as usize]) {
                    f.kind = Kind::Zero;
                }
            }
        }
        let flat = flat_plans(&plans, &prim);
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
            if f.kind == Kind::Zero {
                return Err(RawError::new(
                    c.pos() as u64,
                    Problem::Metadata("an array of values that take no bytes".into()),
                ));
            }
            let n = c.length(min_size(f.kind))?;
            if let Kind::Nested(i) = f.kind {
                if let Some(Some(steps)) = self.flat.get(i as usize) {
                    if let [Step::Varints(k)] = steps.as_slice() {
                        // Stack frames: n values of k varints are n * k varints in a row.
                        return c.skip_varints(n.saturating_mul(*k as usize));
                    }
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
            Kind::Zero => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: u32, count: usize) -> Vec<FieldPlan> {
        vec![
            FieldPlan {
                kind: Kind::Nested(n),
                array: false
            };
            count
        ]
    }

    /// Regression: crafted metadata whose classes nest 1000 fields of the class below made
    /// flattening take 1000^4 steps; zero-width classes made skipping exponential.
    #[test]
    fn wide_nesting_is_linear_and_zero_width_classes_take_no_recursion() {
        let long = vec![FieldPlan {
            kind: Kind::Varint(Width::Long),
            array: false,
        }];
        let plans = vec![
            long,
            nested(0, 1000),
            nested(1, 1000),
            nested(2, 1000),
            nested(3, 1000),
        ];
        let prim = vec![None; plans.len()];
        let t = std::time::Instant::now();
        let flat = flat_plans(&plans, &prim);
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(flat[0], Some(vec![Step::Varints(1)]));
        assert_eq!(flat[1], Some(vec![Step::Varints(1000)]));
        assert_eq!(flat[2], None, "a million units is not worth a flat plan");

        let empty = Vec::new();
        let plans = vec![empty, nested(0, 1000), nested(1, 1000)];
        let zero = zero_width(&plans, &[None, None, None]);
        assert_eq!(zero, vec![true, true, true]);
    }
}
